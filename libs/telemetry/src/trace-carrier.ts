/**
 * W3C trace context over NATS headers and gRPC metadata, passed explicitly from a handler to the
 * requests it makes (explicit-context.ts). A bad or missing `traceparent` starts a new trace; it is
 * never an error.
 *
 * Most traces are not recorded (1% are, by default), and an unrecorded trace leaves nothing anywhere,
 * so its ids carry no information: only its decision must travel, so the services downstream do not
 * sample it anew. Such traces share one per-process context (UNSAMPLED), whose `traceparent` is
 * written from a cached string and recognised on arrival by one pattern test: a sampled-out task costs
 * no span, id, context or header formatting in any service (issue 12).
 */
import type { Context, Span, SpanOptions, TextMapGetter, TextMapSetter, Tracer } from '@opentelemetry/api';
import { propagation, ROOT_CONTEXT, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';

/** A request's trace: which span its work hangs off and whether it is recorded. Opaque to callers. */
export type TraceContext = Context;
/** No trace: a request made under it starts a new one (recorded or not by the sample ratio). */
export const NO_TRACE: TraceContext = ROOT_CONTEXT;

const TRACEPARENT = 'traceparent';
/** Version 00, a trace that is not recorded (flags 00); anything else goes to the W3C propagator. */
const UNSAMPLED_TRACEPARENT_PATTERN = /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/;
const UNSAMPLED_SPAN = trace.wrapSpanContext({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.NONE });
/** Every trace this process does not record, wherever it was decided. */
const UNSAMPLED: TraceContext = trace.setSpan(ROOT_CONTEXT, UNSAMPLED_SPAN);
const UNSAMPLED_TRACEPARENT = `00-${UNSAMPLED_SPAN.spanContext().traceId}-${UNSAMPLED_SPAN.spanContext().spanId}-00`;

/** A trace this process does not record (a peer's request to record refused: gateway peer-admission.ts). */
export const NOT_RECORDED: TraceContext = UNSAMPLED;

/** Set by startTelemetry: whether this process traces, and the share of new traces it records. */
let tracing = false;
let rootSampleRatio = 1;
let sampleRandom: () => number = Math.random;

/** startTelemetry's switch (and tests'): `random` draws each new trace's decision. */
export function configureTracing(on: boolean, ratio = 1, random: () => number = Math.random): void {
  tracing = on;
  rootSampleRatio = ratio;
  sampleRandom = random;
}

/** The subset of nats' MsgHdrs we need, so this lib does not depend on nats. */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  has(key: string): boolean;
  keys(): string[];
}

const getter: TextMapGetter<HeaderCarrier> = {
  keys: (c) => c.keys(),
  get: (c, key) => (c.has(key) ? c.get(key) : undefined),
};

const setter: TextMapSetter<HeaderCarrier> = {
  set: (c, key, value) => c.set(key, value),
};

export function injectTraceContext(headers: HeaderCarrier, ctx: TraceContext): void {
  if (ctx === UNSAMPLED) headers.set(TRACEPARENT, UNSAMPLED_TRACEPARENT);
  else propagation.inject(ctx, headers, setter);
}

export function extractTraceContext(headers: HeaderCarrier | undefined): TraceContext {
  if (!headers?.has(TRACEPARENT)) return ROOT_CONTEXT;
  const value = headers.get(TRACEPARENT);
  // A caller's decision not to record: its ids do not matter (see the top of this file).
  if (UNSAMPLED_TRACEPARENT_PATTERN.test(value)) return UNSAMPLED;
  return propagation.extract(ROOT_CONTEXT, headers, getter);
}

/**
 * Whether this process traces at all (startTelemetry started a tracer provider). The bus skips
 * spans and header parsing on every message when this is false.
 */
export function isTracing(): boolean {
  return tracing;
}

/**
 * Starts a span under `parent`, with the context that makes it the parent of what its work calls.
 * With no parent this decides whether the new trace is recorded (the sample ratio); under a trace
 * that is not recorded a child would not be either (parent-based sampling), so none is made: the
 * unrecorded context (whose span's end and status are no-ops) passes on, and with it the decision.
 */
export function startChildSpan(tracer: Tracer, name: string, options: SpanOptions, parent: TraceContext): { span: Span; trace: TraceContext } {
  const parentSpan = trace.getSpan(parent);
  if (parentSpan === undefined ? !(sampleRandom() < rootSampleRatio) : (parentSpan.spanContext().traceFlags & TraceFlags.SAMPLED) === 0 && !parentSpan.isRecording()) {
    return { span: UNSAMPLED_SPAN, trace: UNSAMPLED };
  }
  const span = tracer.startSpan(name, options, parent);
  return { span, trace: trace.setSpan(parent, span) };
}

/**
 * `work` in a child span of `parent` (startChildSpan), given the span's context to pass on: a
 * rejection marks the span as failed, and the span ends when the work settles.
 */
export function inChildSpan<T>(tracer: Tracer, name: string, options: SpanOptions, parent: TraceContext, work: (trace: TraceContext) => Promise<T>): Promise<T> {
  // Under a trace not recorded nothing is: no span, no promises around the work.
  if (parent === UNSAMPLED) return work(UNSAMPLED);
  const child = startChildSpan(tracer, name, options, parent);
  return work(child.trace)
    .catch((err: unknown) => {
      child.span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    })
    .finally(() => child.span.end());
}

/** Whether the span of `ctx` is recorded (sampled): only then do events carry its context. */
export function isSampled(ctx: TraceContext): boolean {
  const span = trace.getSpan(ctx);
  return span !== undefined && (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
}

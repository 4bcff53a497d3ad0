/**
 * W3C trace context over NATS headers and gRPC metadata, passed explicitly from a handler to the
 * requests it makes (explicit-context.ts). A bad or missing `traceparent` starts a new trace; it is
 * never an error.
 */
import type { Context, Span, SpanOptions, TextMapGetter, TextMapSetter, Tracer } from '@opentelemetry/api';
import { propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';

/** A request's trace: which span its work hangs off and whether it is recorded. Opaque to callers. */
export type TraceContext = Context;
/** No trace: a request made under it starts a new one (recorded or not by the sample ratio). */
export const NO_TRACE: TraceContext = ROOT_CONTEXT;

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
  propagation.inject(ctx, headers, setter);
}

export function extractTraceContext(headers: HeaderCarrier | undefined): TraceContext {
  return headers ? propagation.extract(ROOT_CONTEXT, headers, getter) : ROOT_CONTEXT;
}

/**
 * Whether this process traces at all: startTelemetry installs a propagator only together with a
 * tracer provider, and without one the API's no-op propagator names no fields. The bus skips
 * spans, header parsing and context switches on every message when this is false.
 */
export function isTracing(): boolean {
  return propagation.fields().length > 0;
}

/** Starts a span under `parent`, with the context that makes it the parent of what its work calls. */
export function startChildSpan(tracer: Tracer, name: string, options: SpanOptions, parent: TraceContext): { span: Span; trace: TraceContext } {
  const span = tracer.startSpan(name, options, parent);
  return { span, trace: trace.setSpan(parent, span) };
}

/** Whether the span of `ctx` is recorded (sampled): only then do events carry its context. */
export function isSampled(ctx: TraceContext): boolean {
  const span = trace.getSpan(ctx);
  return span !== undefined && (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
}

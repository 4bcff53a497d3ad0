/**
 * W3C trace context over NATS headers. A bad or missing `traceparent` starts a new trace; it is
 * never an error.
 */
import type { Context, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';

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

export function injectTraceContext(headers: HeaderCarrier, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, setter);
}

export function extractTraceContext(headers: HeaderCarrier | undefined): Context {
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

/** Whether the span active in `ctx` is recorded (sampled): only then do events carry its context. */
export function isSampled(ctx: Context = context.active()): boolean {
  const span = trace.getSpan(ctx);
  return span !== undefined && (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
}

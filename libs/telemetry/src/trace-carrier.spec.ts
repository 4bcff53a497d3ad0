import type { Span, Tracer } from '@opentelemetry/api';
import { propagation, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { HeaderCarrier } from './trace-carrier';
import { configureTracing, extractTraceContext, inChildSpan, injectTraceContext, isSampled, NO_TRACE, NOT_RECORDED, startChildSpan } from './trace-carrier';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const remote = (traceFlags: number) => trace.setSpan(NO_TRACE, trace.wrapSpanContext({ traceId: TRACE_ID, spanId: 'b7ad6b7169203331', traceFlags, isRemote: true }));

/** A tracer that counts the spans it is asked for, each a non-recording span with a fixed context. */
function countingTracer(traceFlags: number): Tracer & { started: number } {
  const tracer = {
    started: 0,
    startSpan(): Span {
      tracer.started += 1;
      return trace.wrapSpanContext({ traceId: TRACE_ID, spanId: '00f067aa0ba902b7', traceFlags });
    },
    startActiveSpan() {
      throw new Error('not used');
    },
  };
  return tracer;
}

function headers(init: Record<string, string> = {}): HeaderCarrier & { map: Map<string, string> } {
  const map = new Map(Object.entries(init));
  return { map, get: (k) => map.get(k) ?? '', set: (k, v) => void map.set(k, v), has: (k) => map.has(k), keys: () => [...map.keys()] };
}

beforeAll(() => propagation.setGlobalPropagator(new W3CTraceContextPropagator()));
afterEach(() => configureTracing(false));

describe('startChildSpan', () => {
  it('makes no span under a trace that is not recorded: the decision passes on', () => {
    const tracer = countingTracer(TraceFlags.NONE);
    const child = startChildSpan(tracer, 'request x', {}, remote(TraceFlags.NONE));
    expect(tracer.started).toBe(0);
    expect(isSampled(child.trace)).toBe(false);
    expect(trace.getSpan(child.trace)?.spanContext().traceFlags).toBe(TraceFlags.NONE);
    child.span.end(); // a no-op on a non-recording span
  });

  it('starts a child of a recorded trace, and draws a new trace at the sample ratio', () => {
    const sampled = countingTracer(TraceFlags.SAMPLED);
    const child = startChildSpan(sampled, 'request x', {}, remote(TraceFlags.SAMPLED));
    expect(sampled.started).toBe(1);
    expect(trace.getSpan(child.trace)).toBe(child.span);
    expect(isSampled(child.trace)).toBe(true);
    const draws = [0.3, 0.7];
    configureTracing(true, 0.5, () => draws.shift() ?? 1);
    const fresh = countingTracer(TraceFlags.SAMPLED);
    expect(isSampled(startChildSpan(fresh, 'request y', {}, NO_TRACE).trace)).toBe(true); // 0.3 < 0.5
    expect(isSampled(startChildSpan(fresh, 'request z', {}, NO_TRACE).trace)).toBe(false); // 0.7
    expect(fresh.started).toBe(1);
  });
});

describe('inChildSpan', () => {
  it('runs the work in the child span, ends the span when it settles, and marks a rejection as failed', async () => {
    const events: string[] = [];
    const span = trace.wrapSpanContext({ traceId: TRACE_ID, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED });
    span.setStatus = (status) => (events.push(`status ${status.code} ${status.message ?? ''}`), span);
    span.end = () => void events.push('end');
    const tracer = { startSpan: () => span, startActiveSpan: () => undefined } as unknown as Tracer;
    const parent = remote(TraceFlags.SAMPLED);
    await expect(inChildSpan(tracer, 'ok', {}, parent, async (t) => trace.getSpan(t))).resolves.toBe(span);
    expect(events).toEqual(['end']);
    await expect(inChildSpan(tracer, 'bad', {}, parent, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(events).toEqual(['end', `status ${SpanStatusCode.ERROR} boom`, 'end']);
  });

  it('hands the work its own promise under a trace not recorded: no span asked for, nothing wrapped around it', async () => {
    const tracer = countingTracer(TraceFlags.NONE);
    const work = Promise.resolve('done');
    const seen: unknown[] = [];
    const ran = inChildSpan(tracer, 'request x', {}, NOT_RECORDED, (t) => (seen.push(t), work));
    expect(ran).toBe(work);
    expect(seen).toEqual([NOT_RECORDED]);
    expect(tracer.started).toBe(0);
    await expect(ran).resolves.toBe('done');
  });
});

describe('traceparent on the wire', () => {
  it('reads a recorded trace with the W3C propagator and writes it back as a child of the same trace', () => {
    const ctx = extractTraceContext(headers({ traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` }));
    expect(isSampled(ctx)).toBe(true);
    const out = headers();
    injectTraceContext(out, ctx);
    expect(out.map.get('traceparent')).toBe(`00-${TRACE_ID}-b7ad6b7169203331-01`);
  });

  it('passes a decision not to record on as one cached traceparent, whatever ids it came with', () => {
    const a = extractTraceContext(headers({ traceparent: `00-${TRACE_ID}-b7ad6b7169203331-00` }));
    const b = extractTraceContext(headers({ traceparent: '00-11111111111111111111111111111111-2222222222222222-00' }));
    expect(a).toBe(b);
    expect(isSampled(a)).toBe(false);
    const out = headers();
    injectTraceContext(out, startChildSpan(countingTracer(TraceFlags.NONE), 'request', {}, a).trace);
    expect(out.map.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });

  it('starts a new trace on a missing or malformed traceparent', () => {
    expect(extractTraceContext(undefined)).toBe(NO_TRACE);
    expect(extractTraceContext(headers())).toBe(NO_TRACE);
    expect(trace.getSpan(extractTraceContext(headers({ traceparent: 'not-a-traceparent' })))).toBeUndefined();
  });
});

import { CreditBalance, HealthResponse, RouterHealth, TaskFinished, TaskFinishedEvents } from '@swarm/contracts';
import { silentLogger, startTelemetry } from '@swarm/telemetry';
import { startNatsServer, waitFor } from '@swarm/testing';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { connect, headers } from 'nats';
import { startBusService } from './index';

// One telemetry per file: OpenTelemetry's globals are registered once per process (jest: per file).
describe('bus - W3C trace context, every trace sampled', () => {
  it('carries one trace id through a chain of services, on its events too, and starts a new trace on a bad traceparent', async () => {
    const spans = new InMemorySpanExporter();
    const telemetry = startTelemetry({ serviceName: 'trace-test', nodeId: 'n1', sampleRatio: 1, spanProcessors: [new SimpleSpanProcessor(spans)] }, silentLogger());
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const svc = await startBusService({ nc, log: silentLogger(), name: 'chain-svc', version: '0.1.0', description: 'test', nodeId: 'n1' });
    const seen: string[] = [];
    svc.serve(RouterHealth, async (_req, ctx) => {
      await svc.client.request(CreditBalance, { account: 'inner' }, { trace: ctx.trace });
      svc.client.publish(TaskFinishedEvents, TaskFinished.fromPartial({ taskId: 't-1' }), ctx.trace);
      return HealthResponse.fromPartial({ service: 'chain' });
    });
    svc.serve(CreditBalance, (req, ctx) => {
      seen.push(ctx.headers?.get('traceparent') ?? '');
      return { account: req.account, available: 0n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false };
    });
    const events: string[] = [];
    const sub = nc.subscribe(TaskFinishedEvents.subject, { callback: (_e, m) => events.push(m.headers?.get('traceparent') ?? '') });
    try {
      const send = async (traceparent: string) => {
        const h = headers();
        h.set('traceparent', traceparent);
        const reply = await nc.request(RouterHealth.subject, RouterHealth.request.encode({}).finish(), { headers: h, timeout: 2000 });
        expect(reply.headers?.has('swarm-error') ?? false).toBe(false);
        return seen.at(-1) ?? '';
      };
      const inner = await send('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      expect(inner).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      expect(inner).not.toContain('b7ad6b7169203331'); // a new span of the same trace
      await waitFor(() => events.length === 1, { timeoutMs: 2000 });
      expect(events[0]).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      // A caller's decision not to record is followed, whatever this process's ratio (1 here).
      const finishedBefore = spans.getFinishedSpans().length;
      const unrecorded = await send('00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00');
      expect(unrecorded).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      await waitFor(() => events.length === 2, { timeoutMs: 2000 });
      expect(events[1]).toBe(''); // an unrecorded trace's events go bare
      expect(spans.getFinishedSpans()).toHaveLength(finishedBefore);
      const fresh = await send('not-a-traceparent');
      expect(fresh).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(fresh).not.toContain('0af7651916cd43dd8448eb211c80319c');
      const names = spans
        .getFinishedSpans()
        .filter((s) => s.spanContext().traceId === '0af7651916cd43dd8448eb211c80319c')
        .map((s) => s.name);
      expect(names.sort()).toEqual([`request ${CreditBalance.subject}`, CreditBalance.subject, RouterHealth.subject].sort());
    } finally {
      sub.unsubscribe();
      await svc.stop(1000);
      await nc.close();
      await server.stop();
      await telemetry.shutdown();
    }
  });
});

import { CreditBalance, HealthResponse, RouterHealth, TaskFinished, TaskFinishedEvents } from '@swarm/contracts';
import { silentLogger, startTelemetry } from '@swarm/telemetry';
import { startNatsServer, waitFor } from '@swarm/testing';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { connect, headers } from 'nats';
import { startBusService } from './index';

// One telemetry per file: OpenTelemetry's globals are registered once per process (jest: per file).
describe('bus - trace sampling follows the first span', () => {
  it('records no span of an unsampled trace, passes the decision on with each request and sends its events bare', async () => {
    const spans = new InMemorySpanExporter();
    const telemetry = startTelemetry({ serviceName: 'sampling-test', nodeId: 'n1', sampleRatio: 0, spanProcessors: [new SimpleSpanProcessor(spans)] }, silentLogger());
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
    const events: Array<string | undefined> = [];
    const sub = nc.subscribe(TaskFinishedEvents.subject, { callback: (_e, m) => events.push(m.headers?.get('traceparent')) });
    const send = async (traceparent?: string) => {
      const h = headers();
      if (traceparent) h.set('traceparent', traceparent);
      await nc.request(RouterHealth.subject, RouterHealth.request.encode({}).finish(), { headers: h, timeout: 2000 });
      return seen.at(-1) ?? '';
    };
    try {
      // A new trace at ratio 0: not sampled, and the inner service is told so (flags 00).
      const inner = await send();
      expect(inner).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      await waitFor(() => events.length === 1, { timeoutMs: 2000 });
      expect(events).toEqual([undefined]);
      expect(spans.getFinishedSpans()).toEqual([]);
      // A caller's sampled trace is followed whatever the local ratio.
      const followed = await send('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      expect(followed).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      await waitFor(() => events.length === 2, { timeoutMs: 2000 });
      expect(events[1]).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/);
      expect(spans.getFinishedSpans().map((s) => s.spanContext().traceId)).toEqual(Array(3).fill('0af7651916cd43dd8448eb211c80319c'));
    } finally {
      sub.unsubscribe();
      await svc.stop(1000);
      await nc.close();
      await server.stop();
      await telemetry.shutdown();
    }
  });
});

import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { systemClock, systemTime } from '@swarm/determinism';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import { isSampled, NO_TRACE, silentLogger, startTelemetry } from '@swarm/telemetry';
import { tempDir } from '@swarm/testing';
import { dialPeer, startGatewayServer } from './index';

// One telemetry per file: OpenTelemetry's globals are registered once per process (jest: per file).
describe('gateway - W3C trace context in gRPC metadata', () => {
  it("runs the peer's handler in the caller's trace", async () => {
    const spans = new InMemorySpanExporter();
    const telemetry = startTelemetry({ serviceName: 'gateway-trace-test', nodeId: 'n1', sampleRatio: 1, spanProcessors: [new SimpleSpanProcessor(spans)] }, silentLogger());
    const dirs = await Promise.all([tempDir('swarm-gw-'), tempDir('swarm-gw-')]);
    const [a, b] = await Promise.all(dirs.map((d) => loadOrCreateNodeCertificate(d.path, systemClock)));
    if (!a || !b) throw new Error('no certificates');
    let handlerTraceId: string | undefined;
    let handlerSampled: boolean | undefined;
    const server = await startGatewayServer({
      certificate: a,
      listen: { host: '127.0.0.1', port: 0 },
      limits: {
        maxMessageBytes: 64 * 1024,
        maxDeadlineMs: 5_000,
        handshakeTimeoutMs: 2_000,
        peer: { maxInflight: 8, ratePerSecond: 100, burst: 100, recordedPerSecond: 1, recordedBurst: 3 },
      },
      handlers: {
        nodeInfo: ({ peerId, trace: callTrace }) => {
          handlerTraceId = trace.getSpan(callTrace)?.spanContext().traceId;
          handlerSampled = isSampled(callTrace);
          return { nodeId: a.nodeId, version: 'test', advertisedAddress: '', peerNodeId: peerId, powNonce: 0n };
        },
        ping: ({ request }) => ({ payload: request.payload }),
      },
      log: silentLogger(),
      time: systemTime,
    });
    const client = dialPeer({ certificate: b, peer: { nodeId: a.nodeId, address: server.address }, clock: systemClock });
    try {
      const root = trace.getTracer('test').startSpan('submit');
      await client.call('nodeInfo', {}, { trace: trace.setSpan(NO_TRACE, root) });
      root.end();
      const callerTraceId = root.spanContext().traceId;
      expect(handlerTraceId).toBe(callerTraceId);
      const inTrace = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === callerTraceId);
      expect(inTrace.map((s) => s.name).sort()).toEqual(['/swarm.v1.PeerService/NodeInfo', 'request /swarm.v1.PeerService/NodeInfo', 'submit']);
      const serverSpan = inTrace.find((s) => s.name === '/swarm.v1.PeerService/NodeInfo');
      expect(serverSpan?.attributes['swarm.peer_id']).toBe(b.nodeId);
      // A caller's decision not to record crosses gRPC too, whatever this process's ratio (1 here).
      const recorded = spans.getFinishedSpans().length;
      const unrecorded = trace.setSpan(NO_TRACE, trace.wrapSpanContext({ traceId: '1af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 0 }));
      await client.call('nodeInfo', {}, { trace: unrecorded });
      expect(handlerSampled).toBe(false);
      expect(spans.getFinishedSpans()).toHaveLength(recorded);

      // A peer asking for every call to be recorded gets its budget (burst 3, 1 a second), no more:
      // the first call above took one of the 3.
      const started = Date.now();
      const asked: boolean[] = [];
      for (let i = 0; i < 20; i++) {
        const root = trace.getTracer('test').startSpan(`submit ${i}`);
        await client.call('nodeInfo', {}, { trace: trace.setSpan(NO_TRACE, root) });
        root.end();
        asked.push(handlerSampled === true);
      }
      const budget = 2 + Math.floor((Date.now() - started) / 1000) + 1;
      expect(asked.slice(0, 2)).toEqual([true, true]);
      expect(asked.filter(Boolean).length).toBeLessThanOrEqual(budget);
      const serverSpans = spans.getFinishedSpans().filter((s) => s.name === '/swarm.v1.PeerService/NodeInfo');
      expect(serverSpans.length).toBe(1 + asked.filter(Boolean).length);
    } finally {
      client.close();
      await server.stop(1_000);
      await Promise.all(dirs.map((d) => d.remove()));
      await telemetry.shutdown();
    }
  });
});

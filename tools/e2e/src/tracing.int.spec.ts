import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectSwarm } from '@swarm/client';
import { fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, priceOf } from '@swarm/skills';
import type { SwarmNodeProcess } from '@swarm/testing';
import { spawnSwarmNode, tempDir } from '@swarm/testing';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

interface ReceivedSpan extends OtlpSpan {
  service: string;
}

/** A real OTLP/HTTP receiver (JSON encoding, the exporter's default) that keeps every span. */
function startOtlpReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[] }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body) as {
          resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
        };
        for (const rs of doc.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans })));
}

describe('tracing - one task is one trace across the node', () => {
  it('exports router, credit and executor spans of a submit under one trace id over OTLP/HTTP', async () => {
    const otlp = await startOtlpReceiver();
    const home = await tempDir('swarm-trace-');
    let node: SwarmNodeProcess | undefined;
    try {
      // Every task traced: a sampled-out task would leave nothing to assert on.
      node = await spawnSwarmNode(home.path, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, SWARM_TRACE_SAMPLE_RATIO: '1' } });
      const client = await connectSwarm(node.natsUrl, { nkeyFile: node.clientKeyFile });
      // A tiny vecadd takes the folded path (run, then one charge); a matmul 128 is past
      // SWARM_ROUTER_FOLD_MAX_WORK and takes the escrow path (reserve, run, settle).
      const inputs = demoInputs('vecadd', 64, seededRandom(5));
      const res = await client.submit({ skill: 'vecadd', inputs, budget: priceOf('vecadd', inputs.map(fromTensor)), timeoutMs: 20_000 });
      const matmul = demoInputs('matmul', 128, seededRandom(6));
      await client.submit({ skill: 'matmul', inputs: matmul, budget: priceOf('matmul', matmul.map(fromTensor)), timeoutMs: 20_000 });
      await client.close();
      expect(await node.stop()).toBe(0); // shutdown flushes each service's span batch

      const submits = otlp.spans.filter((s) => s.service === 'router-svc' && s.name === 'swarm.v1.router.submit');
      expect(submits).toHaveLength(2);
      const traces = submits.map((submit) => otlp.spans.filter((s) => s.traceId === submit.traceId));
      const served = traces.map((trace) => trace.filter((s) => !s.name.startsWith('request ')).map((s) => `${s.service} ${s.name}`));
      const common = ['router-svc swarm.v1.router.submit', 'executor-svc swarm.v1.executor.execute'];
      expect(served).toEqual(
        expect.arrayContaining([
          expect.arrayContaining([...common, 'credit-svc swarm.v1.credit.charge']),
          expect.arrayContaining([...common, 'credit-svc swarm.v1.credit.reserve', 'credit-svc swarm.v1.credit.settle']),
        ]),
      );
      for (const trace of traces) {
        // Every server span outside the router hangs off the client span of the service that called it.
        const byId = new Map(trace.map((s) => [s.spanId, s]));
        for (const s of trace.filter((x) => x.service !== 'router-svc' && !x.name.startsWith('request '))) {
          const parent = byId.get(s.parentSpanId ?? '');
          expect({ span: s.name, parent: parent?.name }).toEqual({ span: s.name, parent: `request ${s.name}` });
          expect(parent?.service).not.toBe(s.service);
        }
      }
      expect(res.taskId).toMatch(/^task-/);
    } finally {
      // A failed assertion must not leave the node running: its pipes would keep jest alive.
      await node?.stop();
      otlp.server.close();
      await home.remove();
    }
  }, 120_000);
});

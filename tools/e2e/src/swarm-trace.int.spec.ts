/**
 * Issue 13: one task is one trace across two nodes. Two real nodes (startNode, as `swarm up` runs
 * them) export spans over OTLP/HTTP to one receiver in this test; a vecadd submitted on A runs on
 * B, A's only provider of it. The W3C traceparent rides NATS headers on each bus hop and gRPC
 * metadata between the gateways, so A's router and gateway and B's gateway and executor all
 * record spans of the one trace, and B's spans hang off A's.
 */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import { fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import type { RunningNode } from '@swarm/node';
import { startNode } from '@swarm/node';
import { demoInputs, priceOf, SKILL_NAMES } from '@swarm/skills';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import type { RegistryProbe } from './swarm-processes';
import { registryProbe } from './swarm-processes';

const TEST_TIMEOUT_MS = 90_000;
jest.setTimeout(TEST_TIMEOUT_MS);

const SKILL = 'vecadd';
/** Every task traced (a sampled-out one leaves nothing to assert on); light nodes on a small machine. */
const ENV = { SWARM_TRACE_SAMPLE_RATIO: '1', SWARM_EXECUTOR_THREADS: '1', SWARM_LOG_LEVEL: 'warn' };
/** Bounds a hang on a busy machine; not a speed. */
const DISCOVERY_MS = 30_000;
const RECEIVER_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

interface ReceivedSpan extends OtlpSpan {
  service: string;
  nodeId: string;
}

interface OtlpExport {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

/** A real OTLP/HTTP receiver (JSON, the exporter's default encoding) keeping every span with its service and node. */
function startOtlpReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[] }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= RECEIVER_BODY_LIMIT_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      if (req.url === '/v1/traces' && size <= RECEIVER_BODY_LIMIT_BYTES) {
        const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
        for (const rs of doc.resourceSpans) {
          const attr = (key: string) => rs.resource.attributes.find((a) => a.key === key)?.value.stringValue ?? '?';
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service: attr('service.name'), nodeId: attr('swarm.node_id') });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans })));
}

describe('swarm trace - one task is one trace across two nodes', () => {
  const homes: TempDir[] = [];
  const nodes: RunningNode[] = [];
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>> | undefined;
  let client: SwarmClient | undefined;
  let registry: RegistryProbe | undefined;

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await registry?.close().catch(() => undefined);
    // A failed assertion must not leave nodes running: their pipes would keep jest alive.
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(homes.map((h) => h.remove()));
    otlp?.server.closeAllConnections();
    otlp?.server.close();
  }, 60_000);

  it("exports A's router and gateway and B's gateway and executor spans of a remote task under one trace id, B's under A's", async () => {
    otlp = await startOtlpReceiver();
    const env = { ...ENV, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url };
    for (const name of ['b', 'a']) homes.push(await tempDir(`swarm-trace-${name}-`));
    const [homeB, homeA] = homes as [TempDir, TempDir];
    // B alone runs the skill; A runs every other one and joins through B.
    const b = await startNode({ home: homeB.path, skills: [SKILL], env });
    nodes.push(b);
    const a = await startNode({ home: homeA.path, seeds: [b.peerAddress], skills: SKILL_NAMES.filter((s) => s !== SKILL), env });
    nodes.push(a);
    registry = await registryProbe(a.natsUrl, a.home);
    const probe = registry;
    await waitFor(async () => (await probe.providers(SKILL)).providers.some((p) => p.nodeId === b.nodeId && !p.local), {
      timeoutMs: DISCOVERY_MS,
      intervalMs: 250,
      what: `node A finds node B as a provider of ${SKILL}`,
    });
    // Closed while A's bus is up: a connection left open would keep reconnecting to a stopped node.
    await probe.close();
    registry = undefined;

    client = await connectSwarm(a.natsUrl, { nkeyFile: a.clientKeyFile });
    const inputs = demoInputs(SKILL, 64, seededRandom(13));
    const res = await client.submit({ skill: SKILL, inputs, budget: priceOf(SKILL, inputs.map(fromTensor)), timeoutMs: 20_000 });
    expect(res.providerId).toBe(b.nodeId);
    await client.close();
    client = undefined;
    // Shutdown flushes each service's span batch: A first (its router's span ends last).
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);

    const spans = otlp.spans;
    const submits = spans.filter((s) => s.nodeId === a.nodeId && s.service === 'router-svc' && s.name === 'swarm.v1.router.submit');
    expect(submits).toHaveLength(1);
    const traceId = submits[0]?.traceId;
    const trace = spans.filter((s) => s.traceId === traceId);
    const on = (node: RunningNode, service: string, name: string) => trace.find((s) => s.nodeId === node.nodeId && s.service === service && s.name === name);
    const aRouter = on(a, 'router-svc', 'swarm.v1.router.submit');
    const aGateway = on(a, 'gateway-svc', 'swarm.v1.gateway.execute');
    const bGateway = on(b, 'gateway-svc', '/swarm.v1.PeerService/Execute');
    const bExecutor = on(b, 'executor-svc', 'swarm.v1.executor.execute');
    const found = { aRouter: !!aRouter, aGateway: !!aGateway, bGateway: !!bGateway, bExecutor: !!bExecutor };
    expect(found).toEqual({ aRouter: true, aGateway: true, bGateway: true, bExecutor: true });

    // Parent chains within the trace: B's executor -> B's gateway -> A's gateway -> A's router.
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const chain = (from: ReceivedSpan | undefined): string[] => {
      const names: string[] = [];
      for (let s = from; s; s = byId.get(s.parentSpanId ?? '')) names.push(`${s.nodeId === a.nodeId ? 'A' : 'B'} ${s.service} ${s.name}`);
      return names;
    };
    expect(chain(bExecutor)).toEqual([
      'B executor-svc swarm.v1.executor.execute',
      'B gateway-svc request swarm.v1.executor.execute',
      'B gateway-svc /swarm.v1.PeerService/Execute',
      'A gateway-svc request /swarm.v1.PeerService/Execute',
      'A gateway-svc swarm.v1.gateway.execute',
      'A router-svc request swarm.v1.gateway.execute',
      'A router-svc swarm.v1.router.submit',
    ]);
    // The submit is the trace's root: nothing above it was lost.
    expect(aRouter?.parentSpanId ?? '').toBe('');
  });
});

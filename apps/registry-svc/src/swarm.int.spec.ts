import type { BusService } from '@swarm/bus';
import { createBusClient, startBusService } from '@swarm/bus';
import type { Provider } from '@swarm/contracts';
import { ErrorCode, EXECUTOR_QUEUE, ExecutorSkills, RegistryFindProviders, RegistryHealth, RegistryNodeRecord, RegistryPeers } from '@swarm/contracts';
import { systemClock } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadRegistryConfig } from './config';
import { MISSING_FRESH_MS } from './node-record-lookup';
import { startRegistryService } from './service';
import type { LoopbackRelay } from './test-fixtures/loopback-relay';
import { createLoopbackRelay } from './test-fixtures/loopback-relay';
import type { TestSigner } from './test-fixtures/test-signer';
import { createTestSigner, TEST_POW_DIFFICULTY } from './test-fixtures/test-signer';

jest.setTimeout(40_000);

const TTL_MS = 3_000;
/** The router's registry timeout: every answer must come within it. */
const ROUTER_REGISTRY_TIMEOUT_MS = 2_000;

interface Node {
  readonly name: string;
  readonly signer: TestSigner;
  readonly port: number;
  readonly server: NatsServerHandle;
  readonly dir: TempDir;
  readonly nc: NatsConnection;
  registry?: { stop(): Promise<void> };
  executor?: BusService;
}

async function startNode(name: string, port: number): Promise<Node> {
  const [server, dir] = await Promise.all([startNatsServer(), tempDir(`swarm-registry-${name}-`)]);
  return { name, signer: createTestSigner(), port, server, dir, nc: await connect({ servers: server.url }) };
}

async function startExecutor(node: Node, skills: readonly { name: string; price: bigint }[]): Promise<void> {
  const executor = await startBusService({ nc: node.nc, log: silentLogger(), name: 'executor-svc', version: '0.0.1', description: 'fake', nodeId: node.signer.nodeId });
  executor.serve(
    ExecutorSkills,
    () => ({
      skills: skills.map((s) => ({
        name: s.name,
        description: '',
        inputs: '',
        outputs: '',
        pricePerMwork: s.price,
        verification: '',
        verificationBound: '',
        verificationCost: '',
      })),
      backend: 'cpu',
    }),
    { queue: EXECUTOR_QUEUE },
  );
  node.executor = executor;
}

async function startRegistry(node: Node, seeds: readonly Node[]): Promise<void> {
  const config = loadRegistryConfig({
    SWARM_NATS_URL: node.server.url,
    SWARM_DATA_DIR: node.dir.path,
    SWARM_SEEDS: seeds.map((s) => `${s.signer.nodeId}@127.0.0.1:${s.port}`).join(','),
    SWARM_RECORD_TTL_MS: String(TTL_MS),
    SWARM_POW_DIFFICULTY: String(TEST_POW_DIFFICULTY),
    SWARM_NODE_CAPACITY: '3',
    SWARM_GRACE_MS: '500',
  });
  node.registry = await startRegistryService({ config, log: silentLogger(), nc: node.nc, nodeId: node.signer.nodeId });
}

/** FindProviders on `node`'s bus, checked to answer within the router's timeout. */
async function find(node: Node, skill: string): Promise<Provider[]> {
  const started = Date.now();
  const { providers } = await createBusClient(node.nc, silentLogger()).request(RegistryFindProviders, { skill }, { timeoutMs: ROUTER_REGISTRY_TIMEOUT_MS });
  expect(Date.now() - started).toBeLessThan(ROUTER_REGISTRY_TIMEOUT_MS);
  return providers;
}

const remoteIds = (providers: readonly Provider[]) => providers.filter((p) => !p.local).map((p) => p.nodeId);

describe('registry-svc - remote providers on the DHT, through the gateways (loopback relay)', () => {
  let a: Node;
  let b: Node;
  let c: Node;
  let relay: LoopbackRelay;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([startNode('a', 7501), startNode('b', 7502), startNode('c', 7503)]);
    relay = createLoopbackRelay({ clock: systemClock, powDifficulty: TEST_POW_DIFFICULTY });
    await startExecutor(a, [{ name: 'matmul', price: 5n }]);
    await startExecutor(b, [
      { name: 'matmul', price: 7n },
      { name: 'vecadd', price: 2n },
    ]);
    // b starts the swarm; a and c join through it. No gateway answers yet.
    await startRegistry(b, []);
    await startRegistry(a, [b]);
    await startRegistry(c, [b, c]);
  });

  afterAll(async () => {
    for (const node of [a, b, c]) {
      await node?.registry?.stop();
      await node?.executor?.stop(500);
    }
    await relay?.stop();
    for (const node of [a, b, c]) {
      await node?.nc.close();
      await Promise.all([node?.server.stop(), node?.dir.remove()]);
    }
  });

  it('serves local providers while the gateway is not up, and says it waits for it', async () => {
    const health = await createBusClient(a.nc, silentLogger()).request(RegistryHealth, {});
    expect(health.details).toMatchObject({ mode: 'swarm', dht: 'waiting for the gateway', seeds: '1' });
    expect(await find(a, 'matmul')).toEqual([expect.objectContaining({ nodeId: a.signer.nodeId, local: true, pricePerMwork: 5n, capacity: 3 })]);
    await expect(createBusClient(a.nc, silentLogger()).request(RegistryPeers, {})).resolves.toEqual({ peers: [] });
  });

  it('finds the skill another node provides, with its endpoint, price, capacity, expiry and round trip, and never its own record as remote', async () => {
    for (const node of [b, a, c]) await relay.add(node.nc, { signer: node.signer, port: node.port });
    const found = await waitFor(
      async () => {
        const providers = await find(a, 'matmul');
        return remoteIds(providers).includes(b.signer.nodeId) ? providers : undefined;
      },
      { timeoutMs: 15_000, what: "b's matmul seen from a" },
    );
    const now = Date.now();
    expect(found[0]).toMatchObject({ nodeId: a.signer.nodeId, local: true });
    expect(remoteIds(found)).toEqual([b.signer.nodeId]);
    const remote = found[1];
    expect(remote).toMatchObject({
      nodeId: b.signer.nodeId,
      local: false,
      skills: ['matmul', 'vecadd'],
      endpoint: `${b.signer.nodeId}@127.0.0.1:${b.port}`,
      load: 0,
      capacity: 3,
      pricePerMwork: 7n,
    });
    expect(remote.rttMs).toBeGreaterThan(0);
    expect(remote.rttMs).toBeLessThan(ROUTER_REGISTRY_TIMEOUT_MS);
    expect(Number(remote.expiresAtMs)).toBeGreaterThan(now);
    expect(Number(remote.expiresAtMs)).toBeLessThanOrEqual(now + TTL_MS);

    // c has no executor: it lists b alone, at b's price for the skill asked.
    const onC = await waitFor(async () => (await find(c, 'vecadd')).find((p) => p.nodeId === b.signer.nodeId), { timeoutMs: 10_000, what: "b's vecadd seen from c" });
    expect(onC).toMatchObject({ local: false, pricePerMwork: 2n });
    expect(await find(c, 'nosuchskill')).toEqual([]);
  });

  it('lists its DHT contacts as peers and reports the swarm in its health', async () => {
    const peers = await waitFor(
      async () => {
        const { peers } = await createBusClient(a.nc, silentLogger()).request(RegistryPeers, {});
        return peers.length === 2 ? peers : undefined;
      },
      { timeoutMs: 10_000, what: 'a knows b and c' },
    );
    expect(peers.map((p) => p.nodeId).sort()).toEqual([b.signer.nodeId, c.signer.nodeId].sort());
    const toB = peers.find((p) => p.nodeId === b.signer.nodeId);
    expect(toB).toMatchObject({ address: `127.0.0.1:${b.port}` });
    expect(toB?.rttMs).toBeGreaterThan(0);
    expect(Number(toB?.lastSeenMs)).toBeGreaterThan(Date.now() - 60_000);
    // c provides nothing, so no lookup ever timed it: listing the peers measures it.
    expect(peers.find((p) => p.nodeId === c.signer.nodeId)?.rttMs).toBeGreaterThan(0);
    const health = await createBusClient(a.nc, silentLogger()).request(RegistryHealth, {});
    expect(health.details).toMatchObject({ mode: 'swarm', dht: 'running', contacts: '2', seeds: '1', seedsReached: '1', skillsPublished: '1' });
    // c's seed list names c itself: it is not counted as a seed.
    const healthC = await createBusClient(c.nc, silentLogger()).request(RegistryHealth, {});
    expect(healthC.details).toMatchObject({ seeds: '1', seedsReached: '1', skillsPublished: '0' });
  });

  it('publishes every node under its node key, skills or none, and answers FindNodeRecord from the DHT', async () => {
    const bus = createBusClient(a.nc, silentLogger());
    // c runs no executor: it only submits, and still has its record on the DHT.
    const healthC = await createBusClient(c.nc, silentLogger()).request(RegistryHealth, {});
    expect(healthC.details).toMatchObject({ skillsPublished: '0', nodeRecordPublished: 'true' });
    const now = Date.now();
    const ofC = await waitFor(
      async () => {
        const r = await bus.request(RegistryNodeRecord, { nodeId: c.signer.nodeId }, { timeoutMs: ROUTER_REGISTRY_TIMEOUT_MS });
        return r.found ? r : undefined;
      },
      { timeoutMs: 15_000, what: "c's record seen from a" },
    );
    expect(ofC.gatewayAddress).toBe(`127.0.0.1:${c.port}`);
    expect(Number(ofC.expiresAtMs)).toBeGreaterThan(now);
    expect(Number(ofC.expiresAtMs)).toBeLessThanOrEqual(now + TTL_MS + 1_000);
    await expect(bus.request(RegistryNodeRecord, { nodeId: 'e'.repeat(64) })).resolves.toEqual({ found: false, expiresAtMs: 0n, gatewayAddress: '' });
    await expect(bus.request(RegistryNodeRecord, { nodeId: 'not-a-node' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
  });

  it("stops listing a skill once the provider's executors are gone and its record expires", async () => {
    await b.executor?.stop(500);
    b.executor = undefined;
    const withdrawnAt = Date.now();
    await waitFor(async () => !remoteIds(await find(a, 'matmul')).includes(b.signer.nodeId), { timeoutMs: 3 * TTL_MS, what: "b's record expired" });
    // b's registry still answers pings: the record's expiry is what took b off the list.
    expect(Date.now() - withdrawnAt).toBeLessThan(3 * TTL_MS);
    // b still republishes its record under its node key, but what it signs now offers nothing.
    const signedBefore = relay.signed(b.signer.nodeId).length;
    await new Promise((r) => setTimeout(r, TTL_MS / 2));
    const signed = relay.signed(b.signer.nodeId);
    expect(signed.at(-1)?.skills).toEqual([]);
    expect(signed.slice(signedBefore).filter((r) => r.skills.length > 0)).toEqual([]);
  });

  it('finds the provider again when its executors are back, and loses it within one lifetime after the node stops', async () => {
    await startExecutor(b, [{ name: 'matmul', price: 9n }]);
    // The record b signs now: on a starved machine an older one of b's (matmul and vecadd at 7),
    // still within its lifetime on another DHT node, was found first once.
    const again = await waitFor(async () => (await find(a, 'matmul')).find((p) => p.nodeId === b.signer.nodeId && p.pricePerMwork === 9n), {
      timeoutMs: 10_000 + TTL_MS,
      what: 'b back, with its new record',
    });
    expect(again).toMatchObject({ pricePerMwork: 9n, skills: ['matmul'] });
    const nodeRecordOfB = () => createBusClient(a.nc, silentLogger()).request(RegistryNodeRecord, { nodeId: b.signer.nodeId }, { timeoutMs: ROUTER_REGISTRY_TIMEOUT_MS });
    // b republishes its node record every part of a TTL_MS lifetime; on a starved machine (a CI run)
    // one lookup fell between a late republish and the expiry, and a miss is then kept MISSING_FRESH_MS.
    await waitFor(async () => (await nodeRecordOfB()).found, { timeoutMs: 3 * TTL_MS + MISSING_FRESH_MS, what: "b's node record" });
    await b.registry?.stop();
    b.registry = undefined;
    const stoppedAt = Date.now();
    await waitFor(async () => !remoteIds(await find(a, 'matmul')).includes(b.signer.nodeId), { timeoutMs: 3 * TTL_MS, what: "stopped b's record expired" });
    expect(Date.now() - stoppedAt).toBeLessThanOrEqual(TTL_MS + 1_500);
    // Its node record expires too: FindNodeRecord, which had it cached, says so without waiting out the cache.
    await waitFor(async () => !(await nodeRecordOfB()).found, { timeoutMs: 3 * TTL_MS, what: "stopped b's node record expired" });
    expect(Date.now() - stoppedAt).toBeLessThanOrEqual(TTL_MS + 1_500);
  });
});

import type { BusClient, BusService } from '@swarm/bus';
import { createBusClient, startBusService } from '@swarm/bus';
import type { ExecuteRequest, ExecuteResponse } from '@swarm/contracts';
import { ErrorCode, fromTensor, GatewayExecute, RegistryNodeRecord, toTensor } from '@swarm/contracts';
import { systemClock, systemTime } from '@swarm/determinism';
import type { GatewayServer } from '@swarm/gateway';
import { dialPeer, parseHostPort, startGatewayServer } from '@swarm/gateway';
import type { NodeIdentity } from '@swarm/identity';
import { loadOrCreateIdentity, loadOrCreateNodeCertificate } from '@swarm/identity';
import { encodeTask, openSignedResult, signResult } from '@swarm/records';
import { silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { startFakeExecutor, startNatsServer, startSilentServer, swarmErrorOf, tempDir } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadGatewayConfig } from './config';
import type { GatewayServiceHandle } from './service';
import { startGatewayService } from './service';
import { EXECUTORS_DOWN_RETRY_AFTER_MS } from './remote-execute';

/** A serve ticket beside each signed result (its content is the provider's business; the length is checked). */
const SERVE_TICKET = new Uint8Array(32).fill(7);

/** Low, so a fresh node finds its proof of work at once. */
const POW_DIFFICULTY = 8;
const REQUEST_TIMEOUT_MS = 10_000;

interface Node {
  readonly nc: NatsConnection;
  readonly bus: BusClient;
  readonly gateway: GatewayServiceHandle;
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** A node of its own: nats-server, data dir and gateway-svc (advertising `advertise` when given). */
async function startNode(advertise?: string): Promise<Node> {
  const nats = await startNatsServer();
  const home = await tempDir('swarm-gwexec-');
  const nc = await connect({ servers: nats.url });
  const config = loadGatewayConfig({
    SWARM_NATS_URL: nats.url,
    SWARM_DATA_DIR: home.path,
    SWARM_POW_DIFFICULTY: String(POW_DIFFICULTY),
    ...(advertise === undefined ? {} : { SWARM_GATEWAY_ADVERTISE: advertise }),
  });
  const gateway = await startGatewayService({ config, log: silentLogger(), nc, time: systemTime });
  return {
    nc,
    bus: createBusClient(nc, silentLogger()),
    gateway,
    endpoint: `${gateway.nodeId}@${gateway.advertisedAddress}`,
    async stop() {
      await gateway.stop();
      await nc.close();
      await nats.stop();
      await home.remove();
    },
  };
}

/**
 * A stand-in registry-svc on a node's bus answering FindNodeRecord: the nodes in `withRecords` have
 * a valid record on the DHT, no other does. Records what it was asked.
 */
async function startFakeRegistry(node: Node) {
  const withRecords = new Set<string>();
  const asked: string[] = [];
  const svc: BusService = await startBusService({
    nc: node.nc,
    log: silentLogger(),
    name: 'registry-svc',
    version: '0.0.0',
    description: 'fake registry',
    nodeId: node.gateway.nodeId,
  });
  svc.serve(RegistryNodeRecord, ({ nodeId }) => {
    asked.push(nodeId);
    const found = withRecords.has(nodeId);
    return { found, expiresAtMs: found ? BigInt(Date.now() + 60_000) : 0n, gatewayAddress: found ? '127.0.0.1:1' : '' };
  });
  await node.nc.flush();
  let stopped: Promise<void> | undefined;
  return { withRecords, asked, stop: () => (stopped ??= svc.stop(1_000)) };
}

type RogueMode = 'other-key' | 'tampered' | 'other-request';

/** A peer gateway that answers every task with a result that must not pass: signed by a stranger, altered, or for another request. */
async function startRoguePeer(dir: TempDir, stranger: NodeIdentity) {
  const certificate = await loadOrCreateNodeCertificate(dir.path, systemClock);
  const own = await loadOrCreateIdentity(dir.path);
  const state = { mode: 'other-key' as RogueMode };
  const limits = loadGatewayConfig({ SWARM_NATS_URL: 'nats://127.0.0.1:1', SWARM_DATA_DIR: dir.path }).limits;
  const server: GatewayServer = await startGatewayServer({
    certificate,
    listen: { host: '127.0.0.1', port: 0 },
    limits,
    log: silentLogger(),
    time: systemTime,
    handlers: {
      nodeInfo: ({ peerId }) => ({ nodeId: certificate.nodeId, version: 'rogue', advertisedAddress: '', peerNodeId: peerId, powNonce: 0n }),
      ping: ({ request }) => ({ payload: request.payload }),
      execute: ({ request }) => {
        const task = request.task as ExecuteRequest;
        const answer: ExecuteResponse = {
          taskId: task.taskId,
          outputs: [toTensor('c', [1], Float32Array.of(42))],
          executorId: 'rogue',
          providerId: certificate.nodeId,
          backend: 'cpu',
          executeMs: 0,
        };
        if (state.mode === 'other-key') return signResult(encodeTask(task), answer, stranger, SERVE_TICKET);
        if (state.mode === 'other-request')
          return signResult(encodeTask({ ...task, taskId: `${task.taskId}-old` }), { ...answer, taskId: `${task.taskId}-old` }, own, SERVE_TICKET);
        const signed = signResult(encodeTask(task), answer, own, SERVE_TICKET);
        const response = Uint8Array.from(signed.response);
        response[response.length - 1] ^= 1;
        return { ...signed, response };
      },
    },
  });
  return { state, nodeId: certificate.nodeId, endpoint: `${certificate.nodeId}@127.0.0.1:${server.address.port}`, stop: () => server.stop(1_000) };
}

function vecadd(taskId: string, overrides: Partial<ExecuteRequest> = {}): ExecuteRequest {
  return { taskId, skill: 'vecadd', inputs: [toTensor('a', [3], Float32Array.of(1, 2, 3)), toTensor('b', [3], Float32Array.of(10, 20, 30))], timeoutMs: 5_000, ...overrides };
}

describe('gateway-svc - remote execution between two nodes', () => {
  let a: Node;
  let b: Node;
  let executorB: Awaited<ReturnType<typeof startFakeExecutor>>;
  let registryB: Awaited<ReturnType<typeof startFakeRegistry>>;
  let rogue: Awaited<ReturnType<typeof startRoguePeer>>;
  let rogueDir: TempDir;
  let strangerDir: TempDir;

  beforeAll(async () => {
    [a, b, rogueDir, strangerDir] = await Promise.all([startNode(), startNode(), tempDir('swarm-rogue-'), tempDir('swarm-stranger-')]);
    executorB = await startFakeExecutor({ nc: b.nc, nodeId: b.gateway.nodeId, log: silentLogger() });
    registryB = await startFakeRegistry(b);
    // A is a node of the swarm: B's registry finds its record.
    registryB.withRecords.add(a.gateway.nodeId);
    rogue = await startRoguePeer(rogueDir, await loadOrCreateIdentity(strangerDir.path));
  });
  afterAll(async () => {
    await executorB?.stop();
    await registryB?.stop();
    await rogue?.stop();
    await Promise.all([a?.stop(), b?.stop(), rogueDir?.remove(), strangerDir?.remove()]);
  });

  const execute = (peer: string, task: ExecuteRequest | undefined) => a.bus.request(GatewayExecute, { peer, task }, { timeoutMs: REQUEST_TIMEOUT_MS });

  it("answers GatewayExecute on A with B's result, signed by B's key over exactly this request", async () => {
    const task = vecadd('task-remote-1');
    const signed = await execute(b.endpoint, task);
    const response = openSignedResult(signed, b.gateway.nodeId, encodeTask(task));
    expect(response).toMatchObject({ taskId: 'task-remote-1', executorId: 'fake-exec', providerId: b.gateway.nodeId });
    expect(Array.from(fromTensor(response.outputs[0]).data)).toEqual([11, 22, 33]);
    // B's executors got the task exactly as A's router sent it.
    expect(encodeTask(executorB.seen.at(-1) as ExecuteRequest)).toEqual(encodeTask(task));
    // Nobody else could pass it off as theirs.
    expect(() => openSignedResult(signed, a.gateway.nodeId, encodeTask(task))).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED }));
  });

  it('refuses a skill not installed on the provider with NO_PROVIDER, running nothing', async () => {
    const before = executorB.seen.length;
    const err = await swarmErrorOf(execute(b.endpoint, vecadd('task-matmul', { skill: 'matmul' })));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER, retryable: true, message: expect.stringMatching(/answered SWARM_NO_PROVIDER$/) });
    expect(executorB.seen.length).toBe(before);
  });

  it("passes on the provider executors' OVERLOADED with its hint", async () => {
    executorB.state.mode = 'overloaded';
    try {
      const err = await swarmErrorOf(execute(b.endpoint, vecadd('task-busy')));
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, message: expect.stringMatching(/answered SWARM_OVERLOADED$/) });
      expect(err.retryAfterMs).toBeGreaterThan(0);
    } finally {
      executorB.state.mode = 'honest';
    }
  });

  it('refuses a result signed by another key, altered on the way, or signed for another request', async () => {
    const expected = { 'other-key': 'wrong-key', tampered: 'bad-signature', 'other-request': 'bad-signature' } as const;
    for (const mode of Object.keys(expected) as RogueMode[]) {
      rogue.state.mode = mode;
      const err = await swarmErrorOf(execute(rogue.endpoint, vecadd(`task-${mode}`)));
      expect({ mode, code: err.code, retryable: err.retryable }).toEqual({ mode, code: ErrorCode.ERROR_CODE_VERIFICATION_FAILED, retryable: true });
      expect(err.message).toContain(`(${expected[mode]})`);
    }
  });

  it('refuses a peer that is not the node its endpoint names, as unreachable', async () => {
    const impostor = `${rogue.nodeId}@${b.gateway.advertisedAddress}`;
    const err = await swarmErrorOf(execute(impostor, vecadd('task-impostor')));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true });
  });

  // A provider's record names whatever address its node wrote: a public node dialled its own loopback (its NATS server, say) for it.
  it('dials no address a node where this one is could not have been told of: a public node refuses a peer at its loopback, connecting nothing', async () => {
    const onPublic = await startNode('198.51.100.7:7400');
    const listener = await startSilentServer();
    try {
      const at = (host: string) => `${b.gateway.nodeId}@${host}:${listener.port}`;
      for (const [host, why] of [
        ['127.0.0.1', 'a loopback address, named by a node that is not on this machine'],
        ['localhost', 'localhost resolves to no address this node dials for a peer'],
        ['10.0.0.5', 'a private address, named by a node on a public network'],
        ['2130706433', 'is no address to dial'],
      ] as const) {
        const err = await swarmErrorOf(onPublic.bus.request(GatewayExecute, { peer: at(host), task: vecadd(`t-scope-${host}`) }, { timeoutMs: REQUEST_TIMEOUT_MS }));
        expect([host, err.code, err.message]).toEqual([host, ErrorCode.ERROR_CODE_UNAVAILABLE, expect.stringContaining(why)]);
      }
      expect(listener.connections()).toBe(0);
      // The same peer at the same address, asked by a node on this machine's loopback, is dialled.
      await expect(execute(b.endpoint, vecadd('t-scope-loopback'))).resolves.toMatchObject({ publicKey: expect.any(Uint8Array) });
    } finally {
      await listener.close();
      await onPublic.stop();
    }
  });

  it('refuses bad endpoints and bad tasks before dialling, quoting no input whole', async () => {
    const long = await swarmErrorOf(execute(`x${'y'.repeat(100_000)}`, vecadd('t')));
    expect(long.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(long.message.length).toBeLessThan(300);
    for (const peer of ['', 'not-a-peer', `${b.gateway.nodeId}@127.0.0.1:0`, a.endpoint]) {
      await expect(execute(peer, vecadd('t'))).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    }
    const badTasks = [
      undefined,
      vecadd('t', { timeoutMs: 0 }),
      vecadd('t', { timeoutMs: 10_000_000 }),
      vecadd(''),
      vecadd('t', { skill: 'S'.repeat(10_000) }),
      vecadd('t', { inputs: [] }),
    ];
    for (const task of badTasks) {
      const err = await swarmErrorOf(execute(b.endpoint, task));
      expect(err.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      expect(err.message.length).toBeLessThan(300);
    }
  });

  it("applies the provider's policy to a peer's own call, whatever its gateway checked", async () => {
    const peerHome = await tempDir('swarm-gwexec-peer-');
    const address = parseHostPort(b.gateway.advertisedAddress);
    if (!address) throw new Error(`bad address ${b.gateway.advertisedAddress}`);
    const certificate = await loadOrCreateNodeCertificate(peerHome.path, systemClock);
    registryB.withRecords.add(certificate.nodeId);
    const client = dialPeer({ certificate, peer: { nodeId: b.gateway.nodeId, address }, clock: systemClock });
    try {
      await expect(client.call('execute', {})).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
      await expect(client.call('execute', { task: vecadd('t', { timeoutMs: 0 }) })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
      await expect(client.call('execute', { task: vecadd('t', { skill: 'mlp' }) })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER });
      const task = vecadd('task-direct');
      const signed = await client.call('execute', { task });
      expect(openSignedResult(signed, b.gateway.nodeId, encodeTask(task)).taskId).toBe('task-direct');
    } finally {
      client.close();
      await peerHome.remove();
    }
  });

  /** A direct call to B's gateway from a node of its own (a fresh key), with no record anywhere unless the test adds one. */
  async function callAsStranger<T>(call: (client: ReturnType<typeof dialPeer>, nodeId: string) => Promise<T>): Promise<T> {
    const home = await tempDir('swarm-gwexec-stranger-');
    const address = parseHostPort(b.gateway.advertisedAddress);
    if (!address) throw new Error(`bad address ${b.gateway.advertisedAddress}`);
    const certificate = await loadOrCreateNodeCertificate(home.path, systemClock);
    const client = dialPeer({ certificate, peer: { nodeId: b.gateway.nodeId, address }, clock: systemClock });
    try {
      return await call(client, certificate.nodeId);
    } finally {
      client.close();
      await home.remove();
    }
  }

  it('refuses a caller with no valid record on the DHT with PERMISSION_DENIED; its task never reaches the executors', async () => {
    const before = executorB.seen.length;
    await callAsStranger(async (client, nodeId) => {
      const err = await swarmErrorOf(client.call('execute', { task: vecadd('task-stranger') }));
      expect(err).toMatchObject({
        code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
        peerWords: expect.stringMatching(new RegExp(`node ${nodeId.slice(0, 12)}… has no valid record on the DHT`)),
      });
      expect(registryB.asked).toContain(nodeId);
      // Once its record is published, the same node is let in.
      registryB.withRecords.add(nodeId);
      const task = vecadd('task-stranger-joined');
      expect(openSignedResult(await client.call('execute', { task }), b.gateway.nodeId, encodeTask(task)).taskId).toBe('task-stranger-joined');
    });
    expect(executorB.seen.slice(before).map((t) => t.taskId)).toEqual(['task-stranger-joined']);
  });

  it("answers UNAVAILABLE, running nothing, when the provider's registry does not answer", async () => {
    await registryB.stop();
    const before = executorB.seen.length;
    await callAsStranger(async (client) => {
      const err = await swarmErrorOf(client.call('execute', { task: vecadd('task-no-registry') }));
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true, peerWords: expect.stringMatching(/cannot check the record of node/) });
    });
    expect(executorB.seen.length).toBe(before);
  });

  it('answers OVERLOADED with when to retry, not UNAVAILABLE, when the provider has no executor running (one restarting): the provider is reachable', async () => {
    await executorB.stop();
    const err = await swarmErrorOf(execute(b.endpoint, vecadd('task-no-executor')));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, retryAfterMs: EXECUTORS_DOWN_RETRY_AFTER_MS });
  });
});

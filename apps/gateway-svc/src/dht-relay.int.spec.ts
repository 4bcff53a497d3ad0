import type { BusClient, BusService } from '@swarm/bus';
import { createBusClient, startBusService } from '@swarm/bus';
import type { DhtRelayFindNodeRequest, DhtRelayFindValueRequest, DhtRelayPingRequest, DhtRelayStoreRequest } from '@swarm/contracts';
import {
  ErrorCode,
  GatewayDhtFindNode,
  GatewayDhtFindValue,
  GatewayDhtPing,
  GatewayDhtStore,
  GatewayNodeInfo,
  GatewayPeers,
  GatewaySignRecord,
  RegistryDhtFindNode,
  RegistryDhtFindValue,
  RegistryDhtPing,
  RegistryDhtStore,
  SignedNodeRecord,
} from '@swarm/contracts';
import { systemTime } from '@swarm/determinism';
import { dhtIdOfNode, peerOfDhtEndpoint } from '@swarm/dht-gateway';
import { findPowNonce, hasProofOfWork, verifyRecord } from '@swarm/records';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, swarmErrorOf, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadGatewayConfig } from './config';
import type { GatewayServiceHandle } from './service';
import { GATEWAY_VERSION, startGatewayService } from './service';

/** Low, so a fresh node finds its proof of work at once; the records library's checks are the same at any difficulty. */
const POW_DIFFICULTY = 8;
const REQUEST_TIMEOUT_MS = 5_000;
const DHT_TIMEOUT_MS = 1_000;
/** The fake registry stalls on this key, past the gateway's share of the DHT timeout. */
const SLOW_KEY = 'slow';

interface Node {
  readonly nats: NatsServerHandle;
  readonly home: TempDir;
  readonly nc: NatsConnection;
  readonly bus: BusClient;
  readonly gateway: GatewayServiceHandle;
  /** Its DHT endpoint, `<node id>:<nonce>@host:port`. */
  readonly endpoint: string;
  /** Its DHT id. */
  readonly dhtId: string;
  stop(): Promise<void>;
}

async function startNode(): Promise<Node> {
  const nats = await startNatsServer();
  const home = await tempDir('swarm-gwrelay-');
  const nc = await connect({ servers: nats.url });
  const config = loadGatewayConfig({
    SWARM_NATS_URL: nats.url,
    SWARM_DATA_DIR: home.path,
    SWARM_POW_DIFFICULTY: String(POW_DIFFICULTY),
    SWARM_GATEWAY_DHT_TIMEOUT_MS: String(DHT_TIMEOUT_MS),
  });
  const gateway = await startGatewayService({ config, log: silentLogger(), nc, time: systemTime });
  return {
    nats,
    home,
    nc,
    bus: createBusClient(nc, silentLogger()),
    gateway,
    // The nonce the gateway keeps is the first one from 0 (libs/identity pow-nonce.ts).
    endpoint: `${gateway.nodeId}:${findPowNonce(gateway.nodeId, POW_DIFFICULTY)}@${gateway.advertisedAddress}`,
    dhtId: dhtIdOfNode(gateway.nodeId, findPowNonce(gateway.nodeId, POW_DIFFICULTY)),
    async stop() {
      await gateway.stop();
      await nc.close();
      await nats.stop();
      await home.remove();
    },
  };
}

type Relayed = DhtRelayPingRequest | DhtRelayStoreRequest | DhtRelayFindNodeRequest | DhtRelayFindValueRequest;

/** A stand-in registry-svc on a node's bus: answers with `contacts`, records what reached it. */
async function startFakeRegistry(node: Node, contacts: { id: string; endpoint: string }[]): Promise<{ seen: Relayed[]; svc: BusService }> {
  const seen: Relayed[] = [];
  const svc = await startBusService({ nc: node.nc, log: silentLogger(), name: 'registry-svc', version: '0.0.0', description: 'fake registry', nodeId: node.gateway.nodeId });
  svc.serve(RegistryDhtPing, (req) => (seen.push(req), { remoteId: node.dhtId }));
  svc.serve(RegistryDhtStore, (req) => (seen.push(req), { stored: true, refusal: '' }));
  svc.serve(RegistryDhtFindNode, (req) => (seen.push(req), { contacts }));
  svc.serve(RegistryDhtFindValue, async (req) => {
    seen.push(req);
    if (req.key === SLOW_KEY) await systemTime.scheduler.sleep(DHT_TIMEOUT_MS + 500);
    return { values: [Buffer.from('record')], contacts, moreAfter: req.paged ? 'p1' : '', paged: req.paged };
  });
  return { seen, svc };
}

describe('gateway-svc - the DHT relay between two nodes', () => {
  let a: Node;
  let b: Node;
  let registryB: { seen: Relayed[]; svc: BusService } | undefined;
  const target = 'ab'.repeat(20);

  beforeAll(async () => {
    [a, b] = await Promise.all([startNode(), startNode()]);
    registryB = await startFakeRegistry(b, [
      { id: a.dhtId, endpoint: a.endpoint },
      { id: b.dhtId, endpoint: b.endpoint },
    ]);
    // The first call between the gateways also opens their mTLS connection, which on a loaded
    // 2-core machine took longer than the short DHT timeout these tests run with: opened here.
    await waitFor(() => a.bus.request(GatewayDhtPing, { peer: b.endpoint, network: '' }, { timeoutMs: REQUEST_TIMEOUT_MS }).catch(() => undefined), {
      timeoutMs: 20_000,
      what: "gateway A's first call to gateway B",
    });
  });
  afterAll(async () => {
    await registryB?.svc.stop(0);
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("carries registry A's find-node to registry B, with A's endpoint as the peer, and B's contacts back", async () => {
    const reply = await a.bus.request(GatewayDhtFindNode, { peer: b.endpoint, targetId: target, network: '' }, { timeoutMs: REQUEST_TIMEOUT_MS });
    expect(reply.contacts).toEqual([
      { id: a.dhtId, endpoint: a.endpoint },
      { id: b.dhtId, endpoint: b.endpoint },
    ]);
    expect(registryB?.seen.at(-1)).toEqual({ peer: a.endpoint, targetId: target, network: '127.0.0.0/8' });
  });

  it('carries ping, store and find-value, and both gateways list each other as peers', async () => {
    await expect(a.bus.request(GatewayDhtPing, { peer: b.endpoint, network: '' }, { timeoutMs: REQUEST_TIMEOUT_MS })).resolves.toEqual({ remoteId: b.dhtId });
    const value = Buffer.from('a record');
    await expect(a.bus.request(GatewayDhtStore, { peer: b.endpoint, key: 'vecadd', value, network: '10.9.9.0/24' }, { timeoutMs: REQUEST_TIMEOUT_MS })).resolves.toEqual({
      stored: true,
      refusal: '',
    });
    // The network is B's gateway's reading of A's socket (loopback), whatever A's registry put in its request.
    expect(registryB?.seen.at(-1)).toEqual({ peer: a.endpoint, key: 'vecadd', value: new Uint8Array(value), network: '127.0.0.0/8' });
    const found = await a.bus.request(
      GatewayDhtFindValue,
      { peer: b.endpoint, targetId: target, key: 'vecadd', network: '', paged: false, after: '' },
      { timeoutMs: REQUEST_TIMEOUT_MS },
    );
    expect(found.values.map((v) => Buffer.from(v).toString())).toEqual(['record']);

    const peersOfA = (await a.bus.request(GatewayPeers, {}, { timeoutMs: REQUEST_TIMEOUT_MS })).peers;
    expect(peersOfA).toEqual([{ nodeId: b.gateway.nodeId, address: b.gateway.advertisedAddress, rttMs: expect.any(Number), lastSeenMs: expect.any(BigInt) }]);
    expect(peersOfA[0].rttMs).toBeGreaterThan(0);
    const peersOfB = (await b.bus.request(GatewayPeers, {}, { timeoutMs: REQUEST_TIMEOUT_MS })).peers;
    expect(peersOfB).toEqual([{ nodeId: a.gateway.nodeId, address: a.gateway.advertisedAddress, rttMs: 0, lastSeenMs: expect.any(BigInt) }]);
    expect(Number(peersOfB[0].lastSeenMs)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('keeps the page mark of a find-value through both relays and both gateways (a new holder never looks old)', async () => {
    const ask = (paged: boolean) =>
      a.bus.request(GatewayDhtFindValue, { peer: b.endpoint, targetId: target, key: 'vecadd', network: '', paged, after: '' }, { timeoutMs: REQUEST_TIMEOUT_MS });
    const page = await ask(true);
    expect({ paged: page.paged, moreAfter: page.moreAfter }).toEqual({ paged: true, moreAfter: 'p1' });
    expect((registryB?.seen.at(-1) as DhtRelayFindValueRequest).paged).toBe(true);
    const whole = await ask(false);
    expect({ paged: whole.paged, moreAfter: whole.moreAfter }).toEqual({ paged: false, moreAfter: '' });
  });

  it('refuses a bad peer, this node itself and a bad field with INVALID_ARGUMENT, quoting no input whole', async () => {
    const long = await swarmErrorOf(a.bus.request(GatewayDhtPing, { peer: `x${'y'.repeat(10_000)}`, network: '' }, { timeoutMs: REQUEST_TIMEOUT_MS }));
    expect(long.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(long.message.length).toBeLessThan(300);
    const nonce = peerOfDhtEndpoint(b.endpoint).powNonce;
    for (const peer of [
      '',
      'not-a-peer',
      `${b.gateway.nodeId}:${nonce}@127.0.0.1:0`,
      `${b.gateway.nodeId.toUpperCase()}:${nonce}@127.0.0.1:1`,
      `${b.gateway.nodeId}@${b.gateway.advertisedAddress}`, // no nonce
      a.endpoint,
    ]) {
      await expect(a.bus.request(GatewayDhtFindNode, { peer, targetId: target, network: '' }, { timeoutMs: REQUEST_TIMEOUT_MS })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      });
    }
    await expect(a.bus.request(GatewayDhtFindNode, { peer: b.endpoint, targetId: 'XYZ', network: '' }, { timeoutMs: REQUEST_TIMEOUT_MS })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    await expect(
      a.bus.request(GatewayDhtStore, { peer: b.endpoint, key: 'k', value: new Uint8Array(16 * 1024 + 1), network: '' }, { timeoutMs: REQUEST_TIMEOUT_MS }),
    ).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
    });
  });

  it('answers UNAVAILABLE for a peer nobody listens at', async () => {
    const err = await swarmErrorOf(
      a.bus.request(GatewayDhtPing, { peer: `${b.gateway.nodeId}:${peerOfDhtEndpoint(b.endpoint).powNonce}@127.0.0.1:1`, network: '' }, { timeoutMs: REQUEST_TIMEOUT_MS }),
    );
    expect(err.code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
  });

  it('answers UNAVAILABLE when the peer registry is too slow, then when it is gone', async () => {
    const slow = await swarmErrorOf(
      a.bus.request(GatewayDhtFindValue, { peer: b.endpoint, targetId: target, key: SLOW_KEY, network: '', paged: false, after: '' }, { timeoutMs: REQUEST_TIMEOUT_MS }),
    );
    // B's reason ("this node's DHT did not answer") stays in A's log: A's requester gets the code.
    expect(slow).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, message: expect.stringMatching(/answered SWARM_UNAVAILABLE$/) });
    await registryB?.svc.stop(DHT_TIMEOUT_MS + 1_000);
    registryB = undefined;
    const gone = await swarmErrorOf(a.bus.request(GatewayDhtFindNode, { peer: b.endpoint, targetId: target, network: '' }, { timeoutMs: REQUEST_TIMEOUT_MS }));
    expect(gone.code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
    expect(gone.message).not.toContain('swarm.v1');
  });
});

describe('gateway-svc - the node record and node info on the bus', () => {
  it('signs records registry-svc asks for, valid at the configured difficulty, issued-at increasing', async () => {
    const node = await startNode();
    try {
      const request = { skills: [{ name: 'vecadd', version: '1.0.0', pricePerMwork: 3n }], capacity: 2, load: 0.5, resources: { backend: 'cpu', threads: 4 }, ttlMs: 60_000n };
      const first = await node.bus.request(GatewaySignRecord, request, { timeoutMs: REQUEST_TIMEOUT_MS });
      const second = await node.bus.request(GatewaySignRecord, request, { timeoutMs: REQUEST_TIMEOUT_MS });
      const verify = (s: SignedNodeRecord) =>
        verifyRecord(SignedNodeRecord.encode(s).finish(), { now: Date.now(), powDifficulty: POW_DIFFICULTY, expectedId: node.gateway.nodeId });
      const [one, two] = [verify(first), verify(second)];
      if (!one.ok || !two.ok) throw new Error(`refused: ${JSON.stringify([one, two].map((c) => (c.ok ? 'ok' : c.refusal.message)))}`);
      expect(one.record).toMatchObject({ nodeId: node.gateway.nodeId, gatewayAddress: node.gateway.advertisedAddress, capacity: 2, load: 0.5, skills: request.skills });
      expect(two.record.issuedAtMs).toBeGreaterThan(one.record.issuedAtMs);
      expect(verifyRecord(SignedNodeRecord.encode(second).finish(), { now: Date.now(), powDifficulty: POW_DIFFICULTY, stored: one.record }).ok).toBe(true);

      await expect(node.bus.request(GatewaySignRecord, { ...request, load: 7 }, { timeoutMs: REQUEST_TIMEOUT_MS })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      });
      await expect(node.bus.request(GatewayNodeInfo, {}, { timeoutMs: REQUEST_TIMEOUT_MS })).resolves.toEqual({
        nodeId: node.gateway.nodeId,
        version: GATEWAY_VERSION,
        advertisedAddress: node.gateway.advertisedAddress,
        peerNodeId: '',
        powNonce: expect.any(BigInt),
      });
      // Its proof-of-work nonce, from which (with the node id) its DHT id derives.
      const { powNonce } = await node.bus.request(GatewayNodeInfo, {}, { timeoutMs: REQUEST_TIMEOUT_MS });
      expect(hasProofOfWork(node.gateway.nodeId, powNonce, POW_DIFFICULTY)).toBe(true);
    } finally {
      await node.stop();
    }
  });
});

import type { BusService } from '@swarm/bus';
import { startBusService } from '@swarm/bus';
import { ErrorCode, GatewayDhtFindNode, GatewayDhtPing, RegistryDhtFindNode, RegistryDhtFindValue, RegistryDhtPing, RegistryDhtStore } from '@swarm/contracts';
import { systemClock } from '@swarm/determinism';
import { dhtTransportCompliance } from '@swarm/dht';
import { dhtEndpoint, dhtIdOfNode } from '@swarm/dht-gateway';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer, swarmErrorOf } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import type { BusDhtTransport } from './bus-dht-transport';
import { createBusDhtTransport, serveBusDhtInbound } from './bus-dht-transport';
import type { LoopbackRelay, RelayNode } from './test-fixtures/loopback-relay';
import { createLoopbackRelay } from './test-fixtures/loopback-relay';
import { createTestSigner, TEST_POW_DIFFICULTY } from './test-fixtures/test-signer';

jest.setTimeout(20_000);

/** One bus per node, started once for the file; each harness connects afresh. */
const servers: NatsServerHandle[] = [];
async function busUrls(n: number): Promise<string[]> {
  while (servers.length < n) servers.push(await startNatsServer());
  return servers.slice(0, n).map((s) => s.url);
}
afterAll(async () => Promise.all(servers.map((s) => s.stop())));

interface Node {
  readonly nc: NatsConnection;
  readonly svc: BusService;
  readonly relayed: RelayNode;
  readonly transport: BusDhtTransport;
}

/** `n` registries (bus services with the inbound DHT endpoints) joined by a loopback relay. */
async function startNodes(n: number): Promise<{ nodes: Node[]; relay: LoopbackRelay; stop(): Promise<void> }> {
  const relay = createLoopbackRelay({ clock: systemClock });
  const nodes: Node[] = [];
  for (const url of await busUrls(n)) {
    const nc = await connect({ servers: url });
    const svc = await startBusService({ nc, log: silentLogger(), name: 'registry-svc', version: '0.0.1', description: 'test', nodeId: 'test' });
    const inbound = serveBusDhtInbound(svc);
    const relayed = await relay.add(nc);
    nodes.push({
      nc,
      svc,
      relayed,
      transport: createBusDhtTransport({
        client: svc.client,
        inbound,
        nodeId: relayed.nodeId,
        powNonce: relayed.signer.powNonce,
        powDifficulty: TEST_POW_DIFFICULTY,
        gatewayAddress: relayed.address,
      }),
    });
  }
  return {
    nodes,
    relay,
    async stop() {
      await Promise.all(nodes.map((node) => node.transport.close()));
      await relay.stop();
      await Promise.all(nodes.map((node) => node.svc.stop(500)));
      await Promise.all(nodes.map((node) => node.nc.close()));
    },
  };
}

dhtTransportCompliance('bus, through a loopback relay for the gateways', async () => {
  const started = await startNodes(3);
  const { nodes, relay } = started;
  return {
    transports: [nodes[0].transport, nodes[1].transport, nodes[2].transport],
    ids: [nodes[0].transport.dhtId, nodes[1].transport.dhtId, nodes[2].transport.dhtId],
    makeUnreachable: (i) => relay.cut(nodes[i].relayed.nodeId),
    settle: (p) => p,
    cleanup: () => started.stop(),
  };
});

describe('bus dht transport - what each side believes', () => {
  let started: Awaited<ReturnType<typeof startNodes>>;
  beforeAll(async () => {
    started = await startNodes(2);
  });
  afterAll(async () => started.stop());

  it('names itself by its gateway: endpoint <node id>:<nonce>@address, DHT id the hash of node id and nonce', () => {
    const [a] = started.nodes;
    const nonce = a.relayed.signer.powNonce;
    expect(a.transport.endpoint).toBe(`${a.relayed.nodeId}:${nonce}@127.0.0.1:${a.relayed.address.port}`);
    expect(a.transport.dhtId).toBe(dhtIdOfNode(a.relayed.nodeId, nonce));
    expect(a.transport.dhtId).not.toBe(a.relayed.nodeId.slice(0, 40));
  });

  it('sends only as its own DHT id, and only to peer addresses', async () => {
    const [a, b] = started.nodes;
    expect((await swarmErrorOf(a.transport.ping(b.transport.endpoint, { id: b.transport.dhtId }))).code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect((await swarmErrorOf(a.transport.ping('127.0.0.1:7402', { id: a.transport.dhtId }))).code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });

  it('answers UNAVAILABLE until a DHT listens, and refuses bad fields as the memory path does', async () => {
    const [a, b] = started.nodes;
    const client = a.svc.client;
    const from = a.relayed.endpoint;
    // b never listened: every relayed call is UNAVAILABLE, nothing reaches a DHT.
    expect((await swarmErrorOf(client.request(RegistryDhtPing, { peer: from, network: '' }))).code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
    const networks: Array<string | undefined> = [];
    const seenBy: Record<string, Array<string | undefined>> = { ping: [], findNode: [], findValue: [] };
    b.transport.listen({
      ping: (_from, _request, network) => (seenBy.ping.push(network), { remoteId: b.transport.dhtId }),
      store: (_from, _request, network) => {
        networks.push(network);
        return { stored: true, refusal: '' };
      },
      findNode: (_from, _request, network) => (seenBy.findNode.push(network), { contacts: [] }),
      findValue: (_from, _request, network) => (seenBy.findValue.push(network), { values: [], contacts: [] }),
    });
    // b's inbound is served on b's bus; ask it there.
    const bClient = b.svc.client;
    await expect(bClient.request(RegistryDhtPing, { peer: from, network: '' })).resolves.toEqual({ remoteId: b.transport.dhtId });
    const notAnEndpoint = await swarmErrorOf(bClient.request(RegistryDhtPing, { peer: 'x'.repeat(5_000), network: '' }));
    expect(notAnEndpoint.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(notAnEndpoint.message.length).toBeLessThan(400);
    expect((await swarmErrorOf(bClient.request(RegistryDhtStore, { peer: from, key: '', value: new Uint8Array(1), network: '' }))).code).toBe(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    );
    // The network the gateway says a store came from reaches the DHT; none ('') is 'unknown', one network for all; a bad one is refused.
    await bClient.request(RegistryDhtStore, { peer: from, key: 'k', value: new Uint8Array(1), network: '10.1.2.0/24' });
    await bClient.request(RegistryDhtStore, { peer: from, key: 'k', value: new Uint8Array(1), network: '' });
    expect(networks).toEqual(['10.1.2.0/24', 'unknown']);
    for (const network of ['10.1.2.3', 'x'.repeat(65), '10.1.2.0/24 ', 'UNKNOWN']) {
      const refused = await swarmErrorOf(bClient.request(RegistryDhtStore, { peer: from, key: 'k', value: new Uint8Array(1), network }));
      expect(refused.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      expect(refused.message).not.toContain('x'.repeat(65));
    }
    expect(networks).toHaveLength(2);
    // Pings and finds carry it too (the DHT shares its dial-backs out by it).
    await bClient.request(RegistryDhtFindNode, { peer: from, targetId: b.transport.dhtId, network: '10.9.8.0/24' });
    await bClient.request(RegistryDhtFindValue, { peer: from, targetId: b.transport.dhtId, key: 'k', network: '', paged: false, after: '' });
    expect(seenBy).toEqual({ ping: ['unknown'], findNode: ['10.9.8.0/24'], findValue: ['unknown'] });
    expect((await swarmErrorOf(bClient.request(RegistryDhtStore, { peer: from, key: 'k', value: new Uint8Array(16 * 1024 + 1), network: '' }))).code).toBe(
      ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
    );
    expect((await swarmErrorOf(bClient.request(RegistryDhtStore, { peer: from, key: 'k', value: new Uint8Array(64 * 1024), network: '' }))).code).toBe(
      ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
    );
  });
});

describe('bus dht transport - replies from a lying gateway', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let registry: BusService;
  let gateway: BusService;
  const self = createTestSigner();
  const liar = createTestSigner();
  const other = createTestSigner();

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    registry = await startBusService({ nc, log: silentLogger(), name: 'registry-svc', version: '0.0.1', description: 'test', nodeId: 'test' });
    gateway = await startBusService({ nc, log: silentLogger(), name: 'gateway-svc', version: '0.0.1', description: 'test', nodeId: 'test' });
    gateway.serve(GatewayDhtPing, () => ({ remoteId: dhtIdOfNode(other.nodeId, other.powNonce) }));
    // A contact whose id is another node's, at the liar's address.
    gateway.serve(GatewayDhtFindNode, () => ({
      contacts: [{ id: dhtIdOfNode(other.nodeId, other.powNonce), endpoint: dhtEndpoint(liar.nodeId, { host: '127.0.0.1', port: 9 }, liar.powNonce) }],
    }));
  });
  afterAll(async () => {
    await Promise.all([registry.stop(500), gateway.stop(500)]);
    await nc.close();
    await server.stop();
  });

  it("refuses a ping answered with another node's id and contacts bound to the wrong node", async () => {
    const transport = createBusDhtTransport({
      client: registry.client,
      inbound: serveBusDhtInbound(registry),
      nodeId: self.nodeId,
      powNonce: self.powNonce,
      powDifficulty: TEST_POW_DIFFICULTY,
      gatewayAddress: { host: '127.0.0.1', port: 7400 },
    });
    const to = dhtEndpoint(liar.nodeId, { host: '127.0.0.1', port: 7401 }, liar.powNonce);
    await expect(transport.ping(to, { id: transport.dhtId })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringContaining(`answered as DHT id ${dhtIdOfNode(other.nodeId, other.powNonce)}`),
    });
    await expect(transport.findNode(to, { id: transport.dhtId, targetId: dhtIdOfNode(other.nodeId, other.powNonce) })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    await transport.close();
    expect((await swarmErrorOf(transport.ping(to, { id: transport.dhtId }))).code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
  });
});

// helper-169's attacks on the DHT sender's connections by name (gateway-dht-sender.ts, named-dial-rate.ts). Loopback only.
import { ErrorCode } from '@swarm/contracts';
import { manualClock, systemStopwatch } from '@swarm/determinism';
import type { GatewayLimits, GatewayServer, PeerHandlers } from '@swarm/gateway';
import type { NodeCertificate } from '@swarm/identity';
import { createServer as createNetServer, connect as netConnect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { NamedDialRate } from './index';
import { nonceOf, senderByNames, serveAsPeer as serveTestPeer, testCertificates } from './test-fixtures/test-peers';
import { createNamedDialRate, dhtEndpoint, dhtIdOfNode } from './index';

const LIMITS: GatewayLimits = { maxMessageBytes: 64 * 1024, maxDeadlineMs: 10_000, handshakeTimeoutMs: 2_000, peer: { maxInflight: 16, ratePerSecond: 1_000, burst: 1_000 } };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Each node its own key and certificate, made once per file. */
const { certificate, removeAll } = testCertificates('swarm-attack-');
afterAll(removeAll);

const serveAsPeer = (cert: NodeCertificate, dht: Partial<PeerHandlers>): Promise<GatewayServer> => serveTestPeer(cert, dht, LIMITS);

/** A TCP relay on loopback to `port`, counting the connections made through it (what the host behind it sees). */
async function countingRelay(port: number): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const relay: Server = createNetServer((inbound) => {
    count++;
    const outbound = netConnect(port, '127.0.0.1');
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const end = () => (inbound.destroy(), outbound.destroy());
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    connections: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => relay.close(resolve));
    },
  };
}

/** Loopback stands for a public victim (203.0.113.9): loopback is exempt from the named rate. */
const asPublic = (rate: NamedDialRate): NamedDialRate => ({ perSecond: rate.perSecond, book: (a, lane) => rate.book(a === '127.0.0.1' ? '203.0.113.9' : a, lane) });

const senderOf = (cert: NodeCertificate, namedDials: NamedDialRate, callTimeoutMs = 2_000) => senderByNames(cert, '.example', namedDials, callTimeoutMs);

describe('the DHT sender after close (attacks)', () => {
  it('opens no connection for a call that was on its way when the sender closed (a literal address, as for a name)', async () => {
    const [peer, own] = await Promise.all([30, 31].map((n) => certificate(n)));
    const server = await serveAsPeer(peer, { dhtFindNode: () => ({ contacts: [] }) });
    const relay = await countingRelay(server.address.port);
    const sender = senderOf(own, createNamedDialRate(systemStopwatch, 2));
    try {
      const to = dhtEndpoint(peer.nodeId, { host: '127.0.0.1', port: relay.port }, nonceOf(peer));
      const pending = sender.findNode(to, { id: sender.dhtId, targetId: sender.dhtId });
      await sender.close();
      const outcome = await pending.then(
        () => 'answered after close',
        (err: { code?: ErrorCode }) => err.code,
      );
      await sleep(200);
      expect({ outcome, connectionsAfterClose: relay.connections() }).toEqual({ outcome: ErrorCode.ERROR_CODE_UNAVAILABLE, connectionsAfterClose: 0 });
    } finally {
      await sender.close();
      await relay.close();
      await server.stop(0);
    }
  });
});

describe('connections by name, counted by address (attacks)', () => {
  it("lets an attacker's names, refused by the victim, not use up the turns of an honest node known by name at that address", async () => {
    // The attacker's wildcard names all resolve to the address of an honest node (here 127.0.0.1, read as public), and the
    // attacker has this node dial them (dial-back claims, or referrals): each fails the pin, but takes a turn of the address.
    const [honest, attacker, own] = await Promise.all([32, 33, 34].map((n) => certificate(n)));
    const server = await serveAsPeer(honest, { dhtFindNode: () => ({ contacts: [] }) });
    const sender = senderOf(own, asPublic(createNamedDialRate(manualClock(1_000_000), 2, 0)));
    const evil = (i: number) => dhtEndpoint(attacker.nodeId, { host: `${i}.evil.example`, port: server.address.port }, nonceOf(attacker));
    const seed = dhtEndpoint(honest.nodeId, { host: 'seed.swarm.example', port: server.address.port }, nonceOf(honest));
    try {
      for (const i of [1, 2]) await expect(sender.ping(evil(i), { id: sender.dhtId })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
      await expect(sender.findNode(seed, { id: sender.dhtId, targetId: sender.dhtId })).resolves.toEqual({ contacts: [] });
    } finally {
      await sender.close();
      await server.stop(0);
    }
  });

  it('makes at most two connections to an address for each turn booked there (the certificate fetch, then the channel)', async () => {
    // Names under the attacker's zone listing a real node's own id and nonce (public), as referrals do: each answers as that node.
    const [victim, own] = await Promise.all([35, 36].map((n) => certificate(n)));
    const server = await serveAsPeer(victim, { dhtFindNode: () => ({ contacts: [] }) });
    const relay = await countingRelay(server.address.port);
    let granted = 0;
    const rate = asPublic(createNamedDialRate(manualClock(1_000_000), 2, 0));
    const sender = senderOf(own, {
      perSecond: 2,
      book: (a, lane) => {
        const w = rate.book(a, lane);
        if (w !== undefined) granted++;
        return w;
      },
    });
    const named = (i: number) => dhtEndpoint(victim.nodeId, { host: `${i}.evil.example`, port: relay.port }, nonceOf(victim));
    try {
      for (const i of [1, 2, 3, 4]) await sender.findNode(named(i), { id: sender.dhtId, targetId: sender.dhtId }).catch(() => undefined);
      expect(granted).toBe(2);
      expect(relay.connections()).toBeLessThanOrEqual(2 * granted);
    } finally {
      await sender.close();
      await relay.close();
      await server.stop(0);
    }
  });

  it("keeps an honest named peer's other calls when one of them runs past its deadline", async () => {
    const [peer, own] = await Promise.all([37, 38].map((n) => certificate(n)));
    const server = await serveAsPeer(peer, {
      // A large find-value page over a slow link takes its time; a find-node that this peer never answers in time.
      dhtFindValue: async () => (await sleep(1_500), { values: [], contacts: [], moreAfter: '', paged: false }),
      dhtFindNode: async () => (await sleep(2_500), { contacts: [] }),
      dhtPing: () => ({ remoteId: dhtIdOfNode(peer.nodeId, nonceOf(peer)) }),
    });
    const sender = senderOf(own, createNamedDialRate(systemStopwatch, 2));
    const to = dhtEndpoint(peer.nodeId, { host: 'peer.example', port: server.address.port }, nonceOf(peer));
    try {
      await expect(sender.ping(to, { id: sender.dhtId })).resolves.toBeDefined();
      const slow = sender.findNode(to, { id: sender.dhtId, targetId: sender.dhtId });
      await sleep(1_000);
      // Sent 1 s later on the same connection, answered 1.5 s later, within its own 2 s deadline; the find-node's ran out at 2 s.
      const other = sender.findValue(to, { id: sender.dhtId, targetId: sender.dhtId, key: 'k' });
      const [a, b] = await Promise.allSettled([slow, other]);
      expect([a.status === 'rejected' ? (a.reason as { code?: ErrorCode }).code : 'answered', b.status === 'fulfilled' ? 'answered' : String((b.reason as Error).message)]).toEqual(
        [ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'answered'],
      );
    } finally {
      await sender.close();
      await server.stop(0);
    }
  }, 15_000);
});

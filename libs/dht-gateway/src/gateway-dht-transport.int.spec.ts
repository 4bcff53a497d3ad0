import { ErrorCode, SwarmError } from '@swarm/contracts';
import { manualClock, systemClock, systemRandom, systemStopwatch, systemTime } from '@swarm/determinism';
import type { DhtNode, RecordValidator } from '@swarm/dht';
import { dhtTransportCompliance, startDhtNode } from '@swarm/dht';
import type { GatewayLimits, GatewayServer, PeerHandlers } from '@swarm/gateway';
import { dialPeer, PEER_TLS_SERVERNAME, startGatewayServer } from '@swarm/gateway';
import type { NodeCertificate } from '@swarm/identity';
import { leadingZeroBits, powHash } from '@swarm/records';
import { createLogger, silentLogger } from '@swarm/telemetry';
import type { Logger } from '@swarm/telemetry';
import { waitFor } from '@swarm/testing';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { connect as http2Connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { GatewayDhtTransport, NamedDialRate } from './index';
import { nonceOf, POW_DIFFICULTY, senderByNames, serveAsPeer as serveTestPeer, testCertificates } from './test-fixtures/test-peers';
import { createDhtInbound, createGatewayDhtSender, createGatewayDhtTransport, createNamedDialRate, dhtEndpoint, dhtIdOfNode } from './index';

const LIMITS: GatewayLimits = { maxMessageBytes: 64 * 1024, maxDeadlineMs: 5_000, handshakeTimeoutMs: 2_000, peer: { maxInflight: 16, ratePerSecond: 1_000, burst: 1_000 } };
const CALL_TIMEOUT_MS = 2_000;
/** A nonce that is no proof of work on `nodeId`. */
function unprovenNonce(nodeId: string): bigint {
  let nonce = 0n;
  while (leadingZeroBits(powHash(nodeId, nonce)) >= POW_DIFFICULTY) nonce += 1n;
  return nonce;
}
/** A node's DHT id, with its nonce. */
const dhtIdOf = (cert: NodeCertificate) => dhtIdOfNode(cert.nodeId, nonceOf(cert));

/** Each node its own key and certificate, made once per file. */
const { certificate, removeAll } = testCertificates('swarm-dhtgw-');
afterAll(removeAll);

interface GatewayNode {
  readonly cert: NodeCertificate;
  readonly server: GatewayServer;
  readonly transport: GatewayDhtTransport;
  stop(): Promise<void>;
}

/** A real gateway on loopback serving the DHT methods through its own transport's inbound half. */
async function startGatewayNode(cert: NodeCertificate, log: Logger = silentLogger()): Promise<GatewayNode> {
  const inbound = createDhtInbound({ powDifficulty: POW_DIFFICULTY });
  const handlers: PeerHandlers = {
    nodeInfo: ({ peerId }) => ({ nodeId: cert.nodeId, version: 'test', advertisedAddress: '', peerNodeId: peerId, powNonce: nonceOf(cert) }),
    ping: ({ request }) => ({ payload: request.payload }),
    ...inbound.peerHandlers,
  };
  const server = await startGatewayServer({ certificate: cert, listen: { host: '127.0.0.1', port: 0 }, limits: LIMITS, handlers, log, time: systemTime });
  const transport = createGatewayDhtTransport({
    certificate: cert,
    advertise: server.address,
    powNonce: nonceOf(cert),
    powDifficulty: POW_DIFFICULTY,
    inbound,
    clock: systemClock,
    callTimeoutMs: CALL_TIMEOUT_MS,
  });
  let stopped = false;
  return {
    cert,
    server,
    transport,
    async stop() {
      if (stopped) return;
      stopped = true;
      await transport.close();
      await server.stop(0);
    },
  };
}

dhtTransportCompliance('gateways (gRPC, mutual TLS, loopback)', async () => {
  const nodes = await Promise.all([0, 1, 2].map(async (i) => startGatewayNode(await certificate(i))));
  return {
    transports: [nodes[0].transport, nodes[1].transport, nodes[2].transport],
    ids: [nodes[0].transport.dhtId, nodes[1].transport.dhtId, nodes[2].transport.dhtId],
    makeUnreachable: (i) => nodes[i].server.stop(0),
    settle: (p) => p,
    cleanup: async () => void (await Promise.all(nodes.map((n) => n.stop()))),
  };
});

/** One raw gRPC POST; resolves with the grpc-status and grpc-message that ended it. */
function rawCall(session: ClientHttp2Session, path: string, body: Buffer): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    let headers: IncomingHttpHeaders = {};
    const collect = (h: IncomingHttpHeaders) => void (headers = { ...headers, ...h });
    req.on('response', collect);
    req.on('trailers', collect);
    req.on('data', () => undefined);
    req.on('end', () => resolve({ status: String(headers['grpc-status']), message: decodeURIComponent(String(headers['grpc-message'] ?? '')) }));
    req.on('error', reject);
    req.end(body);
  });
}

/** Records are "provider|expiresAtMs": enough to show what is stored where (the registry injects the signed-NodeRecord check). */
const validatePlainRecord: RecordValidator = (_key, value, nowMs) => {
  const [provider, expires] = Buffer.from(value).toString('utf8').split('|');
  const expiresAtMs = Number(expires);
  if (!provider || !Number.isFinite(expiresAtMs)) return { ok: false, reason: 'not provider|expiresAtMs' };
  if (expiresAtMs <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, provider, issuedAtMs: 0, expiresAtMs };
};
const HOUR_MS = 60 * 60 * 1000;
const recordOf = (provider: string) => Buffer.from(`${provider}|${Date.now() + HOUR_MS}`);

describe('dht over gateways - real DHT nodes', () => {
  let gateways: GatewayNode[];
  let dhts: DhtNode[];
  let logLines: string[];

  beforeAll(async () => {
    logLines = [];
    const log = createLogger({ service: 'dht-gateway-test', level: 'warn', destination: { write: (line: string) => void logLines.push(line) } });
    gateways = [];
    dhts = [];
    for (let i = 0; i < 4; i++) {
      const gw = await startGatewayNode(await certificate(i), log);
      gateways.push(gw);
      const seeds = i === 0 ? [] : [gateways[0].transport.endpoint];
      dhts.push(
        await startDhtNode(
          { transport: gw.transport, clock: systemClock, scheduler: systemTime.scheduler, random: systemRandom, validate: validatePlainRecord },
          { id: gw.transport.dhtId, seeds, maintenance: false },
        ),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(dhts.map((d) => d.stop()));
    await Promise.all(gateways.map((g) => g.stop()));
  });

  it('joins through a seed, learns peers by their authenticated endpoints, and finds a provider', async () => {
    expect(dhts[3].bootstrapReport.seedsReached).toBe(1);
    // Each joiner enters the seed's table once the seed's dial-back to it answered.
    const known = await waitFor(() => (dhts[0].contacts().length === 3 ? dhts[0].contacts() : undefined));
    for (const c of known) {
      const gw = gateways.find((g) => g.transport.dhtId === c.id);
      expect(c.endpoint).toBe(dhtEndpoint(gw!.cert.nodeId, gw!.server.address, nonceOf(gw!.cert)));
    }
    const provided = await dhts[1].provide('matmul', () => recordOf(dhts[1].id));
    expect(provided.stored).toBe(4);
    const found = await dhts[3].findProviders('matmul');
    expect(found.values.map((v) => Buffer.from(v).toString('utf8').split('|')[0])).toEqual([dhts[1].id]);
  });

  it("refuses a peer that claims another node's DHT id: nothing stored, nothing learned, the node keeps serving", async () => {
    const [a, b, c] = gateways;
    const impostor = dialPeer({ certificate: c.cert, peer: { nodeId: b.cert.nodeId, address: b.server.address }, clock: systemClock });
    try {
      // A's id, with C's own proof of work: the id is not the one C's node id and nonce give.
      const claimA = { senderId: dhtIdOf(a.cert), senderAddress: '127.0.0.1:1', senderPowNonce: nonceOf(c.cert) };
      const refused = await impostor.call('dhtStore', { ...claimA, key: 'forged', value: recordOf(dhtIdOf(a.cert)) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SwarmError);
      expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED });
      // The reason is the peer's words, kept apart from the message (peer-status.ts).
      expect(refused).toMatchObject({ peerWords: expect.stringContaining(`is not the DHT id of the calling node ${c.cert.nodeId.slice(0, 12)}`) });
      await expect(impostor.call('dhtPing', claimA)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED });
      // C's node id with a nonce that is no proof of work, and the id the two give: an id that cost nothing.
      const cheap = unprovenNonce(c.cert.nodeId);
      const unproven = { senderId: dhtIdOfNode(c.cert.nodeId, cheap), senderAddress: '127.0.0.1:1', senderPowNonce: cheap };
      await expect(impostor.call('dhtStore', { ...unproven, key: 'forged', value: recordOf('cheap') })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_PERMISSION_DENIED,
        peerWords: expect.stringContaining(`is no proof of work of ${POW_DIFFICULTY} bits on the calling node`),
      });

      // Nothing stored: B holds no record under the key, and B never learned A's id at C's claimed address.
      const honest = { senderId: dhtIdOf(c.cert), senderAddress: `127.0.0.1:${c.server.address.port}`, senderPowNonce: nonceOf(c.cert) };
      const held = await impostor.call('dhtFindValue', { ...honest, targetId: dhtIdOf(b.cert), key: 'forged', paged: false, after: '' });
      expect(held.values).toEqual([]);
      expect(dhts[1].contacts().filter((k) => k.endpoint.endsWith('@127.0.0.1:1'))).toEqual([]);
      expect((await dhts[3].findProviders('forged')).values).toEqual([]);

      // The same call under C's own id is served.
      await expect(impostor.call('dhtStore', { ...honest, key: 'forged', value: recordOf(c.transport.dhtId) })).resolves.toEqual({ stored: true, refusal: '' });
      const refusal = logLines.map((l) => JSON.parse(l) as { msg: string; code?: string; peer?: string }).find((l) => l.msg === 'peer request refused');
      expect(refusal).toMatchObject({ code: 'SWARM_PERMISSION_DENIED', peer: c.cert.nodeId });
    } finally {
      impostor.close();
    }
  });

  /** Node C dialling node B's gateway as itself, with its own DHT sender fields. */
  async function asPeerCToB(
    run: (peer: ReturnType<typeof dialPeer>, sender: { senderId: string; senderAddress: string; senderPowNonce: bigint }, b: GatewayNode) => Promise<void>,
  ): Promise<void> {
    const [, b, c] = gateways;
    const peer = dialPeer({ certificate: c.cert, peer: { nodeId: b.cert.nodeId, address: b.server.address }, clock: systemClock });
    try {
      await run(peer, { senderId: dhtIdOf(c.cert), senderAddress: `127.0.0.1:${c.server.address.port}`, senderPowNonce: nonceOf(c.cert) }, b);
    } finally {
      peer.close();
    }
  }

  it('counts the records a peer stores against the network of its connection: one network fills 16 of a key’s slots, not all 256', async () => {
    await asPeerCToB(async (peer, sender, b) => {
      const outcomes = [];
      for (let i = 0; i < 20; i++) outcomes.push(await peer.call('dhtStore', { ...sender, key: 'sybil-key', value: recordOf(`made-up-${i}`) }));
      expect(outcomes.filter((o) => o.stored)).toHaveLength(16);
      expect(outcomes.at(-1)).toEqual({ stored: false, refusal: 'this key holds its limit of 16 providers from your network' });
      // A sender cannot name another network: the gateway reads it off the socket (loopback here).
      const held = await peer.call('dhtFindValue', { ...sender, targetId: dhtIdOf(b.cert), key: 'sybil-key', paged: false, after: '' });
      expect(held.values).toHaveLength(16);
    });
  });

  it('answers a find-value with at most 64 KiB of records, however large the records a key holds', async () => {
    await asPeerCToB(async (peer, sender, b) => {
      const padded = (provider: string) => Buffer.concat([recordOf(provider), Buffer.from(`|${'x'.repeat(8_000)}`)]);
      for (let i = 0; i < 16; i++) expect(await peer.call('dhtStore', { ...sender, key: 'padded-key', value: padded(`padded-${i}`) })).toEqual({ stored: true, refusal: '' });
      const held = await peer.call('dhtFindValue', { ...sender, targetId: dhtIdOf(b.cert), key: 'padded-key', paged: false, after: '' });
      expect(held.values.length).toBeGreaterThan(0);
      expect(held.values.reduce((n, v) => n + v.byteLength, 0)).toBeLessThanOrEqual(64 * 1024);
    });
  });

  it('admits a caller into the table only once its claimed address answers as it (dial-back)', async () => {
    const [, b] = gateways;
    // A fifth node with its own key, calling under its own id but naming addresses that are not its DHT.
    const stranger = await startGatewayNode(await certificate(4));
    const caller = dialPeer({ certificate: stranger.cert, peer: { nodeId: b.cert.nodeId, address: b.server.address }, clock: systemClock });
    try {
      const own = { senderId: dhtIdOf(stranger.cert), senderPowNonce: nonceOf(stranger.cert) };
      // Nothing listens at port 1; at its real gateway no DHT listens, so a ping there is UNAVAILABLE.
      await caller.call('dhtPing', { ...own, senderAddress: '127.0.0.1:1' });
      await caller.call('dhtPing', { ...own, senderAddress: `127.0.0.1:${stranger.server.address.port}` });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(dhts[1].contacts().filter((c) => c.id === own.senderId)).toEqual([]);
    } finally {
      caller.close();
      await stranger.stop();
    }
  });

  it('answers malformed bytes on every DHT method from a raw HTTP/2 client with SWARM_MALFORMED_MESSAGE, and keeps serving', async () => {
    const [, b, c] = gateways;
    const session = http2Connect(`https://127.0.0.1:${b.server.address.port}`, {
      key: c.cert.keyPem,
      cert: c.cert.certPem,
      rejectUnauthorized: false,
      servername: PEER_TLS_SERVERNAME,
    });
    session.on('error', () => undefined);
    try {
      for (const method of ['DhtPing', 'DhtStore', 'DhtFindNode', 'DhtFindValue']) {
        // Field 1 (string) announcing 100 bytes that never come; gRPC frame: flag 0, length 2.
        const answer = await rawCall(session, `/swarm.v1.PeerService/${method}`, Buffer.from([0, 0, 0, 0, 2, 0x0a, 0x64]));
        expect(answer).toEqual({ status: '3', message: expect.stringMatching(new RegExp(`^SWARM_MALFORMED_MESSAGE: the request is not a swarm\\.v1\\.${method}Request`)) });
      }
    } finally {
      session.destroy();
    }
    await expect(dhts[3].findProviders('matmul')).resolves.toMatchObject({ values: [expect.any(Uint8Array)] });
  });

  it('refuses bad fields as the memory path does, and an unusable sender address', async () => {
    const [, b, c] = gateways;
    const client = dialPeer({ certificate: c.cert, peer: { nodeId: b.cert.nodeId, address: b.server.address }, clock: systemClock });
    const sender = { senderId: c.transport.dhtId, senderAddress: `127.0.0.1:${c.server.address.port}`, senderPowNonce: nonceOf(c.cert) };
    try {
      await expect(client.call('dhtStore', { ...sender, key: '', value: new Uint8Array(1) })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
      await expect(client.call('dhtStore', { ...sender, key: 'k', value: new Uint8Array(16 * 1024 + 1) })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE });
      await expect(client.call('dhtFindNode', { ...sender, targetId: 'XYZ' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
      await expect(client.call('dhtPing', { ...sender, senderAddress: 'not an address' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
      await expect(client.call('dhtPing', { ...sender, senderAddress: '127.0.0.1:0' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
      // A host name parseHostPort takes (under 253 characters) that makes the endpoint too long for any reply to carry.
      const longHost = `${`${'a'.repeat(60)}.`.repeat(3)}example`;
      await expect(client.call('dhtPing', { ...sender, senderAddress: `${longHost}:4001` })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        peerWords: expect.stringContaining('DHT sender_address is too long'),
      });
      // Another spelling of the caller's address, which the dial-back's cooldown would take for another endpoint.
      for (const spelling of ['LOCALHOST', '127.00.000.1', '2130706433', '0x7f000001', '[::ffff:7f00:1]']) {
        await expect(client.call('dhtPing', { ...sender, senderAddress: `${spelling}:${c.server.address.port}` })).rejects.toMatchObject({
          code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
          peerWords: expect.stringMatching(/^DHT sender_address '.*' is refused: /),
        });
      }
      await expect(client.call('dhtPing', sender)).resolves.toEqual({ remoteId: b.transport.dhtId });
    } finally {
      client.close();
    }
  });
});

/** A gateway that answers as `cert` (node info, pings) and with `dht`: a peer whose DHT answers a test chooses. */
const serveAsPeer = (cert: NodeCertificate, dht: Partial<PeerHandlers>): Promise<GatewayServer> => serveTestPeer(cert, dht, LIMITS);

const namedSender = senderByNames;

describe('dht over gateways - what the sender believes', () => {
  it('leaves out of a reply the contacts at addresses its referrer could not know a node at, spelt another way, or at an address listed already', async () => {
    const referrer = await certificate(4);
    const listed = await Promise.all([5, 6, 7, 8, 15].map((n) => certificate(n)));
    const honest = await startGatewayNode(await certificate(9));
    const at = (cert: NodeCertificate, host: string) => ({ id: dhtIdOf(cert), endpoint: dhtEndpoint(cert.nodeId, { host, port: 4001 }, nonceOf(cert)) });
    // The last: another id at the first one's address.
    const contacts = [at(listed[0], '127.0.0.1'), at(listed[1], 'LOCALHOST'), at(listed[2], '0.0.0.0'), at(listed[3], '2130706433'), at(listed[4], '127.0.0.1')];
    const server = await serveAsPeer(referrer, {
      dhtFindNode: () => ({ contacts }),
      dhtFindValue: () => ({ values: [], contacts, moreAfter: '', paged: false }),
    });
    const to = dhtEndpoint(referrer.nodeId, server.address, nonceOf(referrer));
    try {
      const self = honest.transport.dhtId;
      expect((await honest.transport.findNode(to, { id: self, targetId: self })).contacts).toEqual([contacts[0]]);
      expect((await honest.transport.findValue(to, { id: self, targetId: self, key: 'k' })).contacts).toEqual([contacts[0]]);
    } finally {
      await honest.stop();
      await server.stop(0);
    }
  });

  it('dials a name by what it resolves to, and not at all where this node could not have been told that address', async () => {
    const [peerCert, ownCert] = await Promise.all([13, 14].map((n) => certificate(n)));
    const server = await serveAsPeer(peerCert, {
      dhtFindNode: () => ({ contacts: [] }),
    });
    const resolved: string[] = [];
    const resolve = (host: string) => (resolved.push(host), Promise.resolve(host === 'peer.example' ? ['127.0.0.1'] : []));
    const senderAt = (host: string) =>
      createGatewayDhtSender({ certificate: ownCert, powNonce: nonceOf(ownCert), powDifficulty: POW_DIFFICULTY, advertise: { host, port: 4001 }, clock: systemClock, resolve });
    const to = dhtEndpoint(peerCert.nodeId, { host: 'peer.example', port: server.address.port }, nonceOf(peerCert));
    const onLoopback = senderAt('127.0.0.1');
    const onPublic = senderAt('198.51.100.7');
    try {
      await expect(onLoopback.findNode(to, { id: onLoopback.dhtId, targetId: onLoopback.dhtId })).resolves.toEqual({ contacts: [] });
      // A name a peer on a public network named, pointing at this node's own loopback: not dialled.
      await expect(onPublic.findNode(to, { id: onPublic.dhtId, targetId: onPublic.dhtId })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_UNAVAILABLE,
        message: expect.stringContaining('peer.example resolves to no address this node dials for a peer'),
      });
      expect(resolved.filter((h) => h === 'peer.example')).toHaveLength(2);
      // The node's one scope, shared with its other dials (gateway-svc's), rules over the address it advertises alone.
      const sharing = createGatewayDhtSender({
        certificate: ownCert,
        powNonce: nonceOf(ownCert),
        powDifficulty: POW_DIFFICULTY,
        advertise: { host: '127.0.0.1', port: 4001 },
        clock: systemClock,
        resolve,
        ownScope: () => Promise.resolve('public'),
      });
      await expect(sharing.findNode(to, { id: sharing.dhtId, targetId: sharing.dhtId })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
      await sharing.close();
    } finally {
      await onLoopback.close();
      await onPublic.close();
      await server.stop(0);
    }
  });

  it('opens a connection by a name only as the rate of the address it resolves to allows, and asks that rate nothing for a connection kept or an address', async () => {
    const [peerCert, ownCert] = await Promise.all([13, 14].map((n) => certificate(n)));
    const server = await serveAsPeer(peerCert, { dhtFindNode: () => ({ contacts: [] }) });
    // Every name under a zone the attacker holds resolves to one victim (here, a real peer).
    const booked: string[] = [];
    const namedDials: NamedDialRate = { perSecond: 2, book: (address) => (booked.push(address), booked.length <= 2 ? 0 : booked.length === 3 ? 300 : undefined) };
    const sender = namedSender(ownCert, '.evil.example', namedDials);
    const named = (i: number) => dhtEndpoint(peerCert.nodeId, { host: `${i}.evil.example`, port: server.address.port }, nonceOf(peerCert));
    const find = (to: string) => sender.findNode(to, { id: sender.dhtId, targetId: sender.dhtId });
    try {
      await expect(find(named(1))).resolves.toEqual({ contacts: [] });
      await expect(find(named(2))).resolves.toEqual({ contacts: [] });
      await expect(find(named(1))).resolves.toEqual({ contacts: [] });
      // The third waits its turn; the fourth is booked past what a connection waits.
      const started = Date.now();
      await expect(find(named(3))).resolves.toEqual({ contacts: [] });
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      await expect(find(named(4))).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_UNAVAILABLE,
        message: expect.stringContaining('its name resolves to 127.0.0.1, dialled by names 2 times a second already'),
      });
      await expect(find(dhtEndpoint(peerCert.nodeId, server.address, nonceOf(peerCert)))).resolves.toEqual({ contacts: [] });
      expect(booked).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
    } finally {
      await sender.close();
      await server.stop(0);
    }
  });

  // helper-168: a client kept after its peer answered as another node made a new connection at each call, uncounted.
  it("counts every connection by name to a victim that answers as no node it was told, not just the first: the victim's TLS server takes no more than were booked", async () => {
    const [victimCert, attacker, ownCert] = await Promise.all([16, 17, 18].map((n) => certificate(n)));
    let connections = 0;
    const victim = createTlsServer({ key: victimCert.keyPem, cert: victimCert.certPem, ALPNProtocols: ['h2'], minVersion: 'TLSv1.3' }, (socket) => socket.end());
    victim.on('connection', () => connections++);
    await new Promise<void>((resolve) => victim.listen(0, '127.0.0.1', resolve));
    const port = (victim.address() as AddressInfo).port;
    // The real rate, its clock stopped (no refill within the test), loopback read as the public victim it stands for.
    const rate = createNamedDialRate(manualClock(1_000_000), 2, 0);
    let granted = 0;
    const namedDials: NamedDialRate = { perSecond: 2, book: (address, lane) => tally(rate.book(address === '127.0.0.1' ? '203.0.113.9' : address, lane)) };
    const tally = (waitMs: number | undefined) => (waitMs === undefined ? undefined : (granted++, waitMs));
    const sender = namedSender(ownCert, '.evil.example', namedDials);
    const named = (i: number) => dhtEndpoint(attacker.nodeId, { host: `${i}.evil.example`, port }, nonceOf(attacker));
    try {
      for (let round = 0; round < 5; round++) {
        for (const i of [1, 2]) await expect(sender.ping(named(i), { id: sender.dhtId })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
      }
      expect({ granted, connections }).toEqual({ granted: 2, connections: 2 });
    } finally {
      await sender.close();
      await new Promise((resolve) => victim.close(resolve));
    }
  });

  it('reaches three honest nodes known by name on one address (one host, or one CGNAT address) from one lookup, the third after its turn', async () => {
    const certs = await Promise.all([19, 20, 21, 22].map((n) => certificate(n)));
    const servers = await Promise.all(certs.slice(0, 3).map((c) => serveAsPeer(c, { dhtFindNode: () => ({ contacts: [] }) })));
    const rate = createNamedDialRate(systemStopwatch, 2);
    const sender = namedSender(certs[3], '.host.example', { perSecond: 2, book: (address, lane) => rate.book(address === '127.0.0.1' ? '203.0.113.9' : address, lane) });
    try {
      const results = await Promise.allSettled(
        servers.map((server, i) =>
          sender.findNode(dhtEndpoint(certs[i].nodeId, { host: `n${i}.host.example`, port: server.address.port }, nonceOf(certs[i])), { id: sender.dhtId, targetId: sender.dhtId }),
        ),
      );
      expect(results.map((r) => (r.status === 'fulfilled' ? 'answered' : (r.reason as Error).message))).toEqual(['answered', 'answered', 'answered']);
    } finally {
      await sender.close();
      await Promise.all(servers.map((server) => server.stop(0)));
    }
  });

  it('sends only as its own DHT id, and refuses a reply that names another id for a node', async () => {
    const liar = await certificate(4);
    const honest = await startGatewayNode(await certificate(5));
    const other = dhtIdOf(await certificate(6));
    const server = await serveAsPeer(liar, {
      dhtPing: () => ({ remoteId: other }),
      dhtFindNode: () => ({ contacts: [{ id: other, endpoint: dhtEndpoint(liar.nodeId, { host: '127.0.0.1', port: 9 }, nonceOf(liar)) }] }),
    });
    const to = dhtEndpoint(liar.nodeId, server.address, nonceOf(liar));
    try {
      const self = honest.transport.dhtId;
      await expect(honest.transport.ping(to, { id: 'a'.repeat(40) })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
      await expect(honest.transport.ping(to, { id: self })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        message: expect.stringContaining(`answered as DHT id ${other}`),
      });
      await expect(honest.transport.findNode(to, { id: self, targetId: other })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
      await expect(honest.transport.ping('127.0.0.1:1', { id: self })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
      // A gateway without DHT handlers answers UNAVAILABLE for those methods.
      await expect(honest.transport.store(to, { id: self, key: 'k', value: new Uint8Array(1) })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    } finally {
      await honest.stop();
      await server.stop(0);
    }
  });
});

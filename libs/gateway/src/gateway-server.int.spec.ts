import { ErrorCode, SwarmError } from '@swarm/contracts';
import { systemClock, systemTime } from '@swarm/determinism';
import type { NodeCertificate } from '@swarm/identity';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import { createLogger, silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import { credentials, makeGenericClientConstructor, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import type { GatewayLimits, GatewayServer, PeerHandlers } from './index';
import { dialPeer, PeerIdentityError, startGatewayServer } from './index';
import { clientServiceDefinition } from './peer-service';

const LIMITS: GatewayLimits = { maxMessageBytes: 64 * 1024, maxDeadlineMs: 5_000, handshakeTimeoutMs: 2_000, peer: { maxInflight: 4, ratePerSecond: 1_000, burst: 1_000 } };

interface TestNode {
  readonly dir: TempDir;
  readonly cert: NodeCertificate;
}

async function newNode(): Promise<TestNode> {
  const dir = await tempDir('swarm-gw-');
  return { dir, cert: await loadOrCreateNodeCertificate(dir.path, systemClock) };
}

/** Handlers that record who called; `hold` keeps ping calls open until released. */
function recordingHandlers(node: TestNode) {
  const seen: { method: string; peerId: string }[] = [];
  const held: (() => void)[] = [];
  const counts = { aborted: 0 };
  let hold = false;
  const handlers: PeerHandlers = {
    nodeInfo: ({ peerId }) => {
      seen.push({ method: 'nodeInfo', peerId });
      return { nodeId: node.cert.nodeId, version: 'test', advertisedAddress: '', peerNodeId: peerId, powNonce: 0n };
    },
    ping: async ({ peerId, request, signal }) => {
      seen.push({ method: 'ping', peerId });
      if (hold)
        await new Promise<void>((resolve) => {
          held.push(resolve);
          signal.addEventListener('abort', () => {
            counts.aborted += 1;
            resolve();
          });
        });
      return { payload: request.payload };
    },
  };
  return {
    seen,
    handlers,
    held,
    setHold: (on: boolean) => (hold = on),
    get aborted() {
      return counts.aborted;
    },
  };
}

describe('gateway - mutual TLS bound to node ids', () => {
  let a: TestNode, b: TestNode, c: TestNode;
  let server: GatewayServer;
  let rec: ReturnType<typeof recordingHandlers>;
  let logLines: string[];
  const clients: { close(): void }[] = [];
  const dial = (from: NodeCertificate, to: { nodeId: string }, extra: { callTimeoutMs?: number } = {}) => {
    const client = dialPeer({ certificate: from, peer: { nodeId: to.nodeId, address: server.address }, clock: systemClock, ...extra });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    [a, b, c] = await Promise.all([newNode(), newNode(), newNode()]);
  });
  afterAll(async () => {
    await Promise.all([a, b, c].map((n) => n.dir.remove()));
  });
  beforeEach(async () => {
    rec = recordingHandlers(a);
    logLines = [];
    const log = createLogger({ service: 'gateway-test', level: 'warn', destination: { write: (line: string) => void logLines.push(line) } });
    server = await startGatewayServer({ certificate: a.cert, listen: { host: '127.0.0.1', port: 0 }, limits: LIMITS, handlers: rec.handlers, log, time: systemTime });
  });
  afterEach(async () => {
    rec.held.forEach((release) => release());
    clients.splice(0).forEach((client) => client.close());
    await server.stop(1_000);
  });

  it('authenticates both ends: the handler sees the caller id, the caller reaches the id it dialled', async () => {
    const info = await dial(b.cert, a.cert).call('nodeInfo', {});
    expect(info).toMatchObject({ nodeId: a.cert.nodeId, peerNodeId: b.cert.nodeId });
    expect(rec.seen).toEqual([{ method: 'nodeInfo', peerId: b.cert.nodeId }]);
    expect(server.peerCount()).toBe(1);
  });

  it('refuses a client whose certificate key does not hash to the id it claims, before any handler runs', async () => {
    // C's key in a certificate that claims to be B.
    const forged = join(c.dir.path, 'forged-cert.pem');
    const keyFile = join(c.dir.path, 'node-key.pem');
    execFileSync('openssl', ['req', '-x509', '-key', keyFile, '-subj', `/CN=${b.cert.nodeId}`, '-days', '30', '-out', forged]);
    const impostor: NodeCertificate = { ...c.cert, nodeId: b.cert.nodeId, certPem: readFileSync(forged, 'utf8') };
    await expect(dial(impostor, a.cert).call('nodeInfo', {})).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    expect(rec.seen).toEqual([]);
    expect(server.peerCount()).toBe(0);
    const refusal = logLines.map((l) => JSON.parse(l) as { msg: string; reason: string }).find((l) => l.msg === 'peer connection refused: identity');
    expect(refusal?.reason).toBe(`the peer's certificate claims node ${b.cert.nodeId.slice(0, 12)}… but its key is node ${c.cert.nodeId.slice(0, 12)}…`);
  });

  it('refuses a client that presents no certificate, before any handler runs', async () => {
    const Client = makeGenericClientConstructor(clientServiceDefinition(), 'PeerService');
    const anonymous = new Client(`127.0.0.1:${server.address.port}`, credentials.createSsl(Buffer.from(a.cert.certPem), null, null, { checkServerIdentity: () => undefined }), {
      'grpc.ssl_target_name_override': 'swarm-peer',
    });
    const err = await new Promise<ServiceError | null>((resolve) =>
      (anonymous as unknown as Record<string, (r: unknown, o: unknown, cb: (e: ServiceError | null) => void) => void>).nodeInfo({}, { deadline: Date.now() + 3_000 }, resolve),
    );
    anonymous.close();
    expect(err?.code).toBe(status.UNAVAILABLE);
    expect(rec.seen).toEqual([]);
  });

  it('refuses to talk to a server that is not the node the client dialled', async () => {
    const err = await dial(b.cert, c.cert)
      .call('nodeInfo', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerIdentityError);
    expect((err as PeerIdentityError).code).toBe('SWARM_PEER_IDENTITY');
    expect((err as Error).message).toContain(`is node ${a.cert.nodeId.slice(0, 12)}`);
    expect(rec.seen).toEqual([]);
  });

  it('tells a caller its address reached the peer when a handshake met it, a call there past its deadline included; not for another node, a pinned certificate alone, or nothing listening', async () => {
    rec.setHold(true);
    const slow = dial(b.cert, a.cert, { callTimeoutMs: 300 });
    expect(slow.reachedPeer?.()).toBe(false);
    await expect(slow.call('ping', { payload: new Uint8Array(1) })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED });
    expect(slow.reachedPeer?.()).toBe(true);
    // Pinned: no certificate fetched, the gRPC connection's own handshake tells.
    const pinnedSlow = dialPeer({
      certificate: b.cert,
      peer: { nodeId: a.cert.nodeId, address: server.address },
      clock: systemClock,
      callTimeoutMs: 300,
      pinnedCertPem: a.cert.certPem,
    });
    clients.push(pinnedSlow);
    await expect(pinnedSlow.call('ping', { payload: new Uint8Array(1) })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED });
    expect(pinnedSlow.reachedPeer?.()).toBe(true);
    const impostor = dial(b.cert, c.cert);
    await expect(impostor.call('nodeInfo', {})).rejects.toBeInstanceOf(PeerIdentityError);
    expect(impostor.reachedPeer?.()).toBe(false);
    const gone = await newNode();
    const nobody = await startGatewayServer({
      certificate: gone.cert,
      listen: { host: '127.0.0.1', port: 0 },
      limits: LIMITS,
      handlers: rec.handlers,
      log: silentLogger(),
      time: systemTime,
    });
    const emptyPort = nobody.address.port;
    await nobody.stop(1_000);
    for (const pinned of [{}, { pinnedCertPem: gone.cert.certPem }]) {
      const client = dialPeer({
        certificate: b.cert,
        peer: { nodeId: gone.cert.nodeId, address: { host: '127.0.0.1', port: emptyPort } },
        clock: systemClock,
        callTimeoutMs: 1_000,
        ...pinned,
      });
      clients.push(client);
      await expect(client.call('nodeInfo', {})).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
      expect(client.reachedPeer?.()).toBe(false);
    }
    await gone.dir.remove();
  });

  it('refuses a server certificate pinned in advance for another key', async () => {
    const client = dialPeer({ certificate: b.cert, peer: { nodeId: a.cert.nodeId, address: server.address }, clock: systemClock, pinnedCertPem: c.cert.certPem });
    clients.push(client);
    await expect(client.call('nodeInfo', {})).rejects.toBeInstanceOf(PeerIdentityError);
  });

  it('answers an oversized message with RESOURCE_EXHAUSTED and keeps serving that peer and others', async () => {
    const fromB = dial(b.cert, a.cert);
    const err = await fromB.call('ping', { payload: new Uint8Array(LIMITS.maxMessageBytes + 1) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwarmError);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE });
    expect(((err as SwarmError).cause as Error).message).toMatch(/gRPC status RESOURCE_EXHAUSTED$/);
    expect(err).toMatchObject({ peerWords: expect.stringMatching(/larger than max/) });
    expect(rec.seen).toEqual([]);
    await expect(fromB.call('ping', { payload: new Uint8Array([1, 2, 3]) })).resolves.toEqual({ payload: new Uint8Array([1, 2, 3]) });
    await expect(dial(c.cert, a.cert).call('nodeInfo', {})).resolves.toMatchObject({ peerNodeId: c.cert.nodeId });
  });

  it('refuses calls past the per-peer in-flight limit with RESOURCE_EXHAUSTED while other peers are served', async () => {
    rec.setHold(true);
    const flooder = dial(c.cert, a.cert);
    const refused: unknown[] = [];
    const flood = Array.from({ length: 3 * LIMITS.peer.maxInflight }, () => flooder.call('ping', { payload: new Uint8Array(1) }).catch((e: unknown) => (refused.push(e), e)));
    await waitFor(() => refused.length === 2 * LIMITS.peer.maxInflight && rec.held.length === LIMITS.peer.maxInflight, { timeoutMs: 5_000 });
    for (const e of refused) {
      expect(e).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED });
      expect(e).toMatchObject({ peerWords: expect.stringContaining(`calls in flight (limit ${LIMITS.peer.maxInflight} per peer)`) });
      expect(((e as SwarmError).cause as Error).message).toMatch(/gRPC status RESOURCE_EXHAUSTED$/);
    }
    rec.setHold(false);
    await expect(dial(b.cert, a.cert).call('nodeInfo', {})).resolves.toMatchObject({ peerNodeId: b.cert.nodeId });
    rec.held.splice(0).forEach((release) => release());
    const outcomes = await Promise.all(flood);
    expect(outcomes.filter((r) => !(r instanceof Error))).toHaveLength(LIMITS.peer.maxInflight);
    await expect(flooder.call('ping', { payload: new Uint8Array(1) })).resolves.toBeDefined();
  });

  it('caps every call at the server deadline and aborts the handler', async () => {
    await server.stop(1_000);
    rec = recordingHandlers(a);
    rec.setHold(true);
    server = await startGatewayServer({
      certificate: a.cert,
      listen: { host: '127.0.0.1', port: 0 },
      limits: { ...LIMITS, maxDeadlineMs: 200 },
      handlers: rec.handlers,
      log: silentLogger(),
      time: systemTime,
    });
    const started = Date.now();
    const err = await dial(b.cert, a.cert, { callTimeoutMs: 10_000 })
      .call('ping', { payload: new Uint8Array(1) })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED });
    expect(err).toMatchObject({ peerWords: expect.stringContaining('at most 200 ms') });
    expect(rec.aborted).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('gateway - per-peer request rate', () => {
  it('refuses a peer over its rate with RESOURCE_EXHAUSTED and a retry hint while another peer is served', async () => {
    const [a, b, c] = await Promise.all([newNode(), newNode(), newNode()]);
    const rec = recordingHandlers(a);
    const burst = 5;
    const server = await startGatewayServer({
      certificate: a.cert,
      listen: { host: '127.0.0.1', port: 0 },
      limits: { ...LIMITS, peer: { maxInflight: 100, ratePerSecond: 0.01, burst } },
      handlers: rec.handlers,
      log: silentLogger(),
      time: systemTime,
    });
    const fromC = dialPeer({ certificate: c.cert, peer: { nodeId: a.cert.nodeId, address: server.address }, clock: systemClock });
    const fromB = dialPeer({ certificate: b.cert, peer: { nodeId: a.cert.nodeId, address: server.address }, clock: systemClock });
    try {
      const outcomes = [];
      for (let i = 0; i < 3 * burst; i++) outcomes.push(await fromC.call('nodeInfo', {}).catch((e: unknown) => e));
      const refused = outcomes.filter((o) => o instanceof SwarmError);
      expect(refused).toHaveLength(2 * burst);
      expect(refused[0]).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED });
      expect(refused[0]).toMatchObject({ peerWords: expect.stringContaining('calls/s (burst 5)') });
      expect(refused[0].retryAfterMs).toBeGreaterThan(0);
      await expect(fromB.call('nodeInfo', {})).resolves.toMatchObject({ peerNodeId: b.cert.nodeId });
      expect(rec.seen.filter((s) => s.peerId === c.cert.nodeId)).toHaveLength(burst);
    } finally {
      fromB.close();
      fromC.close();
      await server.stop(1_000);
      await Promise.all([a, b, c].map((n) => n.dir.remove()));
    }
  });

  it('holds a host to its own allowance however many node ids it uses, and closes connections past its cap', async () => {
    const nodes = await Promise.all(Array.from({ length: 6 }, () => newNode()));
    const [a, ...callers] = nodes;
    const rec = recordingHandlers(a);
    const hostBurst = 8;
    const server = await startGatewayServer({
      certificate: a.cert,
      listen: { host: '127.0.0.1', port: 0 },
      limits: {
        ...LIMITS,
        peer: { maxInflight: 100, ratePerSecond: 0.01, burst: 5 },
        shared: { host: { maxInflight: 100, ratePerSecond: 0.01, burst: hostBurst, maxConnections: 6 }, maxInflightTotal: 100 },
      },
      handlers: rec.handlers,
      log: silentLogger(),
      time: systemTime,
    });
    const dialled = callers.map((n) => dialPeer({ certificate: n.cert, peer: { nodeId: a.cert.nodeId, address: server.address }, clock: systemClock, callTimeoutMs: 3_000 }));
    try {
      // Five identities, five calls each: one peer's burst is 5, the host's 8 for all of them.
      const outcomes = [];
      for (const client of dialled) for (let i = 0; i < 5; i++) outcomes.push(await client.call('nodeInfo', {}).catch((e: unknown) => e));
      expect(outcomes.filter((o) => !(o instanceof SwarmError))).toHaveLength(hostBurst);
      const refused = outcomes.filter((o): o is SwarmError => o instanceof SwarmError);
      expect(refused.map((e) => e.codeName)).toEqual(Array(5 * 5 - hostBurst).fill('SWARM_OVERLOADED'));
      expect(refused.at(-1)).toMatchObject({ peerWords: expect.stringContaining('whatever its node ids') });
      // Connections past the host's cap (6 here; the five callers hold one each) are closed before any handshake.
      const raw = await Promise.all(Array.from({ length: 4 }, () => openRaw(server.address.port)));
      const closed = await Promise.all(raw.map((r) => r.closedWithin(500)));
      expect(closed.filter(Boolean).length).toBeGreaterThanOrEqual(3);
      raw.forEach((r) => r.socket.destroy());
    } finally {
      dialled.forEach((client) => client.close());
      await server.stop(1_000);
      await Promise.all(nodes.map((n) => n.dir.remove()));
    }
  });
});

/** A plain TCP connection to the gateway, and whether the server closes it within `ms`. */
async function openRaw(port: number): Promise<{ socket: Socket; closedWithin(ms: number): Promise<boolean> }> {
  const socket = connectTcp(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const closed = new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, closedWithin: (ms) => Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]) };
}

/**
 * Malformed input from a client that is not grpc-js: node:http2 with hand-built gRPC frames over
 * an authenticated TLS connection, TLS with HTTP/1 inside, and raw bytes that are not TLS. Each is
 * refused with a clear status or a closed connection, no handler runs, and the gateway keeps serving.
 */
import { CHAIN_PAGE_MAX_BLOCKS, ErrorCode } from '@swarm/contracts';
import { systemClock, systemTime } from '@swarm/determinism';
import type { NodeCertificate } from '@swarm/identity';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import { silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { grpcFrame, rawGrpcCall as rawCall, tempDir } from '@swarm/testing';
import { connect as http2Connect } from 'node:http2';
import type { Socket } from 'node:net';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { GatewayServer } from './index';
import { dialPeer, PEER_TLS_SERVERNAME, startGatewayServer } from './index';
import { MIN_IDLE_MS } from '@swarm/connection-cap';

/** Resolves when the server closes a connection that sent `bytes`. */
function closedAfter(socket: Socket, bytes: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.once('close', () => resolve());
    socket.write(bytes);
  });
}

const RECEIVE_TIMEOUT_MS = 1_000;

describe('gateway - malformed bytes from a raw HTTP/2 client', () => {
  let a: { dir: TempDir; cert: NodeCertificate }, b: { dir: TempDir; cert: NodeCertificate };
  let server: GatewayServer;
  const calls: string[] = [];
  const pingCallers: Array<{ peerId: string; network: string }> = [];

  beforeAll(async () => {
    const dirs = await Promise.all([tempDir('swarm-gw-'), tempDir('swarm-gw-')]);
    const certs = await Promise.all(dirs.map((d) => loadOrCreateNodeCertificate(d.path, systemClock)));
    a = { dir: dirs[0], cert: certs[0] };
    b = { dir: dirs[1], cert: certs[1] };
    server = await startGatewayServer({
      certificate: a.cert,
      listen: { host: '127.0.0.1', port: 0 },
      limits: {
        maxMessageBytes: 64 * 1024,
        maxDeadlineMs: 5_000,
        handshakeTimeoutMs: 2_000,
        requestReceiveTimeoutMs: RECEIVE_TIMEOUT_MS,
        peer: { maxInflight: 8, ratePerSecond: 1_000, burst: 1_000 },
      },
      handlers: {
        nodeInfo: ({ peerId }) => (calls.push('nodeInfo'), { nodeId: a.cert.nodeId, version: 'test', advertisedAddress: '', peerNodeId: peerId, powNonce: 0n }),
        ping: ({ peerId, network, request }) => (calls.push('ping'), pingCallers.push({ peerId, network }), { payload: request.payload }),
      },
      log: silentLogger(),
      time: systemTime,
    });
  });
  /** node:http2 over TLS as peer b: an authenticated connection that is not grpc-js. */
  const rawSession = () => {
    const session = http2Connect(`https://127.0.0.1:${server.address.port}`, {
      key: b.cert.keyPem,
      cert: b.cert.certPem,
      rejectUnauthorized: false,
      servername: PEER_TLS_SERVERNAME,
    });
    session.on('error', () => undefined);
    return session;
  };

  afterAll(async () => {
    await server.stop(1_000);
    await Promise.all([a.dir.remove(), b.dir.remove()]);
  });

  it('answers each malformed call with a clear status, runs no handler, and keeps serving', async () => {
    const session = rawSession();
    try {
      const ping = '/swarm.v1.PeerService/Ping';
      // Field 1 (bytes) announcing 100 bytes that never come: not a PingRequest.
      const notProtobuf = await rawCall(session, ping, grpcFrame(new Uint8Array([0x0a, 0x64])));
      expect(notProtobuf.status).toBe('3'); // INVALID_ARGUMENT
      expect(notProtobuf.message).toMatch(/^SWARM_MALFORMED_MESSAGE: the request is not a swarm\.v1\.PingRequest/);
      // The length prefix promises more bytes than the stream carries.
      const truncated = await rawCall(session, ping, grpcFrame(new Uint8Array([1, 2, 3]), { declaredLength: 100 }));
      expect(truncated.status).not.toBe('0');
      // Two messages on a unary call.
      const twice = await rawCall(session, ping, Buffer.concat([grpcFrame(new Uint8Array()), grpcFrame(new Uint8Array())]));
      expect(twice.status).not.toBe('0');
      // A length prefix far over the message limit.
      const huge = await rawCall(session, ping, grpcFrame(new Uint8Array(8), { declaredLength: 0x7fffffff }));
      expect(huge.status).toBe('8'); // RESOURCE_EXHAUSTED
      const unknown = await rawCall(session, '/swarm.v1.PeerService/Nope', grpcFrame(new Uint8Array()));
      expect(unknown.status).toBe('12'); // UNIMPLEMENTED
      // The same connection still carries a good call.
      const good = await rawCall(session, ping, grpcFrame(new Uint8Array([0x0a, 0x01, 0x07])));
      expect(good.status).toBe('0');
    } finally {
      session.destroy();
    }
    expect(calls).toEqual(['ping']);
  });

  it('ends calls whose request never comes whole (headers only, part of a message, or a message never half-closed) and closes their connections, freeing slots and buffers for honest calls', async () => {
    const ping = '/swarm.v1.PeerService/Ping';
    const good = (on: ReturnType<typeof rawSession>) => rawCall(on, ping, grpcFrame(new Uint8Array([0x0a, 0x01, 0x07])));
    // The peer's 8 slots taken on two connections: one sends headers only or half a message, the
    // other whole messages without half-closing (grpc-js runs a unary handler only at half-close).
    const stalling = [rawSession(), rawSession()];
    const closed = stalling.map((session) => new Promise<void>((resolve) => session.once('close', () => resolve())));
    const fresh = rawSession();
    try {
      const held = Array.from({ length: 8 }, (_, i) => {
        const session = stalling[i < 4 ? 0 : 1];
        const req = session.request({ ':method': 'POST', ':path': ping, 'content-type': 'application/grpc', te: 'trailers' });
        req.on('error', () => undefined);
        req.on('data', () => undefined);
        if (i === 1 || i === 3) req.write(grpcFrame(new Uint8Array(8), { declaredLength: 1_000 }));
        if (i >= 4) req.write(grpcFrame(new Uint8Array([0x0a, 0x01, 0x07])));
        return new Promise<void>((resolve) => req.once('close', () => resolve()));
      });
      await new Promise((resolve) => setTimeout(resolve, RECEIVE_TIMEOUT_MS / 4));
      // Refused while they hold the slots.
      expect(await good(fresh)).toEqual({ status: '8', message: expect.stringMatching(/^SWARM_OVERLOADED: /) as string });
      // The stalled calls end, and the connections that held them with them.
      await Promise.all([...held, ...closed]);
      expect((await good(fresh)).status).toBe('0');
    } finally {
      for (const session of [...stalling, fresh]) session.destroy();
    }
  });

  it('hands the handler the peer id and network it read off the connection, whatever metadata the caller sent', async () => {
    const session = rawSession();
    pingCallers.length = 0;
    try {
      const forged = { 'swarm-peer-network': ['10.9.9.0/24', '10.8.8.0/24'], 'swarm-authenticated-peer': 'f'.repeat(64) };
      const good = await rawCall(session, '/swarm.v1.PeerService/Ping', grpcFrame(new Uint8Array([0x0a, 0x01, 0x07])), forged);
      expect(good.status).toBe('0');
    } finally {
      session.destroy();
    }
    expect(pingCallers).toEqual([{ peerId: b.cert.nodeId, network: '127.0.0.0/8' }]);
  });

  it('drops connections that are not HTTP/2 over TLS and keeps serving', async () => {
    const port = server.address.port;
    await closedAfter(netConnect(port, '127.0.0.1'), Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3, 4]));
    await closedAfter(netConnect(port, '127.0.0.1'), 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const http1 = tlsConnect({ host: '127.0.0.1', port, key: b.cert.keyPem, cert: b.cert.certPem, rejectUnauthorized: false, servername: PEER_TLS_SERVERNAME });
    await new Promise((resolve) => http1.once('secureConnect', resolve));
    await closedAfter(http1, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const client = dialPeer({ certificate: b.cert, peer: { nodeId: a.cert.nodeId, address: server.address }, clock: systemClock });
    try {
      await expect(client.call('nodeInfo', {})).resolves.toMatchObject({ nodeId: a.cert.nodeId, peerNodeId: b.cert.nodeId });
    } finally {
      client.close();
    }
  });
});

describe('gateway - connections from all hosts together', () => {
  const start = async (maxConnections: number, handshakeTimeoutMs: number) => {
    const dirs = await Promise.all([tempDir('swarm-gw-'), tempDir('swarm-gw-')]);
    const [server, client] = await Promise.all(dirs.map((d) => loadOrCreateNodeCertificate(d.path, systemClock)));
    const gateway = await startGatewayServer({
      certificate: server,
      listen: { host: '127.0.0.1', port: 0 },
      limits: { maxMessageBytes: 64 * 1024, maxDeadlineMs: 5_000, handshakeTimeoutMs, maxConnections, peer: { maxInflight: 8, ratePerSecond: 1_000, burst: 1_000 } },
      handlers: {
        nodeInfo: ({ peerId }) => ({ nodeId: server.nodeId, version: 'test', advertisedAddress: '', peerNodeId: peerId, powNonce: 0n }),
        ping: ({ request }) => ({ payload: request.payload }),
      },
      log: silentLogger(),
      time: systemTime,
    });
    const silent = () =>
      new Promise<{ socket: Socket; closed: Promise<void> }>((resolve) => {
        const socket: Socket = netConnect(gateway.address.port, '127.0.0.1', () => resolve({ socket, closed }));
        const closed = new Promise<void>((done) => socket.once('close', () => done()));
        socket.on('error', () => undefined);
      });
    const dial = () => dialPeer({ certificate: client, peer: { nodeId: server.nodeId, address: gateway.address }, clock: systemClock });
    const stop = async () => {
      await gateway.stop(1_000);
      await Promise.all(dirs.map((d) => d.remove()));
    };
    return { server, silent, dial, stop };
  };

  it('closes a connection whose TLS handshake has not finished by its timeout (it was kept, and its place under the caps)', async () => {
    const { silent, stop } = await start(16, 300);
    try {
      const { closed } = await silent();
      await closed;
    } finally {
      await stop();
    }
  });

  it('at its cap, lets a new peer in by closing the connection handshaking longest', async () => {
    // A handshake timeout far past the test's: only the cap closes a silent connection.
    const { server, silent, dial, stop } = await start(2, 120_000);
    const held = [await silent(), await silent()];
    const peer = dial();
    try {
      await expect(peer.call('nodeInfo', {})).resolves.toMatchObject({ nodeId: server.nodeId });
      await held[0]?.closed;
    } finally {
      peer.close();
      for (const h of held) h.socket.destroy();
      await stop();
    }
  });
});

describe('gateway - messages counted before they are decoded', () => {
  it("refuses a peer's request of millions of empty receipts undecoded, and its own dial refuses an answer of too many blocks", async () => {
    const dirs = await Promise.all([tempDir('swarm-gw-'), tempDir('swarm-gw-')]);
    const [server, client] = await Promise.all(dirs.map((d) => loadOrCreateNodeCertificate(d.path, systemClock)));
    const delivered: number[] = [];
    const gateway = await startGatewayServer({
      certificate: server,
      listen: { host: '127.0.0.1', port: 0 },
      limits: { maxMessageBytes: 8 * 1024 * 1024, maxDeadlineMs: 5_000, handshakeTimeoutMs: 2_000, peer: { maxInflight: 8, ratePerSecond: 1_000, burst: 1_000 } },
      handlers: {
        nodeInfo: ({ peerId }) => ({ nodeId: server.nodeId, version: 'test', advertisedAddress: '', peerNodeId: peerId, powNonce: 0n }),
        ping: ({ request }) => ({ payload: request.payload }),
        deliverReceipts: ({ request }) => (delivered.push(request.receipts.length), { outcomes: [] }),
        // A peer answering with more blocks than a page holds.
        chainBlocks: () => ({ blocks: Array.from({ length: CHAIN_PAGE_MAX_BLOCKS + 1 }, () => new Uint8Array(0)), headSeq: 1n, nodeId: server.nodeId }),
      },
      log: silentLogger(),
      time: systemTime,
    });
    const session = http2Connect(`https://127.0.0.1:${gateway.address.port}`, {
      key: client.keyPem,
      cert: client.certPem,
      rejectUnauthorized: false,
      servername: PEER_TLS_SERVERNAME,
    });
    session.on('error', () => undefined);
    const peer = dialPeer({ certificate: client, peer: { nodeId: server.nodeId, address: gateway.address }, clock: systemClock });
    try {
      // 2M empty receipts, 4 MB on the wire: decoded, about 400 MB of heap.
      const flood = Buffer.alloc(2_000_000 * 2, Buffer.from([0x0a, 0]));
      const refused = await rawCall(session, '/swarm.v1.PeerService/DeliverReceipts', grpcFrame(flood));
      expect(refused).toEqual({ status: '3', message: expect.stringMatching(/^SWARM_INVALID_ARGUMENT: a swarm\.v1\.DeliverReceiptsRequest holds at most 64 receipts/) as string });
      expect(delivered).toEqual([]);
      await expect(peer.call('deliverReceipts', { receipts: [] })).resolves.toEqual({ outcomes: [] });
      expect(delivered).toEqual([0]);
      // grpc-js ends a call whose answer does not deserialize INTERNAL, with the reason in its details.
      await expect(peer.call('chainBlocks', { fromSeq: 1n, limit: 10 })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INTERNAL,
        peerWords: expect.stringMatching(/holds at most 1000 blocks/) as string,
      });
    } finally {
      peer.close();
      session.destroy();
      await gateway.stop(1_000);
      await Promise.all(dirs.map((d) => d.remove()));
    }
  });
});

describe('gateway - at its connection cap', () => {
  it('lets a new connection take the place of the longest idle one, and refuses it only while every one has a call in flight', async () => {
    const dirs = await Promise.all([tempDir('swarm-gw-'), tempDir('swarm-gw-')]);
    const [server, client] = await Promise.all(dirs.map((d) => loadOrCreateNodeCertificate(d.path, systemClock)));
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const gateway = await startGatewayServer({
      certificate: server,
      listen: { host: '127.0.0.1', port: 0 },
      limits: { maxMessageBytes: 64 * 1024, maxDeadlineMs: 30_000, handshakeTimeoutMs: 120_000, maxConnections: 2, peer: { maxInflight: 8, ratePerSecond: 1_000, burst: 1_000 } },
      handlers: {
        nodeInfo: ({ peerId }) => ({ nodeId: server.nodeId, version: 'test', advertisedAddress: '', peerNodeId: peerId, powNonce: 0n }),
        // A payload of 9 waits at the gate: a call in flight.
        ping: async ({ request }) => (request.payload[0] === 9 && (await gate), { payload: request.payload }),
      },
      log: silentLogger(),
      time: systemTime,
    });
    const session = () => {
      const s = http2Connect(`https://127.0.0.1:${gateway.address.port}`, { key: client.keyPem, cert: client.certPem, rejectUnauthorized: false, servername: PEER_TLS_SERVERNAME });
      s.on('error', () => undefined);
      return s;
    };
    const ping = (s: ReturnType<typeof session>, payload: number) => rawCall(s, '/swarm.v1.PeerService/Ping', grpcFrame(new Uint8Array([0x0a, 0x01, payload])));
    const sessions = [session(), session()];
    try {
      // Two idle connections fill the cap; the one idle longer is closed for a third, once both
      // have been idle a while (a call may be on its way on one just used).
      expect((await ping(sessions[0], 1)).status).toBe('0');
      expect((await ping(sessions[1], 1)).status).toBe('0');
      await new Promise((resolve) => setTimeout(resolve, MIN_IDLE_MS + 100));
      const older = new Promise<void>((resolve) => sessions[0].once('close', () => resolve()));
      sessions.push(session());
      expect((await ping(sessions[2], 1)).status).toBe('0');
      await older;
      // Both connections now hold a call in flight: a new one is refused, not made room for.
      const waiting = [ping(sessions[1], 9), ping(sessions[2], 9)];
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refused = session();
      sessions.push(refused);
      await expect(ping(refused, 1)).rejects.toThrow();
      open();
      expect((await Promise.all(waiting)).map((r) => r.status)).toEqual(['0', '0']);
    } finally {
      open();
      for (const s of sessions) s.destroy();
      await gateway.stop(1_000);
      await Promise.all(dirs.map((d) => d.remove()));
    }
  });
});

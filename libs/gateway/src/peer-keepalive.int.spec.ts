/**
 * A peer whose link is cut mid-call sends nothing more, not even a reset: the client's HTTP/2
 * keepalive must fail the call in time for the router to re-dispatch, long before its deadline,
 * while a call to a peer that is only slow (still answering pings) runs on. The cut is a TCP relay
 * that starts dropping bytes both ways and keeps both sockets open, as a pulled cable does.
 * (tools/e2e swarm-netns.int.spec.ts cuts a real veth between network namespaces.)
 */
import { ErrorCode } from '@swarm/contracts';
import { systemClock, systemTime } from '@swarm/determinism';
import type { NodeCertificate } from '@swarm/identity';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import { silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import type { AddressInfo, Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import type { GatewayLimits, GatewayServer, PeerClient } from './index';
import { dialPeer, PEER_KEEPALIVE_TIME_MS, PEER_KEEPALIVE_TIMEOUT_MS, startGatewayServer } from './index';

/** The calls' own deadline, far beyond what the keepalive needs to notice a cut. */
const CALL_TIMEOUT_MS = 30_000;
const LIMITS: GatewayLimits = {
  maxMessageBytes: 64 * 1024,
  maxDeadlineMs: CALL_TIMEOUT_MS,
  handshakeTimeoutMs: 2_000,
  peer: { maxInflight: 4, ratePerSecond: 1_000, burst: 1_000 },
};
/** Timers and a loaded machine's event loops. */
const SLACK_MS = 2_000;

interface Relay {
  readonly port: number;
  /** From now on every byte either way is dropped; the sockets stay open. */
  cut(): void;
  close(): Promise<void>;
}

function startRelay(upstreamPort: number): Promise<Relay> {
  let cut = false;
  const sockets: Socket[] = [];
  const server: Server = createServer((downstream) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.push(downstream, upstream);
    downstream.on('data', (d: Buffer) => void (cut || upstream.write(d)));
    upstream.on('data', (d: Buffer) => void (cut || downstream.write(d)));
    const end = () => [downstream, upstream].forEach((s) => s.destroy());
    downstream.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        cut: () => void (cut = true),
        close: () => {
          sockets.forEach((s) => s.destroy());
          return new Promise<void>((closed) => server.close(() => closed()));
        },
      }),
    ),
  );
}

describe('gateway - keepalive on calls to peers', () => {
  const dirs: TempDir[] = [];
  const relays: Relay[] = [];
  const clients: PeerClient[] = [];
  let server: GatewayServer | undefined;
  /** Ping calls the server holds open until released (or cancelled). */
  const held: (() => void)[] = [];

  afterAll(async () => {
    held.forEach((release) => release());
    clients.forEach((c) => c.close());
    await Promise.all(relays.map((r) => r.close()));
    await server?.stop(1_000);
    await Promise.all(dirs.map((d) => d.remove()));
  });

  async function newCertificate(): Promise<NodeCertificate> {
    const dir = await tempDir('swarm-gw-keepalive-');
    dirs.push(dir);
    return loadOrCreateNodeCertificate(dir.path, systemClock);
  }

  it(
    'fails a call to a peer cut off mid-call within keepalive time + timeout, and keeps a slow call to a reachable peer',
    async () => {
      const [serverCert, clientCert] = await Promise.all([newCertificate(), newCertificate()]);
      server = await startGatewayServer({
        certificate: serverCert,
        listen: { host: '127.0.0.1', port: 0 },
        limits: LIMITS,
        log: silentLogger(),
        time: systemTime,
        handlers: {
          nodeInfo: () => ({ nodeId: serverCert.nodeId, version: 'test', advertisedAddress: '', peerNodeId: '', powNonce: 0n }),
          ping: async ({ request, signal }) => {
            await new Promise<void>((resolve) => {
              held.push(resolve);
              signal.addEventListener('abort', () => resolve());
            });
            return { payload: request.payload };
          },
        },
      });
      const upstream = server.address.port;
      const [cutRelay, intactRelay] = await Promise.all([startRelay(upstream), startRelay(upstream)]);
      relays.push(cutRelay, intactRelay);
      const viaRelay = (relay: Relay) => {
        const client = dialPeer({ certificate: clientCert, peer: { nodeId: serverCert.nodeId, address: { host: '127.0.0.1', port: relay.port } }, clock: systemClock });
        clients.push(client);
        return client;
      };

      const payload = new Uint8Array([1, 2, 3]);
      const started = Date.now();
      let cutAt = Number.POSITIVE_INFINITY;
      const toCut = viaRelay(cutRelay)
        .call('ping', { payload }, { timeoutMs: CALL_TIMEOUT_MS })
        .then(
          () => ({ failedAfterMs: -1, code: undefined }),
          (err: { code?: ErrorCode }) => ({ failedAfterMs: Date.now() - cutAt, code: err.code }),
        );
      const slow = viaRelay(intactRelay).call('ping', { payload }, { timeoutMs: CALL_TIMEOUT_MS });
      await waitFor(() => held.length === 2, { timeoutMs: 10_000, what: 'both calls reach the handler' });
      cutRelay.cut();
      cutAt = Date.now();

      const failed = await toCut;
      expect(failed.code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
      expect(failed.failedAfterMs).toBeGreaterThanOrEqual(0);
      expect(failed.failedAfterMs).toBeLessThan(PEER_KEEPALIVE_TIME_MS + PEER_KEEPALIVE_TIMEOUT_MS + SLACK_MS);

      // The reachable peer answered every ping meanwhile: its call, held as long, is still open.
      held.forEach((release) => release());
      await expect(slow).resolves.toEqual({ payload });
      expect(Date.now() - started).toBeGreaterThan(PEER_KEEPALIVE_TIMEOUT_MS);
    },
    CALL_TIMEOUT_MS,
  );
});

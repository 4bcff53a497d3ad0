/**
 * A call cut as it starts on a connection that stood idle: the peer's gateway closes its longest
 * idle connections to make room for new ones (connection-cap.ts), and a call sent just then never
 * reached a handler. A TCP proxy between client and gateway cuts the connection exactly as the
 * call's first bytes come, as such a close does. Only calls that may run twice are made again.
 */
import { systemClock, systemTime } from '@swarm/determinism';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import { silentLogger } from '@swarm/telemetry';
import { tempDir } from '@swarm/testing';
import type { AddressInfo, Server, Socket } from 'node:net';
import { connect as connectTcp, createServer } from 'node:net';
import type { PeerClient, PeerHandlers } from './index';
import { dialPeer, startGatewayServer } from './index';
import { MIN_IDLE_MS } from '@swarm/connection-cap';

interface CuttingProxy {
  readonly port: number;
  /** The next bytes a client sends on a connection already open end that connection, unforwarded. */
  cutNextCall(): void;
  readonly connections: () => number;
  close(): Promise<void>;
}

async function cuttingProxy(target: number): Promise<CuttingProxy> {
  let armed = false;
  let opened = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    opened += 1;
    const upstream = connectTcp(target, '127.0.0.1');
    const fresh = { value: true };
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk: Buffer) => {
      if (armed && !fresh.value) {
        armed = false;
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      fresh.value = false;
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cutNextCall: () => (armed = true),
    connections: () => opened,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A gateway serving node info, pings (whose first payload byte each is recorded) and `extra`, a
 * client dialling it through a cutting proxy; `run` gets them, and everything is stopped after.
 */
async function withCuttingRig(
  run: (rig: { peer: PeerClient; proxy: CuttingProxy; pings: number[] }) => Promise<void>,
  opts: { extra?: Partial<PeerHandlers>; pinned?: boolean } = {},
): Promise<void> {
  const dirs = await Promise.all([tempDir('swarm-gw-'), tempDir('swarm-gw-')]);
  const [server, client] = await Promise.all(dirs.map((d) => loadOrCreateNodeCertificate(d.path, systemClock)));
  const pings: number[] = [];
  const gateway = await startGatewayServer({
    certificate: server,
    listen: { host: '127.0.0.1', port: 0 },
    limits: { maxMessageBytes: 64 * 1024, maxDeadlineMs: 30_000, handshakeTimeoutMs: 5_000, peer: { maxInflight: 8, ratePerSecond: 1_000, burst: 1_000 } },
    handlers: {
      nodeInfo: ({ peerId }) => ({ nodeId: server.nodeId, version: 'test', advertisedAddress: '', peerNodeId: peerId, powNonce: 0n }),
      ping: ({ request }) => (pings.push(request.payload[0]), { payload: request.payload }),
      ...opts.extra,
    },
    log: silentLogger(),
    time: systemTime,
  });
  const proxy = await cuttingProxy(gateway.address.port);
  const peer = dialPeer({
    certificate: client,
    peer: { nodeId: server.nodeId, address: { host: '127.0.0.1', port: proxy.port } },
    clock: systemClock,
    ...(opts.pinned ? { pinnedCertPem: server.certPem } : {}),
  });
  try {
    await run({ peer, proxy, pings });
  } finally {
    peer.close();
    await proxy.close();
    await gateway.stop(1_000);
    await Promise.all(dirs.map((d) => d.remove()));
  }
}

const idleLongEnough = () => new Promise((resolve) => setTimeout(resolve, MIN_IDLE_MS + 100));

describe('peer client - a call cut as it starts on an idle connection', () => {
  it.each([
    ['its certificate fetched', false],
    ['its certificate pinned', true],
  ])('is made once more on a new connection, and reaches the handler once (%s)', (_name, pinned) =>
    withCuttingRig(
      async ({ peer, proxy, pings }) => {
        expect((await peer.call('ping', { payload: new Uint8Array([1]) })).payload).toEqual(new Uint8Array([1]));
        await idleLongEnough();
        const before = proxy.connections();
        proxy.cutNextCall();
        expect((await peer.call('ping', { payload: new Uint8Array([2]) })).payload).toEqual(new Uint8Array([2]));
        // A new connection; unpinned, the certificate is fetched again first (the pin is dropped with the lost connection).
        expect(proxy.connections()).toBe(before + (pinned ? 1 : 2));
        expect(pings).toEqual([1, 2]);
      },
      { pinned },
    ),
  );

  it('is not made again when it may have run on the peer and must not run twice (a task, a payment)', async () => {
    let deliveries = 0;
    await withCuttingRig(
      async ({ peer, proxy }) => {
        await peer.call('ping', { payload: new Uint8Array([1]) });
        await idleLongEnough();
        proxy.cutNextCall();
        await expect(peer.call('deliverReceipts', { receipts: [] })).rejects.toMatchObject({ codeName: 'SWARM_UNAVAILABLE' });
        expect(deliveries).toBe(0);
        // The caller's own retry (the outbox's) goes out on a new connection.
        await expect(peer.call('deliverReceipts', { receipts: [] })).resolves.toEqual({ outcomes: [] });
      },
      { extra: { deliverReceipts: () => ((deliveries += 1), { outcomes: [] }) } },
    );
  });

  it('is not made again when the connection had a call within the last second (the peer did not close it as idle)', () =>
    withCuttingRig(async ({ peer, proxy }) => {
      await peer.call('ping', { payload: new Uint8Array([1]) });
      proxy.cutNextCall();
      await expect(peer.call('ping', { payload: new Uint8Array([2]) })).rejects.toMatchObject({ codeName: 'SWARM_UNAVAILABLE' });
    }));
});

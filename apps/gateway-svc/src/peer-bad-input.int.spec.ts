/**
 * A real gateway-svc (every peer method wired: NodeInfo, Ping, the DHT relay, Execute) against a
 * peer that is not the project's gRPC stack: malformed bytes on every method, a DHT call under
 * another node's id, an oversized skill name. Each is refused with a clear status, nothing reaches
 * the node's bus, and the gateway keeps serving.
 */
import { ErrorCode, RegistryDhtFindNode, RegistryDhtFindValue, RegistryDhtPing, RegistryDhtStore } from '@swarm/contracts';
import { systemClock, systemTime } from '@swarm/determinism';
import { dialPeer, parseHostPort, PEER_METHODS, PEER_TLS_SERVERNAME, peerMethodPath } from '@swarm/gateway';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import type { NodeCertificate } from '@swarm/identity';
import { findPowNonce } from '@swarm/records';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { grpcFrame, rawGrpcCall, startNatsServer, swarmErrorOf, tempDir } from '@swarm/testing';
import { connect as http2Connect } from 'node:http2';
import type { NatsConnection, Subscription } from 'nats';
import { connect } from 'nats';
import { loadGatewayConfig } from './config';
import type { GatewayServiceHandle } from './service';
import { startGatewayService } from './service';

describe('gateway-svc - bad input from a peer on every method', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let home: TempDir, peerHome: TempDir, otherHome: TempDir;
  let svc: GatewayServiceHandle;
  let peerCert: NodeCertificate, otherCert: NodeCertificate;
  let relayed: Subscription[];
  let relayedCount = 0;

  beforeAll(async () => {
    nats = await startNatsServer();
    [home, peerHome, otherHome] = await Promise.all([tempDir('swarm-gwbad-'), tempDir('swarm-gwbad-'), tempDir('swarm-gwbad-')]);
    nc = await connect({ servers: nats.url });
    // Stands in for registry-svc: counts every call the gateway relays to it.
    relayed = [RegistryDhtPing, RegistryDhtStore, RegistryDhtFindNode, RegistryDhtFindValue].map((rpc) =>
      nc.subscribe(rpc.subject, {
        callback: () => {
          relayedCount += 1;
        },
      }),
    );
    const config = loadGatewayConfig({ SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: home.path, SWARM_POW_DIFFICULTY: '4' });
    svc = await startGatewayService({ config, log: silentLogger(), nc, time: systemTime });
    [peerCert, otherCert] = await Promise.all([loadOrCreateNodeCertificate(peerHome.path, systemClock), loadOrCreateNodeCertificate(otherHome.path, systemClock)]);
  });

  afterAll(async () => {
    for (const s of relayed) s.unsubscribe();
    await svc.stop();
    await nc.close();
    await nats.stop();
    await Promise.all([home.remove(), peerHome.remove(), otherHome.remove()]);
  });

  function dialGateway() {
    const address = parseHostPort(svc.advertisedAddress);
    if (!address) throw new Error(`bad advertised address ${svc.advertisedAddress}`);
    return dialPeer({ certificate: peerCert, peer: { nodeId: svc.nodeId, address }, clock: systemClock });
  }

  it('answers malformed bytes on every PeerService method with SWARM_MALFORMED_MESSAGE and relays nothing', async () => {
    const session = http2Connect(`https://${svc.advertisedAddress}`, { key: peerCert.keyPem, cert: peerCert.certPem, rejectUnauthorized: false, servername: PEER_TLS_SERVERNAME });
    session.on('error', () => undefined);
    try {
      expect(PEER_METHODS).toEqual(expect.arrayContaining(['nodeInfo', 'ping', 'dhtPing', 'dhtStore', 'dhtFindNode', 'dhtFindValue', 'execute']));
      for (const method of PEER_METHODS) {
        // Field 1 announcing 100 bytes that never come: no request type decodes it.
        const reply = await rawGrpcCall(session, peerMethodPath(method), grpcFrame(new Uint8Array([0x0a, 0x64])));
        expect({ method, status: reply.status }).toEqual({ method, status: '3' }); // INVALID_ARGUMENT
        expect(reply.message).toMatch(/^SWARM_MALFORMED_MESSAGE: the request is not a swarm\.v1\./);
        expect(reply.message.length).toBeLessThan(300);
      }
    } finally {
      session.destroy();
    }
    expect(relayedCount).toBe(0);
  });

  it('refuses a DHT store under another node id (PERMISSION_DENIED) and stores nothing', async () => {
    const client = dialGateway();
    try {
      // The other node's old-style id, with the caller's own proof of work (difficulty 4 here).
      const forged = {
        senderId: otherCert.nodeId.slice(0, 40),
        senderAddress: '127.0.0.1:9',
        senderPowNonce: findPowNonce(peerCert.nodeId, 4),
        key: 'matmul',
        value: new Uint8Array([1, 2, 3]),
      };
      const err = await swarmErrorOf(client.call('dhtStore', forged));
      expect(err.code).toBe(ErrorCode.ERROR_CODE_PERMISSION_DENIED);
      // The calling node gets the code in its own words; the peer's reason is kept apart (peer-status.ts).
      expect(err.message).toMatch(/answered SWARM_PERMISSION_DENIED$/);
      expect(err).toMatchObject({ peerWords: expect.stringContaining('is not the DHT id of the calling node') });
    } finally {
      client.close();
    }
    expect(relayedCount).toBe(0);
  });

  it('refuses a task with an oversized skill name without echoing it, and keeps serving', async () => {
    const client = dialGateway();
    try {
      const skill = 'x'.repeat(100_000);
      const err = await swarmErrorOf(client.call('execute', { task: { taskId: 't-1', skill, inputs: [], timeoutMs: 1_000 } }));
      expect([ErrorCode.ERROR_CODE_INVALID_ARGUMENT, ErrorCode.ERROR_CODE_UNKNOWN_SKILL]).toContain(err.code);
      expect(err.message.length).toBeLessThan(400);
      await expect(client.call('nodeInfo', {})).resolves.toMatchObject({ nodeId: svc.nodeId, peerNodeId: peerCert.nodeId });
    } finally {
      client.close();
    }
  });
});

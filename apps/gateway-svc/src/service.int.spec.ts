import { GatewayHealth, GatewayPeers } from '@swarm/contracts';
import { systemClock, systemTime } from '@swarm/determinism';
import { dialPeer, parseHostPort } from '@swarm/gateway';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import { silentLogger } from '@swarm/telemetry';
import { startNatsServer, tempDir } from '@swarm/testing';
import { connect } from 'nats';
import { loadGatewayConfig } from './config';
import { GATEWAY_VERSION, startGatewayService } from './service';

describe('gateway-svc - bus endpoints and the peer door', () => {
  it('answers health and peers on the bus and NodeInfo to an authenticated peer', async () => {
    const nats = await startNatsServer();
    const [home, peerHome] = await Promise.all([tempDir('swarm-gwsvc-'), tempDir('swarm-gwsvc-')]);
    const nc = await connect({ servers: nats.url });
    const config = loadGatewayConfig({ SWARM_NATS_URL: nats.url, SWARM_DATA_DIR: home.path });
    const svc = await startGatewayService({ config, log: silentLogger(), nc, time: systemTime });
    const peerCert = await loadOrCreateNodeCertificate(peerHome.path, systemClock);
    const address = parseHostPort(svc.advertisedAddress);
    if (!address) throw new Error(`bad advertised address ${svc.advertisedAddress}`);
    const client = dialPeer({ certificate: peerCert, peer: { nodeId: svc.nodeId, address }, clock: systemClock });
    try {
      expect(address.host).toBe('127.0.0.1');
      expect(address.port).toBeGreaterThan(0);
      await expect(client.call('nodeInfo', {})).resolves.toEqual({
        nodeId: svc.nodeId,
        version: GATEWAY_VERSION,
        advertisedAddress: svc.advertisedAddress,
        peerNodeId: peerCert.nodeId,
        powNonce: expect.any(BigInt),
      });
      const health = GatewayHealth.response.decode((await nc.request(GatewayHealth.subject, GatewayHealth.request.encode({}).finish(), { timeout: 2_000 })).data);
      expect(health).toMatchObject({ service: 'gateway-svc', nodeId: svc.nodeId, details: { listening: 'true', peers: '1', advertise: svc.advertisedAddress } });
      const peers = GatewayPeers.response.decode((await nc.request(GatewayPeers.subject, GatewayPeers.request.encode({}).finish(), { timeout: 2_000 })).data);
      expect(peers.peers).toEqual([]);
    } finally {
      client.close();
      await svc.stop();
      await nc.close();
      await nats.stop();
      await Promise.all([home.remove(), peerHome.remove()]);
    }
  });
});

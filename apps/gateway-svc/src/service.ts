/**
 * gateway-svc, the node's network door: the peer gRPC server with mutual TLS bound to node ids
 * (libs/gateway) beside its bus endpoints (health, peers). Peers get NodeInfo and Ping in this
 * version; the DHT relay and remote execution come next (issue 13).
 */
import { startBusService } from '@swarm/bus';
import { GatewayHealth, GatewayPeers } from '@swarm/contracts';
import type { Time } from '@swarm/determinism';
import type { GatewayServer } from '@swarm/gateway';
import { formatHostPort, startGatewayServer } from '@swarm/gateway';
import { loadOrCreateNodeCertificate } from '@swarm/identity';
import type { Logger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import type { GatewayConfig } from './config';

export const GATEWAY_VERSION = '0.2.0';

export interface GatewayServiceDeps {
  config: GatewayConfig;
  log: Logger;
  nc: NatsConnection;
  time: Time;
}

export interface GatewayServiceHandle {
  /** host:port peers are told to dial. */
  readonly advertisedAddress: string;
  readonly nodeId: string;
  stop(): Promise<void>;
}

export async function startGatewayService(deps: GatewayServiceDeps): Promise<GatewayServiceHandle> {
  const { config, log, nc, time } = deps;
  const certificate = await loadOrCreateNodeCertificate(config.dataDir, time.clock);
  const nodeId = certificate.nodeId;
  let advertisedAddress = '';
  const server: GatewayServer = await startGatewayServer({
    certificate,
    listen: config.listen,
    limits: config.limits,
    log,
    time,
    handlers: {
      nodeInfo: ({ peerId }) => ({ nodeId, version: GATEWAY_VERSION, advertisedAddress, peerNodeId: peerId }),
      ping: ({ request }) => ({ payload: request.payload }),
    },
  });
  advertisedAddress = formatHostPort(config.advertise ?? server.address);
  log.info({ listen: formatHostPort(server.address), advertise: advertisedAddress, certExpires: new Date(certificate.notAfterMs).toISOString() }, 'gateway listening for peers');
  const svc = await startBusService({ nc, log, name: 'gateway-svc', version: GATEWAY_VERSION, description: 'Peer-to-peer door (gRPC, mutual TLS)', nodeId });
  svc.serve(GatewayPeers, () => ({ peers: [] }));
  svc.serveHealth(GatewayHealth, () => ({ peers: String(server.peerCount()), listening: 'true', listen: formatHostPort(server.address), advertise: advertisedAddress }));
  return {
    advertisedAddress,
    nodeId,
    async stop() {
      await svc.stop(config.graceMs);
      await server.stop(config.graceMs);
    },
  };
}

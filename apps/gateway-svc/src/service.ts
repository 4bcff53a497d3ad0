/**
 * gateway-svc, the node's future network door: in this version it has no peers and no gRPC
 * listener yet; it answers health and an (empty) peer list so the node's shape is complete.
 */
import { startBusService } from '@swarm/bus';
import { GatewayHealth, GatewayPeers } from '@swarm/contracts';
import type { ServiceConfig } from '@swarm/config';
import type { Logger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';

export const GATEWAY_VERSION = '0.1.0';

export interface GatewayServiceDeps {
  config: ServiceConfig;
  log: Logger;
  nc: NatsConnection;
  nodeId: string;
}

export async function startGatewayService(deps: GatewayServiceDeps): Promise<{ stop(): Promise<void> }> {
  const { config, log, nc, nodeId } = deps;
  const svc = await startBusService({ nc, log, name: 'gateway-svc', version: GATEWAY_VERSION, description: 'Peer-to-peer door (no peers yet)', nodeId });
  svc.serve(GatewayPeers, () => ({ peers: [] }));
  svc.serveHealth(GatewayHealth, () => ({ peers: '0', listening: 'false' }));
  return { stop: () => svc.stop(config.graceMs) };
}

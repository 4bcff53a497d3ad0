/**
 * A whole DhtTransport for a DHT node in the gateway's own process: the sending half
 * (gateway-dht-sender.ts) with the receiving half (the DhtInbound whose handlers the same gateway
 * server serves). gateway-svc, whose DHT lives in registry-svc, uses the two halves apart.
 */
import type { DhtTransport } from '@swarm/dht';
import type { DhtInbound } from './dht-inbound';
import type { GatewayDhtSenderOptions } from './gateway-dht-sender';
import { createGatewayDhtSender } from './gateway-dht-sender';

export interface GatewayDhtTransportOptions extends GatewayDhtSenderOptions {
  /** The receiving half, served by this node's gateway server. */
  readonly inbound: DhtInbound;
}

export interface GatewayDhtTransport extends DhtTransport {
  /** The DHT id this node must run its DHT node with (dhtIdOfNode of its node id). */
  readonly dhtId: string;
}

export function createGatewayDhtTransport(opts: GatewayDhtTransportOptions): GatewayDhtTransport {
  const { inbound, ...senderOptions } = opts;
  const sender = createGatewayDhtSender(senderOptions);
  return {
    endpoint: sender.endpoint,
    dhtId: sender.dhtId,
    ping: (to, request) => sender.ping(to, request),
    store: (to, request) => sender.store(to, request),
    findNode: (to, request) => sender.findNode(to, request),
    findValue: (to, request) => sender.findValue(to, request),
    listen(handlers) {
      inbound.listen(handlers);
    },
    async close() {
      inbound.close();
      await sender.close();
    },
  };
}

/**
 * The DHT's RPC carried over the gateways (issue 13): PeerService's DHT methods, a DhtTransport that
 * sends them, and the handlers that receive them with the sender bound to the authenticated peer.
 */
export { dhtIdOfNode, dhtEndpoint, peerOfDhtEndpoint } from './dht-peer-id';
export { createDhtInbound } from './dht-inbound';
export type { DhtInbound, DhtPeerHandlers, DhtPeerMethod } from './dht-inbound';
export { createGatewayDhtTransport, DEFAULT_DHT_CALL_TIMEOUT_MS, DEFAULT_MAX_PEER_CLIENTS } from './gateway-dht-transport';
export type { GatewayDhtTransport, GatewayDhtTransportOptions } from './gateway-dht-transport';

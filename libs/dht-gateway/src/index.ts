/**
 * The DHT's RPC carried over the gateways (issue 13): PeerService's DHT methods, the sending half
 * that calls them, the receiving handlers that bind the sender to the authenticated peer, and the
 * two together as one DhtTransport.
 */
export { dhtIdOfNode, dhtEndpoint, peerOfDhtEndpoint, checkContactBindings, invalidDhtReply, DHT_ID_DOMAIN } from './dht-peer-id';
export type { DhtPeer } from './dht-peer-id';
export { createDhtInbound } from './dht-inbound';
export type { DhtInbound, DhtInboundOptions, DhtPeerHandlers, DhtPeerMethod } from './dht-inbound';
export { createGatewayDhtSender, DEFAULT_DHT_CALL_TIMEOUT_MS, DEFAULT_MAX_PEER_CLIENTS, resolveWithDns } from './gateway-dht-sender';
export type { GatewayDhtSender, GatewayDhtSenderOptions } from './gateway-dht-sender';
export { createGatewayDhtTransport } from './gateway-dht-transport';
export type { GatewayDhtTransport, GatewayDhtTransportOptions } from './gateway-dht-transport';
export { canonicalHost, dialledHostOf, ownScopeReader, peerAddressToDial, scopeOfIp } from './claimed-address';
export { listenAddressesOf } from './listen-addresses';
export type { AddressScope, ResolveHost, UnreachedAt } from './claimed-address';
export { createNamedDialRate } from './named-dial-rate';
export type { NamedDialRate } from './named-dial-rate';
export { createBoundedResolver, DEFAULT_RESOLVER_LIMITS } from './bounded-resolver';
export type { BoundedResolver, ResolverLimits } from './bounded-resolver';

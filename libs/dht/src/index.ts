/**
 * The registry's DHT: kademlia-dht's routing table and lookups, wrapped (see dht-node.ts for what
 * the wrapper fixes), over any DhtTransport; an in-memory network for tests and the simulator; the
 * transport compliance suite every transport passes.
 */
export { createDialBack, DEFAULT_DIAL_BACK_LIMITS } from './dial-back';
export type { DialBackLimits, HostOfEndpoint } from './dial-back';
export { startDhtNode, DEFAULT_BUCKET_SIZE, DEFAULT_CONCURRENCY, DEFAULT_VALUE_QUORUM, DEFAULT_REFRESH_INTERVAL_MS, DEFAULT_SWEEP_INTERVAL_MS } from './dht-node';
export { COMPLETE_LOOKUP_MS, MAX_PAGES_PER_HOLDER, PAGED_READ_MS } from './holder-read';
export type {
  DhtNode,
  DhtNodeComponents,
  DhtNodeInit,
  DhtLog,
  LookupReport,
  ProvidersResult,
  ClosestResult,
  ProvideReport,
  BootstrapReport,
  RefreshReport,
  MakeRecord,
} from './dht-node';
export { createProviderStore, DEFAULT_PROVIDER_STORE_LIMITS } from './provider-store';
export type { ProviderStore, ProviderStoreLimits, RecordValidator, RecordVerdict, AcceptedRecord, PutOutcome } from './provider-store';
export { createMemoryNetwork, DEFAULT_MEMORY_TIMEOUT_MS } from './memory-network';
export type { MemoryNetwork, MemoryNetworkOptions, MemoryNetworkStats } from './memory-network';
export { DHT_RPC_NAMES, findValueReplyOf, pagingOf } from './wire';
export { createDhtHandlerSlot } from './handler-slot';
export type { DhtHandlerSlot } from './handler-slot';
export type {
  DhtTransport,
  DhtHandlers,
  DhtRpcName,
  WireContact,
  PingRequest,
  PingResponse,
  StoreRequest,
  StoreResponse,
  FindNodeRequest,
  FindNodeResponse,
  FindValueRequest,
  FindValueResponse,
} from './wire';
export {
  MAX_KEY_CHARS,
  MAX_ENDPOINT_CHARS,
  MAX_VALUE_BYTES,
  MAX_CONTACTS_PER_REPLY,
  MAX_VALUES_PER_REPLY,
  MAX_REPLY_VALUE_BYTES,
  MAX_CURSOR_CHARS,
  checkNetwork,
  checkPingRequest,
  checkPingResponse,
  checkStoreRequest,
  checkStoreResponse,
  checkFindNodeRequest,
  checkFindNodeResponse,
  checkFindValueRequest,
  checkFindValueResponse,
} from './wire-checks';
export { randomHexId, isHexId, ID_BYTES } from './dht-id';
export { dhtTransportCompliance } from './transport-compliance';
export type { TransportHarness } from './transport-compliance';

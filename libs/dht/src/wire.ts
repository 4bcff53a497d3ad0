/**
 * The DHT's four RPCs as plain data (FACTS.md lists the package's shapes; ids here are hex strings
 * and values bytes, so a request survives structured cloning, protobuf or JSON unchanged) and the
 * transport that carries them. One implementation runs in memory (memory-network.ts); the gateway
 * transport carries the same calls over gRPC. Both pass transport-compliance.ts.
 */

/** A node as others reach it: its DHT id and the endpoint its transport dials. */
export interface WireContact {
  readonly id: string;
  readonly endpoint: string;
}

/** Every request names its sender's id, so the receiver can learn the sender as a contact. */
export interface PingRequest {
  readonly id: string;
}
export interface PingResponse {
  readonly remoteId: string;
}
export interface StoreRequest {
  readonly id: string;
  readonly key: string;
  readonly value: Uint8Array;
}
/** `stored: false` carries the receiver's reason (a validator refusal, a limit). */
export interface StoreResponse {
  readonly stored: boolean;
  readonly refusal: string;
}
export interface FindNodeRequest {
  readonly id: string;
  readonly targetId: string;
}
export interface FindNodeResponse {
  readonly contacts: readonly WireContact[];
}
export interface FindValueRequest {
  readonly id: string;
  readonly targetId: string;
  readonly key: string;
  /**
   * True: the records in order of their provider, from the first after `after`, as many as a reply
   * carries (a reader that needs every record asks on with the reply's `moreAfter`); else a random
   * selection when they do not all fit.
   */
  readonly paged?: boolean;
  /** With `paged`: the provider of the last record of the page before ('' or absent: from the first). */
  readonly after?: string;
}
/**
 * The holder's unexpired provider records for the key (empty when it holds none) and its closest
 * contacts to the target, so one lookup can both collect providers and keep going.
 */
export interface FindValueResponse {
  readonly values: readonly Uint8Array[];
  readonly contacts: readonly WireContact[];
  /** A paged reply with more records after it: the `after` of the next page ('' or absent: none). */
  readonly moreAfter?: string;
  /** A page: the request was paged and the holder pages (false or absent: a holder from before pages, or an unpaged request). */
  readonly paged?: boolean;
}

/**
 * What a node serves. `from` is the sender's endpoint as the transport vouches for it (the memory
 * network knows it; the gateway takes it from the authenticated peer). A handler may throw a
 * SwarmError; the caller's promise then rejects with the same code.
 */
/**
 * `network` on each: the sender's address group as the transport saw it (the gateway: from the TCP
 * connection), which the provider store counts records against and dial-backs are shared out by;
 * undefined where the transport has no addresses (the memory network).
 */
export interface DhtHandlers {
  ping(from: string, request: PingRequest, network?: string): PingResponse | Promise<PingResponse>;
  store(from: string, request: StoreRequest, network?: string): StoreResponse | Promise<StoreResponse>;
  findNode(from: string, request: FindNodeRequest, network?: string): FindNodeResponse | Promise<FindNodeResponse>;
  findValue(from: string, request: FindValueRequest, network?: string): FindValueResponse | Promise<FindValueResponse>;
}

/** A find-value request's paging as the protobuf messages carry it (absent: a random selection, from the first). */
export function pagingOf(request: FindValueRequest): { readonly paged: boolean; readonly after: string } {
  return { paged: request.paged ?? false, after: request.after ?? '' };
}

/** A find-value reply as the protobuf messages carry it (DhtFindValueResponse). */
export function findValueReplyOf(reply: FindValueResponse): { values: Uint8Array[]; contacts: WireContact[]; moreAfter: string; paged: boolean } {
  return { values: [...reply.values], contacts: reply.contacts.map((c) => ({ id: c.id, endpoint: c.endpoint })), moreAfter: reply.moreAfter ?? '', paged: reply.paged ?? false };
}

export type DhtRpcName = keyof DhtHandlers;
export const DHT_RPC_NAMES: readonly DhtRpcName[] = Object.freeze(['ping', 'store', 'findNode', 'findValue']);

/**
 * Request/response to other nodes. A call rejects with a SwarmError: DEADLINE_EXCEEDED when no
 * answer came in time (dead or unreachable peer, lost message), UNAVAILABLE when this transport is
 * closed or the network reports the peer unreachable at once (connection refused), or the code the
 * remote handler threw.
 */
export interface DhtTransport {
  /** The endpoint other nodes reach this one at. */
  readonly endpoint: string;
  ping(to: string, request: PingRequest): Promise<PingResponse>;
  store(to: string, request: StoreRequest): Promise<StoreResponse>;
  findNode(to: string, request: FindNodeRequest): Promise<FindNodeResponse>;
  findValue(to: string, request: FindValueRequest): Promise<FindValueResponse>;
  /** Starts serving incoming calls with `handlers`; once per transport. */
  listen(handlers: DhtHandlers): void;
  /** Stops serving and sending; calls after it reject with UNAVAILABLE. */
  close(): Promise<void>;
}

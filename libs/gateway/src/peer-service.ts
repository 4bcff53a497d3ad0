/**
 * The peer gRPC service as grpc-js wants it, built from ts-proto's framework-free definition
 * (proto/swarm/v1/gateway.proto), so the proto file stays the one source and libs/contracts stays
 * free of grpc-js. The server's deserializer never throws: malformed request bytes (or a request
 * holding more entries than REQUEST_LIMITS allow) become a value the server answers with
 * INVALID_ARGUMENT (SWARM_MALFORMED_MESSAGE) instead of grpc-js' INTERNAL.
 */
import type { ServiceDefinition as GrpcServiceDefinition } from '@grpc/grpc-js';
import type { Codec, WireLimits } from '@swarm/contracts';
import {
  CHAIN_OFFER_MAX_BLOCKS,
  CHAIN_PAGE_MAX_BLOCKS,
  ErrorCode,
  EXECUTE_REQUEST_LIMITS,
  isSwarmError,
  PeerServiceDefinition,
  RECEIPTS_PER_DELIVERY,
  refuseOverfullMessage,
} from '@swarm/contracts';

type Methods = (typeof PeerServiceDefinition)['methods'];
export type PeerMethod = Extract<keyof Methods, string>;
type MessageOf<C> = C extends { decode(input: Uint8Array, length?: number): infer T } ? T : never;
export type PeerRequest<M extends PeerMethod> = MessageOf<Methods[M]['requestType']>;
export type PeerResponse<M extends PeerMethod> = MessageOf<Methods[M]['responseType']>;

/** A request as the server received it: the message, or why its bytes are not one. */
export type DecodedRequest<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly problem: string; readonly tooMany?: boolean };

export const PEER_METHODS = Object.keys(PeerServiceDefinition.methods) as PeerMethod[];

/**
 * Entries a DHT answer may hold before it is decoded: far above what libs/dht then takes (40
 * contacts, 256 values), far below what costs a gigabyte to decode.
 */
const DHT_ANSWER_ENTRIES = 1_024;

/**
 * What a peer's request, and a peer's answer, may hold, counted on the wire before decoding
 * (contracts wire-counts.ts): a peer's 4M empty receipts took gateway-svc out of memory. Messages
 * with no repeated message field need no limits.
 */
/** Messages whose fields are all scalars, strings or bytes: walked for their bounds only. */
const LEAF: WireLimits = {};
/** ReceiptOutcome {receipt, error}; VoidOutcome {signed_void, receipt, error}. */
const RECEIPT_OUTCOME: WireLimits = { 1: { max: 1, message: LEAF, name: 'receipts' }, 2: { max: 1, message: LEAF, name: 'errors' } };
const VOID_OUTCOME: WireLimits = { 1: { max: 1, message: LEAF, name: 'voids' }, 2: { max: 1, message: LEAF, name: 'receipts' }, 3: { max: 1, message: LEAF, name: 'errors' } };
const REQUEST_LIMITS: Partial<Record<PeerMethod, WireLimits>> = {
  execute: { 1: { max: 1, message: EXECUTE_REQUEST_LIMITS, name: 'tasks' } },
  deliverReceipts: { 1: { max: RECEIPTS_PER_DELIVERY, message: LEAF, name: 'receipts' } },
  voidReceipts: { 1: { max: RECEIPTS_PER_DELIVERY, message: LEAF, name: 'voids' } },
  offerChain: { 2: { max: CHAIN_OFFER_MAX_BLOCKS, name: 'blocks' } },
};
const RESPONSE_LIMITS: Partial<Record<PeerMethod, WireLimits>> = {
  dhtFindNode: { 1: { max: DHT_ANSWER_ENTRIES, message: LEAF, name: 'contacts' } },
  dhtFindValue: { 1: { max: DHT_ANSWER_ENTRIES, name: 'values' }, 2: { max: DHT_ANSWER_ENTRIES, message: LEAF, name: 'contacts' } },
  deliverReceipts: { 1: { max: RECEIPTS_PER_DELIVERY, message: RECEIPT_OUTCOME, name: 'outcomes' } },
  voidReceipts: { 1: { max: RECEIPTS_PER_DELIVERY, message: VOID_OUTCOME, name: 'outcomes' } },
  chainBlocks: { 1: { max: CHAIN_PAGE_MAX_BLOCKS, name: 'blocks' } },
};

/** Decodes `bytes` once they fit `limits` (none: as they are); throws a SwarmError otherwise. */
function limitedDecode(codec: Codec<unknown>, limits: WireLimits | undefined, name: string): (bytes: Uint8Array) => unknown {
  return (bytes) => {
    if (limits) refuseOverfullMessage(bytes, limits, name);
    return codec.decode(bytes);
  };
}

/** `/swarm.v1.PeerService/NodeInfo` */
export function peerMethodPath(method: PeerMethod): string {
  return `/${PeerServiceDefinition.fullName}/${PeerServiceDefinition.methods[method].name}`;
}

function codecs(method: PeerMethod): { request: Codec<unknown>; response: Codec<unknown>; requestName: string; responseName: string } {
  const m = PeerServiceDefinition.methods[method];
  return { request: m.requestType, response: m.responseType, requestName: `swarm.v1.${m.name}Request`, responseName: `swarm.v1.${m.name} answer` };
}

const encode = (codec: Codec<unknown>) => (message: unknown) => Buffer.from(codec.encode(message).finish());

export function serverServiceDefinition(): GrpcServiceDefinition {
  return Object.fromEntries(
    PEER_METHODS.map((method) => {
      const { request, response, requestName } = codecs(method);
      const decode = limitedDecode(request, REQUEST_LIMITS[method], requestName);
      const requestDeserialize = (bytes: Buffer): DecodedRequest<unknown> => {
        try {
          return { ok: true, message: decode(bytes) };
        } catch (err) {
          // More entries than a request may hold is a request refused (INVALID_ARGUMENT), not bytes that are no request.
          if (isSwarmError(err, ErrorCode.ERROR_CODE_INVALID_ARGUMENT)) return { ok: false, problem: err.message, tooMany: true };
          return { ok: false, problem: `the request is not a ${requestName} (${(err as Error).message})` };
        }
      };
      return [
        method,
        {
          path: peerMethodPath(method),
          requestStream: false,
          responseStream: false,
          requestSerialize: encode(request),
          requestDeserialize,
          responseSerialize: encode(response),
          responseDeserialize: (b: Buffer) => response.decode(b),
        },
      ];
    }),
  );
}

export function clientServiceDefinition(): GrpcServiceDefinition {
  return Object.fromEntries(
    PEER_METHODS.map((method) => {
      const { request, response, responseName } = codecs(method);
      return [
        method,
        {
          path: peerMethodPath(method),
          requestStream: false,
          responseStream: false,
          requestSerialize: encode(request),
          requestDeserialize: (b: Buffer) => request.decode(b),
          responseSerialize: encode(response),
          // A peer's answer is counted before it is decoded, as its requests are here.
          responseDeserialize: limitedDecode(response, RESPONSE_LIMITS[method], responseName),
        },
      ];
    }),
  );
}

/**
 * The peer gRPC service as grpc-js wants it, built from ts-proto's framework-free definition
 * (proto/swarm/v1/gateway.proto), so the proto file stays the one source and libs/contracts stays
 * free of grpc-js. The server's deserializer never throws: malformed request bytes become a value
 * the server answers with INVALID_ARGUMENT (SWARM_MALFORMED_MESSAGE) instead of grpc-js' INTERNAL.
 */
import type { ServiceDefinition as GrpcServiceDefinition } from '@grpc/grpc-js';
import type { Codec } from '@swarm/contracts';
import { PeerServiceDefinition } from '@swarm/contracts';

type Methods = (typeof PeerServiceDefinition)['methods'];
export type PeerMethod = Extract<keyof Methods, string>;
type MessageOf<C> = C extends { decode(input: Uint8Array, length?: number): infer T } ? T : never;
export type PeerRequest<M extends PeerMethod> = MessageOf<Methods[M]['requestType']>;
export type PeerResponse<M extends PeerMethod> = MessageOf<Methods[M]['responseType']>;

/** A request as the server received it: the message, or why its bytes are not one. */
export type DecodedRequest<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly problem: string };

export const PEER_METHODS = Object.keys(PeerServiceDefinition.methods) as PeerMethod[];

/** `/swarm.v1.PeerService/NodeInfo` */
export function peerMethodPath(method: PeerMethod): string {
  return `/${PeerServiceDefinition.fullName}/${PeerServiceDefinition.methods[method].name}`;
}

function codecs(method: PeerMethod): { request: Codec<unknown>; response: Codec<unknown>; requestName: string } {
  const m = PeerServiceDefinition.methods[method];
  return { request: m.requestType, response: m.responseType, requestName: `swarm.v1.${m.name}Request` };
}

const encode = (codec: Codec<unknown>) => (message: unknown) => Buffer.from(codec.encode(message).finish());

export function serverServiceDefinition(): GrpcServiceDefinition {
  return Object.fromEntries(
    PEER_METHODS.map((method) => {
      const { request, response, requestName } = codecs(method);
      const requestDeserialize = (bytes: Buffer): DecodedRequest<unknown> => {
        try {
          return { ok: true, message: request.decode(bytes) };
        } catch (err) {
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
      const { request, response } = codecs(method);
      return [
        method,
        {
          path: peerMethodPath(method),
          requestStream: false,
          responseStream: false,
          requestSerialize: encode(request),
          requestDeserialize: (b: Buffer) => request.decode(b),
          responseSerialize: encode(response),
          responseDeserialize: (b: Buffer) => response.decode(b),
        },
      ];
    }),
  );
}

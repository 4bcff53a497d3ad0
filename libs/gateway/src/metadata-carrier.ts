/** gRPC metadata as the header carrier libs/telemetry injects `traceparent` into and extracts it from. */
import type { Metadata } from '@grpc/grpc-js';
import type { HeaderCarrier } from '@swarm/telemetry';

export function metadataCarrier(metadata: Metadata): HeaderCarrier {
  return {
    get: (key) => {
      const value = metadata.get(key)[0];
      return typeof value === 'string' ? value : '';
    },
    set: (key, value) => metadata.set(key, value),
    has: (key) => metadata.get(key).length > 0,
    keys: () => Object.keys(metadata.getMap()),
  };
}

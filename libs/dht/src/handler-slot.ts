/**
 * Where an inbound transport (a gateway's, the registry's bus relay) keeps the DHT it passes calls
 * to: endpoints answer from the start, UNAVAILABLE until a DHT listens and after it closes.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { DhtHandlers } from './wire';
import { DHT_RPC_NAMES } from './wire';

export interface DhtHandlerSlot {
  /** The listening DHT's handlers; UNAVAILABLE when none listens. */
  readonly serving: () => DhtHandlers;
  /** Starts passing calls to `handlers`; once. */
  readonly listen: (handlers: DhtHandlers) => void;
  /** Stops passing calls. */
  readonly close: () => void;
}

export function createDhtHandlerSlot(): DhtHandlerSlot {
  let handlers: DhtHandlers | undefined;
  let listened = false;
  return {
    serving: () => {
      if (!handlers) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, "this node's DHT is not running");
      return handlers;
    },
    listen: (next) => {
      if (listened) throw new Error('this DHT inbound is already listening');
      for (const rpc of DHT_RPC_NAMES) if (typeof next[rpc] !== 'function') throw new TypeError(`DHT handlers lack ${rpc}`);
      listened = true;
      handlers = next;
    },
    close: () => {
      handlers = undefined;
    },
  };
}

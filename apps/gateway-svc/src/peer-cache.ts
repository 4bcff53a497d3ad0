/**
 * What this node learnt about each peer (a record's freshness, a standing), shared by the per-peer
 * checks of peers' tasks: at most `maxPeers` answers, the oldest dropped first, and one question in
 * flight per peer, so a burst of one peer's tasks costs one bus round trip.
 */
import type { TraceContext } from '@swarm/telemetry';
import { RecencyMap } from '@swarm/recency-map';

export interface PeerCache<T, R> {
  get(peerId: string): T | undefined;
  /** Keeps `value` as the newest answer about `peerId`. */
  put(peerId: string, value: T): void;
  delete(peerId: string): void;
  /** `ask(peerId, trace)`, or the answer to the same question already in flight (asked in its first asker's trace). */
  asking(peerId: string, trace?: TraceContext): Promise<R>;
  /** Whether a question about `peerId` is in flight (asking would join it, not ask again). */
  pending(peerId: string): boolean;
}

export function createPeerCache<T, R>(maxPeers: number, ask: (peerId: string, trace?: TraceContext) => Promise<R>): PeerCache<T, R> {
  /** The least recently put forgotten first. */
  const known = new RecencyMap<string, T>(maxPeers);
  const inFlight = new Map<string, Promise<R>>();
  return {
    get: (peerId) => known.get(peerId),
    put: (peerId, value) => void known.set(peerId, value),
    delete: (peerId) => void known.delete(peerId),
    pending: (peerId) => inFlight.has(peerId),
    asking(peerId, trace) {
      let pending = inFlight.get(peerId);
      if (!pending) {
        pending = ask(peerId, trace).finally(() => inFlight.delete(peerId));
        inFlight.set(peerId, pending);
      }
      return pending;
    },
  };
}

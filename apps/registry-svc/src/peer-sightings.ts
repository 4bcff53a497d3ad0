/**
 * When this node last heard from each peer (an answered call, a relayed request): ListPeers' last
 * seen. Bounded, so a stream of made-up callers cannot grow it.
 */
import type { WallClock } from '@swarm/determinism';

/** Peers whose last contact time is kept; the least recently heard is dropped beyond it. */
export const MAX_HEARD_PEERS = 4_096;

/** Wall-clock ms of the last word from each node id. */
export interface PeerSightings {
  saw(nodeId: string): void;
  lastHeard(nodeId: string): number | undefined;
}

export function createPeerSightings(clock: WallClock, max = MAX_HEARD_PEERS): PeerSightings {
  /** Insertion order is recency order: the first entry is the least recently heard. */
  const heard = new Map<string, number>();
  return {
    saw(nodeId) {
      heard.delete(nodeId);
      heard.set(nodeId, clock.now());
      for (const oldest of heard.keys()) {
        if (heard.size <= max) break;
        heard.delete(oldest);
      }
    },
    lastHeard: (nodeId) => heard.get(nodeId),
  };
}

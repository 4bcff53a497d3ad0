/**
 * When this node last heard from each peer (an answered call, a relayed request): ListPeers' last
 * seen. Bounded, so a stream of made-up callers cannot grow it.
 */
import type { WallClock } from '@swarm/determinism';
import { RecencyMap } from '@swarm/recency-map';

/** Peers whose last contact time is kept; the least recently heard is dropped beyond it. */
export const MAX_HEARD_PEERS = 4_096;

/** Wall-clock ms of the last word from each node id. */
export interface PeerSightings {
  saw(nodeId: string): void;
  lastHeard(nodeId: string): number | undefined;
}

export function createPeerSightings(clock: WallClock, max = MAX_HEARD_PEERS): PeerSightings {
  /** The least recently heard forgotten first. */
  const heard = new RecencyMap<string, number>(max);
  return {
    saw: (nodeId) => void heard.set(nodeId, clock.now()),
    lastHeard: (nodeId) => heard.get(nodeId),
  };
}

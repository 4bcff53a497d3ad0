/**
 * A submitting peer's contribution standing, asked of this node's credit-svc (CreditStanding: the
 * credit this node's ledger paid the peer for verified work in its window; signed receipts will be
 * the evidence later, docs/priority.md). Asked only when peers' tasks fill this node, kept a few
 * seconds so a burst of one peer's tasks costs one bus round trip (concurrent askers share it).
 * A credit-svc that does not answer counts as standing 0 for everyone (a free rider's place): the
 * node keeps serving, first come first served among equals, rather than refusing all peers.
 */
import type { BusClient } from '@swarm/bus';
import { CreditStanding } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import type { Logger, TraceContext } from '@swarm/telemetry';
import type { PeerCache } from './peer-cache';
import { createPeerCache } from './peer-cache';

/** A standing is used this long without asking again; failures (standing 0) too, so a down ledger is not asked per task. */
export const STANDING_FRESH_MS = 5_000;
/** credit-svc answers from memory; a slower answer means it is stuck, and the task is waiting. */
export const STANDING_TIMEOUT_MS = 1_000;
/** Peers whose standing is kept; the oldest is dropped beyond it. */
export const MAX_CACHED_STANDINGS = 1_024;

export interface PeerStanding {
  /** Credit this node paid `peerId` in the window; 0 when never paid or when credit-svc cannot tell. Never rejects. */
  of(peerId: string, trace?: TraceContext): Promise<bigint>;
}

interface Known {
  readonly atMs: number;
  readonly standing: bigint;
}

export function createPeerStanding(bus: BusClient, stopwatch: Stopwatch, log: Logger): PeerStanding {
  const cache: PeerCache<Known, bigint> = createPeerCache(MAX_CACHED_STANDINGS, async (peerId, trace) => {
    let standing = 0n;
    try {
      standing = (await bus.request(CreditStanding, { nodeId: peerId }, { timeoutMs: STANDING_TIMEOUT_MS, trace })).earnedInWindow;
    } catch (err) {
      log.warn({ err, peer: peerId.slice(0, 64) }, 'could not read a peer’s standing: counting it as 0');
    }
    cache.put(peerId, { atMs: stopwatch.now(), standing });
    return standing;
  });

  return {
    of(peerId, trace) {
      const held = cache.get(peerId);
      if (held && stopwatch.now() - held.atMs < STANDING_FRESH_MS) return Promise.resolve(held.standing);
      return cache.asking(peerId, trace);
    },
  };
}

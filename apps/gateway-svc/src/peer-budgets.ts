/**
 * A token bucket per peer node id, for work a peer can ask of this node at almost no cost to itself
 * (the gateway's call limits count calls, not what each call carries). Used for the voids of
 * receipts this node never took (ledger-batch.ts): each costs a countersignature and a ledger turn
 * here, and an honest payer sends one only when its payee refused a receipt for good, which is
 * rare. Pure, timed by a Stopwatch; at most `maxPeers` buckets, the least recently used forgotten
 * first (a peer forgotten starts full again: coming back that way takes another `maxPeers` node
 * ids, each with its proof of work and its own connection).
 */
import type { Stopwatch } from '@swarm/determinism';
import type { RateLimiter } from '@swarm/pipeline';
import { createRateLimiter } from '@swarm/pipeline';

export interface PeerBudgetLimits {
  readonly perSecond: number;
  readonly burst: number;
  readonly maxPeers: number;
}

export interface PeerBudgets {
  readonly limits: PeerBudgetLimits;
  /** Takes one of `peerId`'s tokens: 0 when taken, else the ms until one is there (nothing taken). */
  take(peerId: string): number;
}

export function createPeerBudgets(limits: PeerBudgetLimits, stopwatch: Stopwatch): PeerBudgets {
  // Insertion order is recency: a peer's bucket is deleted and set again on each use.
  const buckets = new Map<string, RateLimiter>();
  return {
    limits,
    take(peerId) {
      const bucket = buckets.get(peerId) ?? createRateLimiter({ perSecond: limits.perSecond, burst: limits.burst }, stopwatch);
      buckets.delete(peerId);
      buckets.set(peerId, bucket);
      if (buckets.size > limits.maxPeers) buckets.delete(buckets.keys().next().value as string);
      return bucket.take() ? 0 : Math.max(1, bucket.waitMs());
    },
  };
}

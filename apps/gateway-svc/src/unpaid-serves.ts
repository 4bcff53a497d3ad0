/**
 * What this node has served each peer and not been paid for yet: the price of each task it ran for
 * the peer, until a receipt for that task is countersigned here or `windowMs` passes (a task a
 * requester rightly never pays: a result it rejected, a replica that lost). A peer owing more than
 * `maxCredits` gets no more tasks run until it pays (PeerService.Execute refuses OVERLOADED, so its
 * router tries another provider), which bounds what a peer that never pays (a free rider with a
 * record on the DHT and no intention to pay) takes from this node to `maxCredits` of work a window.
 * An honest requester pays within seconds (its credit-svc's outbox), far inside both bounds.
 *
 * Pure, timed by a Stopwatch; bounded: at most `maxPeers` peers (the least recently served
 * forgotten first) and `maxTasksPerPeer` tasks each (the oldest dropped: the bound then errs
 * towards serving).
 */
import type { Stopwatch } from '@swarm/determinism';

export interface UnpaidServeLimits {
  /** Credits of served, unpaid tasks past which a peer's next task is refused. */
  readonly maxCredits: bigint;
  /** How long a served task counts unpaid at most, ms. */
  readonly windowMs: number;
  readonly maxPeers: number;
  readonly maxTasksPerPeer: number;
}

/** A 1000×1000 matmul (the largest task a node takes) is 2,000 credits: a few of them in flight. */
export const DEFAULT_UNPAID_SERVE_LIMITS: UnpaidServeLimits = Object.freeze({ maxCredits: 8_000n, windowMs: 600_000, maxPeers: 10_000, maxTasksPerPeer: 1_024 });

export interface UnpaidServes {
  /** Past this (owed > maxCredits) a peer's next task is refused. */
  readonly maxCredits: bigint;
  /** Credits `peer` owes for tasks served within the window. */
  owed(peer: string): bigint;
  /** This node ran `taskId` for `peer`, worth `price`. */
  served(peer: string, taskId: string, price: bigint): void;
  /** A receipt of `peer`'s for `taskId` was countersigned here. */
  paid(peer: string, taskId: string): void;
}

interface Served {
  readonly price: bigint;
  readonly at: number;
}

export function createUnpaidServes(limits: UnpaidServeLimits, stopwatch: Stopwatch): UnpaidServes {
  // Insertion order is recency, for peers (re-set on each serve) and for each peer's tasks.
  const peers = new Map<string, Map<string, Served>>();

  /** The peer's tasks still inside the window (older ones dropped). */
  const live = (peer: string): Map<string, Served> | undefined => {
    const tasks = peers.get(peer);
    if (!tasks) return undefined;
    const oldest = stopwatch.now() - limits.windowMs;
    for (const [id, s] of tasks) {
      if (s.at > oldest) break;
      tasks.delete(id);
    }
    if (tasks.size === 0) peers.delete(peer);
    return tasks.size === 0 ? undefined : tasks;
  };

  return {
    maxCredits: limits.maxCredits,
    owed(peer) {
      let sum = 0n;
      for (const s of live(peer)?.values() ?? []) sum += s.price;
      return sum;
    },
    served(peer, taskId, price) {
      const tasks = live(peer) ?? new Map<string, Served>();
      peers.delete(peer);
      peers.set(peer, tasks);
      // A task served again (a replica, a shard of the same task id) adds to what it owes.
      const before = tasks.get(taskId);
      tasks.delete(taskId);
      tasks.set(taskId, { price: (before?.price ?? 0n) + price, at: stopwatch.now() });
      if (tasks.size > limits.maxTasksPerPeer) tasks.delete(tasks.keys().next().value as string);
      if (peers.size > limits.maxPeers) peers.delete(peers.keys().next().value as string);
    },
    paid(peer, taskId) {
      const tasks = peers.get(peer);
      if (!tasks) return;
      tasks.delete(taskId);
      if (tasks.size === 0) peers.delete(peer);
    },
  };
}

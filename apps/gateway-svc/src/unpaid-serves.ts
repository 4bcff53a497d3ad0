/**
 * What this node has run for each peer and not been paid for yet. A task's price counts against
 * its peer from the moment it is admitted (so tasks in flight count too) until the first receipt
 * for that task is countersigned here, which takes off what it pays (and a credit of rounding per
 * run), or until `windowMs` after its last run (a task a requester rightly never pays: a result it
 * rejected, a replica that lost, a share that rounds to 0). A task is admitted only while its peer
 * owes nothing, or owes no more than `maxCredits` with it (and what the peer paid here within the
 * window on top: a requester that pays gets room for its unpaid remainders), and holds fewer than
 * `maxTasksPerPeer` unpaid tasks: PeerService.Execute refuses the rest OVERLOADED, so the peer's router tries another
 * provider. That bounds what a peer that never pays takes from this node to about `maxCredits` of
 * work a window; an honest requester's receipts come within seconds (its credit-svc's outbox).
 *
 * A receipt counts once per task: re-delivering it (an idempotent retry) takes nothing more off,
 * and runs of that task id after it count in full. A task its receipt paid off is no longer held
 * (only its id, among the peer's last RECEIPTED_IDS_PER_TASK_LIMIT × maxTasksPerPeer receipted ones
 * within the window): a paying peer once held 1,024 paid tasks for 10 minutes, and at 1,024 this
 * node refused its every task, 100 a second of them, as if it never paid. Pure, timed by a Stopwatch; at most `maxEntries`
 * tasks across peers: past it the peer served least recently is forgotten whole.
 */
import type { Stopwatch } from '@swarm/determinism';

export interface UnpaidServeLimits {
  /** Credits of admitted, unpaid tasks past which a peer's next task is refused. */
  readonly maxCredits: bigint;
  /** How long a task counts unpaid at most after its last run, ms. */
  readonly windowMs: number;
  /** Unpaid tasks a peer may hold; at this many its next task is refused. */
  readonly maxTasksPerPeer: number;
  /** Tasks held across peers. */
  readonly maxEntries: number;
}

/** A 1000×1000 matmul (the largest task a node takes) is 2,000 credits: a few of them in flight. */
export const DEFAULT_UNPAID_SERVE_LIMITS: UnpaidServeLimits = Object.freeze({ maxCredits: 8_000n, windowMs: 600_000, maxTasksPerPeer: 1_024, maxEntries: 100_000 });

export interface UnpaidServes {
  /**
   * Counts `price` for running `taskId` for `peer` now, and answers undefined; or, when the peer
   * owes too much to be given it, counts nothing and answers what it owes.
   */
  admit(peer: string, taskId: string, price: bigint): bigint | undefined;
  /** The admitted run did not happen (the executors failed it): its price no longer counts. */
  release(peer: string, taskId: string, price: bigint): void;
  /** A receipt of `peer`'s for `taskId`, paying `amount`, was countersigned here. */
  paid(peer: string, taskId: string, amount: bigint): void;
  /** Credits `peer` owes now. */
  owed(peer: string): bigint;
}

interface Unpaid {
  owed: bigint;
  runs: number;
  at: number;
}

/** Receipted task ids remembered per peer, as a multiple of maxTasksPerPeer. */
export const RECEIPTED_IDS_PER_TASK_LIMIT = 4;
/** Peers whose receipts (and payments) are remembered once none of their tasks is held. */
export const REMEMBERED_PAYERS = 1_024;

export function createUnpaidServes(limits: UnpaidServeLimits, stopwatch: Stopwatch): UnpaidServes {
  // Insertion order is recency, for peers (re-set on each admission) and for each peer's tasks.
  const peers = new Map<string, Map<string, Unpaid>>();
  /** What each peer paid here, oldest first, within the window (bounded as its tasks are). */
  const payments = new Map<string, Array<{ readonly at: number; readonly amount: bigint }>>();
  /** Per peer, the task ids a receipt was taken off for already (no other is), oldest first, with when. */
  const receipted = new Map<string, Map<string, number>>();
  const maxReceipted = RECEIPTED_IDS_PER_TASK_LIMIT * limits.maxTasksPerPeer;
  let entries = 0;

  const drop = (tasks: Map<string, Unpaid>, taskId: string) => {
    if (tasks.delete(taskId)) entries -= 1;
  };
  const forgetPeer = (peer: string) => {
    entries -= peers.get(peer)?.size ?? 0;
    peers.delete(peer);
    payments.delete(peer);
    receipted.delete(peer);
  };
  /** Whether a receipt was taken off for `taskId` of `peer` within the window. */
  const wasReceipted = (peer: string, taskId: string): boolean => {
    const ids = receipted.get(peer);
    const at = ids?.get(taskId);
    return at !== undefined && at > stopwatch.now() - limits.windowMs;
  };
  const markReceipted = (peer: string, taskId: string) => {
    const ids = receipted.get(peer) ?? new Map<string, number>();
    ids.delete(taskId);
    ids.set(taskId, stopwatch.now());
    if (ids.size > maxReceipted) ids.delete(ids.keys().next().value as string);
    // Recency of peers too: at most REMEMBERED_PAYERS peers' receipts and payments, the least recent forgotten.
    receipted.delete(peer);
    receipted.set(peer, ids);
    if (receipted.size > REMEMBERED_PAYERS) {
      const oldest = receipted.keys().next().value as string;
      receipted.delete(oldest);
      payments.delete(oldest);
    }
  };
  const paidLately = (peer: string): bigint => {
    const list = payments.get(peer);
    if (!list) return 0n;
    const oldest = stopwatch.now() - limits.windowMs;
    while (list.length > 0 && list[0].at <= oldest) list.shift();
    let total = 0n;
    for (const p of list) total += p.amount;
    return total;
  };

  /** The peer's tasks still inside the window (older ones dropped). */
  const live = (peer: string): Map<string, Unpaid> | undefined => {
    const tasks = peers.get(peer);
    if (!tasks) return undefined;
    const oldest = stopwatch.now() - limits.windowMs;
    for (const [id, u] of tasks) {
      if (u.at > oldest) break;
      drop(tasks, id);
    }
    // No task held (all paid, or past the window): what it paid and which receipts it sent stay.
    if (tasks.size === 0) peers.delete(peer);
    return tasks.size === 0 ? undefined : tasks;
  };
  const sum = (tasks: Map<string, Unpaid> | undefined) => {
    let total = 0n;
    for (const u of tasks?.values() ?? []) total += u.owed;
    return total;
  };

  return {
    admit(peer, taskId, price) {
      const tasks = live(peer);
      const owed = sum(tasks);
      if ((owed > 0n && owed + price > limits.maxCredits + paidLately(peer)) || (tasks?.size ?? 0) >= limits.maxTasksPerPeer) return owed;
      const held = tasks ?? new Map<string, Unpaid>();
      peers.delete(peer);
      peers.set(peer, held);
      const before = held.get(taskId);
      if (before) held.delete(taskId);
      else entries += 1;
      // A task id run again (another block of a split task, a retry) adds to what it owes.
      held.set(taskId, { owed: (before?.owed ?? 0n) + price, runs: (before?.runs ?? 0) + 1, at: stopwatch.now() });
      while (entries > limits.maxEntries) forgetPeer(peers.keys().next().value as string);
      return undefined;
    },
    release(peer, taskId, price) {
      const tasks = peers.get(peer);
      const u = tasks?.get(taskId);
      if (!tasks || !u) return;
      u.owed = u.owed > price ? u.owed - price : 0n;
      u.runs = Math.max(0, u.runs - 1);
      if (u.runs === 0) drop(tasks, taskId);
      if (tasks.size === 0) peers.delete(peer);
    },
    paid(peer, taskId, amount) {
      const tasks = peers.get(peer);
      const u = tasks?.get(taskId);
      if (!tasks || !u || wasReceipted(peer, taskId)) return;
      markReceipted(peer, taskId);
      const list = payments.get(peer) ?? [];
      list.push({ at: stopwatch.now(), amount });
      if (list.length > limits.maxTasksPerPeer) list.shift();
      payments.set(peer, list);
      // A share of a split pool may round down by a credit a run.
      const off = amount + BigInt(u.runs);
      u.owed = u.owed > off ? u.owed - off : 0n;
      // Paid off: no longer held (its id is, receipted), so it takes no room among the peer's tasks.
      if (u.owed === 0n) drop(tasks, taskId);
      if (tasks.size === 0) peers.delete(peer);
    },
    owed: (peer) => sum(live(peer)),
  };
}

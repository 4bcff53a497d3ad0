/**
 * What this node has run for each peer and not been paid for yet. A task's price counts against
 * its peer from the moment it is admitted (so tasks in flight count too) until the receipt for
 * that task is appended to this node's chain, which takes off what it pays (and a credit of
 * rounding per run), or until `windowMs` after its last run (a task a requester rightly never pays: a result it
 * rejected, a replica that lost, a share that rounds to 0). A task is admitted only while its peer
 * owes nothing, or owes no more than `maxCredits` with it (and what the peer paid here within the
 * window on top: a requester that pays gets room for its unpaid remainders), and holds fewer than
 * `maxTasksPerPeer` unpaid tasks: PeerService.Execute refuses the rest OVERLOADED, so the peer's router tries another
 * provider. That bounds what a peer that never pays takes from this node to about `maxCredits` of
 * work a window; an honest requester's receipts come within seconds (its credit-svc's outbox).
 *
 * `paid` is told of a receipt only when this node's ledger appended it (receipt-relay.ts: a
 * receipt id is appended once, ever), so a receipt counts once per task, and runs of that task id
 * after it count in full. A task its receipt paid off is no longer held: paid tasks once stayed
 * held for the window, and at 1,024 held this node refused every task of a peer paying for 100 a
 * second, as if it never paid. The credit of rounding is one per run, up to MAX_ROUNDING_RUNS
 * (the blocks of one split task, and their retries): one 1-credit receipt cleared 8,000 runs of a
 * price-1 task. Pure, timed by a Stopwatch; at most `maxEntries` tasks across peers: past it the
 * peer served least recently is forgotten whole; what the most recent REMEMBERED_PAYERS peers paid
 * within the window is kept apart.
 */
import { TASK_MAX_SHARDS } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import { RecencyMap } from '@swarm/recency-map';

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
  /** A receipt of `peer`'s for `taskId`, paying `amount`, was appended to this node's chain (once per receipt id, ever). */
  paid(peer: string, taskId: string, amount: bigint): void;
  /** Credits `peer` owes now. */
  owed(peer: string): bigint;
}

interface Unpaid {
  owed: bigint;
  runs: number;
  at: number;
}

/** Peers whose payments (their room, paidLately) are remembered once none of their tasks is held. */
export const REMEMBERED_PAYERS = 1_024;
/** Runs of one task id that a receipt is forgiven a credit of rounding each: a split task's blocks (TASK_MAX_SHARDS), each tried twice. */
export const MAX_ROUNDING_RUNS = 2 * TASK_MAX_SHARDS;

export function createUnpaidServes(limits: UnpaidServeLimits, stopwatch: Stopwatch): UnpaidServes {
  // Insertion order is recency, for peers (re-set on each admission) and for each peer's tasks.
  const peers = new Map<string, Map<string, Unpaid>>();
  /** What each peer paid here, oldest first, within the window: at most maxTasksPerPeer a peer, for REMEMBERED_PAYERS peers. */
  const payments = new RecencyMap<string, Array<{ readonly at: number; readonly amount: bigint }>>(REMEMBERED_PAYERS);
  let entries = 0;

  const drop = (tasks: Map<string, Unpaid>, taskId: string) => {
    if (tasks.delete(taskId)) entries -= 1;
  };
  const forgetPeer = (peer: string) => {
    entries -= peers.get(peer)?.size ?? 0;
    peers.delete(peer);
    payments.delete(peer);
  };
  /** A payment of `peer`'s now; the most recent REMEMBERED_PAYERS peers' are kept (recency order). */
  const notePayment = (peer: string, amount: bigint) => {
    const list = payments.get(peer) ?? [];
    list.push({ at: stopwatch.now(), amount });
    if (list.length > limits.maxTasksPerPeer) list.shift();
    payments.set(peer, list);
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
      if (!tasks || !u) return;
      notePayment(peer, amount);
      // A share of a split pool may round down by a credit a run (of the runs one task has honestly).
      const off = amount + BigInt(Math.min(u.runs, MAX_ROUNDING_RUNS));
      u.owed = u.owed > off ? u.owed - off : 0n;
      // Paid off: no longer held, so it takes no room among the peer's tasks; its receipt cannot be
      // appended again, so a later run of its id counts in full.
      if (u.owed === 0n) drop(tasks, taskId);
      if (tasks.size === 0) peers.delete(peer);
    },
    owed: (peer) => sum(live(peer)),
  };
}

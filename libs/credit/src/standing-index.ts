/**
 * Contribution standing: the credit this node's ledger paid each payee (its SETTLE entries) in a
 * rolling window, so a congested node can serve the peers that did verified work for it first
 * (docs/priority.md). The evidence is this node's own ledger for now; signed receipts (issue 14)
 * will replace it, and this index will then count receipts instead of settle entries.
 *
 * Memory is bounded two ways: per payee, payouts are summed into buckets of window/STANDING_BUCKETS
 * (so at most STANDING_BUCKETS + 2 buckets each), and at most `maxPayees` payees are held; beyond
 * that the least recently paid one is forgotten and reads 0 (a free rider) until it is paid again.
 * The state depends only on the entries recorded, in order, so a rebuild from the log equals the
 * index kept up to date commit by commit.
 */
import type { LedgerEntry } from '@swarm/contracts';
import { EntryKind } from '@swarm/contracts';

/** An hour: long enough to span many tasks, short enough that standing must be kept up by serving. */
export const DEFAULT_STANDING_WINDOW_MS = 3_600_000;
/** Buckets per window: a payout counts for at least the window and at most 1/STANDING_BUCKETS longer. */
export const STANDING_BUCKETS = 60;
/** Payees held; each costs at most STANDING_BUCKETS + 2 buckets. */
export const DEFAULT_MAX_STANDING_PAYEES = 4_096;
/** Below this a bucket would be under a second: the window is not a rate limiter. */
export const MIN_STANDING_WINDOW_MS = 60_000;

export interface StandingInit {
  readonly windowMs: number;
  /** Default DEFAULT_MAX_STANDING_PAYEES. */
  readonly maxPayees?: number;
}

export interface StandingIndex {
  readonly windowMs: number;
  /** Counts one committed entry if it is a SETTLE (a payout); any other kind is ignored. */
  record(entry: LedgerEntry): void;
  /** Credit paid to `nodeId` by payouts still in the window at `nowMs` (epoch ms); 0 for one never paid. */
  earned(nodeId: string, nowMs: number): bigint;
  /** The earliest commit time (epoch ms) an entry may have and still count at `nowMs`: where a rebuild starts. */
  horizon(nowMs: number): number;
  /** Payees held. */
  size(): number;
}

interface Payee {
  /** Bucket numbers (floor(atMs / bucketMs)), ascending, with their sums. */
  readonly buckets: number[];
  readonly sums: bigint[];
}

export function createStandingIndex(init: StandingInit): StandingIndex {
  const { windowMs } = init;
  const maxPayees = init.maxPayees ?? DEFAULT_MAX_STANDING_PAYEES;
  if (!Number.isSafeInteger(windowMs) || windowMs < MIN_STANDING_WINDOW_MS) throw new RangeError(`windowMs must be a whole number >= ${MIN_STANDING_WINDOW_MS}, got ${windowMs}`);
  if (!Number.isSafeInteger(maxPayees) || maxPayees < 1) throw new RangeError(`maxPayees must be a whole number >= 1, got ${maxPayees}`);
  const bucketMs = Math.ceil(windowMs / STANDING_BUCKETS);
  /** The first bucket still counted at `atMs`: the one whose end is after atMs - window. */
  const firstLive = (atMs: number) => Math.floor((atMs - windowMs) / bucketMs);
  /** Insertion order is the order of last payment: the first is the least recently paid. */
  const payees = new Map<string, Payee>();

  function add(payee: Payee, bucket: number, amount: bigint): void {
    const { buckets, sums } = payee;
    // Entries arrive in seq order, so nearly always at the end; a wall clock set back lands earlier.
    let i = buckets.length;
    while (i > 0 && buckets[i - 1] > bucket) i -= 1;
    if (i > 0 && buckets[i - 1] === bucket) sums[i - 1] += amount;
    else {
      buckets.splice(i, 0, bucket);
      sums.splice(i, 0, amount);
    }
    // Pruned against the payee's newest bucket, never against a query's time, so the state is a
    // function of the entries alone.
    const keepFrom = firstLive(buckets[buckets.length - 1] * bucketMs);
    let drop = 0;
    while (drop < buckets.length && buckets[drop] < keepFrom) drop += 1;
    buckets.splice(0, drop);
    sums.splice(0, drop);
  }

  return {
    windowMs,
    record(entry) {
      if (entry.kind !== EntryKind.ENTRY_KIND_SETTLE || entry.amount <= 0n) return;
      const atMs = Number(entry.atMs);
      const payee = payees.get(entry.toAccount) ?? { buckets: [], sums: [] };
      payees.delete(entry.toAccount);
      add(payee, Math.floor(atMs / bucketMs), entry.amount);
      payees.set(entry.toAccount, payee);
      // Least recently paid first: forget those whose newest payout left the window, then any
      // beyond the cap.
      for (const [id, p] of payees) {
        const expired = p.buckets[p.buckets.length - 1] < firstLive(atMs);
        if (!expired && payees.size <= maxPayees) break;
        payees.delete(id);
      }
    },
    earned(nodeId, nowMs) {
      const payee = payees.get(nodeId);
      if (!payee) return 0n;
      const from = firstLive(nowMs);
      let sum = 0n;
      for (let i = 0; i < payee.buckets.length; i += 1) if (payee.buckets[i] >= from) sum += payee.sums[i];
      return sum;
    },
    horizon: (nowMs) => firstLive(nowMs) * bucketMs,
    size: () => payees.size,
  };
}

/** The part of a Ledger a rebuild reads. */
export interface LedgerLog {
  entries(fromSeq: bigint, limit: number): Promise<LedgerEntry[]>;
  lastSeq(): bigint;
}

/**
 * Fills `index` from the log, reading only as far back as the window: a binary search on commit
 * time finds the first entry that can still count (log2(entries) point reads), then pages forward.
 * It assumes commit times rise with seq, as they do unless the wall clock was set back; entries
 * out of order near the horizon may then be missed or read needlessly (the index ignores those
 * outside the window either way). Answers the first seq read and how many entries were read.
 */
export async function rebuildStanding(log: LedgerLog, index: StandingIndex, nowMs: number, pageSize: number): Promise<{ fromSeq: bigint; scanned: number }> {
  const horizon = index.horizon(nowMs);
  let lo = 1n;
  let hi = log.lastSeq() + 1n;
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    const [entry] = await log.entries(mid, 1);
    if (entry !== undefined && Number(entry.atMs) < horizon) lo = mid + 1n;
    else hi = mid;
  }
  let scanned = 0;
  for (let seq = lo; ;) {
    const page = await log.entries(seq, pageSize);
    for (const entry of page) index.record(entry);
    scanned += page.length;
    if (page.length < pageSize) break;
    seq = page[page.length - 1].seq + 1n;
  }
  return { fromSeq: lo, scanned };
}

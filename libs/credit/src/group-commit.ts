/**
 * Group commit: operations that queue while a batch is being written share the next batch, so
 * concurrent operations pay one synced write between them instead of one each (LevelDB would
 * group concurrent writers itself, but a read-modify-write ledger cannot have them concurrent).
 *
 * Invariants (the ledger's semantics are those of a serial queue of one batch per operation):
 * - Operations are applied one at a time, in the order queued, each reading through the records
 *   staged by the earlier ones of its group (staged-batch.ts); a refused one stages nothing.
 * - No operation of a group is answered, refusals and retries included (their answer may rest on
 *   staged records), before the group's batch is durably written.
 * - A failed write fails every operation of its group, and the staged records are dropped, so
 *   the next group reads the last durable state again.
 * - Nothing waits for company: a group is cut as soon as the store is free, holding whatever
 *   queued meanwhile, up to a bound on operations, records and side bytes.
 */
import type { Committed } from './ledger';
import type { Change } from './ledger-rules';
import type { ExpiryRef, LedgerStore } from './ledger-store';
import type { OperationView } from './staged-batch';
import { createStagedBatch } from './staged-batch';

/** Most operations in one batch: c=16 callers never come near it; it bounds a burst. */
export const DEFAULT_MAX_GROUP_OPERATIONS = 256;
/**
 * Most records (accounts, escrows, entries, index keys, side records) one batch collects before it
 * is cut; each ledger record encodes to well under 1 KiB, so a batch stays below a few MiB. One
 * operation writes at most ~40 ledger records (a settle with MAX_PAYOUTS payouts), so the bound is
 * overshot by that at most.
 */
export const MAX_GROUP_WRITES = 4096;
/**
 * Most bytes of side values one batch collects before it is cut: side records (signed blocks and
 * receipts, up to ~9 KiB each) are far larger than ledger records, so their count alone would let
 * a batch reach tens of MiB. Overshot by one operation's side values at most.
 */
export const MAX_GROUP_SIDE_BYTES = 4 * 1024 * 1024;

/** What an operation asks to write: its change, and stale expiry keys to drop. */
export interface Staged<R> {
  readonly change: Change<R>;
  readonly extraDels?: readonly ExpiryRef[];
}

export interface GroupCommitter {
  /** Applies `apply` in its turn; resolves once the batch holding its records is durable. */
  run<R>(apply: (view: OperationView) => Staged<R>): Promise<Committed<R>>;
  /** Runs `task` alone: after every operation queued before it is answered, before any queued later is applied. */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
  /** Resolves once everything queued so far is answered. */
  drain(): Promise<void>;
  /** The durable next seq. */
  readonly nextSeq: bigint;
  /** Open escrows with an expiry, as durably written. */
  readonly openEscrows: number;
}

export interface GroupCommitInit {
  readonly nextSeq: bigint;
  readonly openEscrows: number;
  readonly maxOperations: number;
}

type OperationJob = {
  readonly kind: 'operation';
  readonly apply: (view: OperationView) => Staged<unknown>;
  readonly resolve: (done: Committed<unknown>) => void;
  readonly reject: (err: unknown) => void;
};
type Job = OperationJob | { readonly kind: 'task'; readonly task: () => Promise<void> };
type Outcome = { readonly ok: true; readonly done: Committed<unknown> } | { readonly ok: false; readonly err: unknown };

export function createGroupCommitter(store: LedgerStore, init: GroupCommitInit): GroupCommitter {
  const jobs: Job[] = [];
  let running = false;
  let nextSeq = init.nextSeq;
  let openEscrows = init.openEscrows;

  const enqueue = (job: Job) => {
    jobs.push(job);
    if (running) return;
    running = true;
    // A resolved promise, not a timer: operations issued in the same tick share the first batch,
    // and a lone operation is never held back.
    void Promise.resolve().then(loop);
  };

  async function loop(): Promise<void> {
    while (jobs.length > 0) {
      const head = jobs[0];
      if (head.kind === 'task') {
        jobs.shift();
        await head.task();
      } else {
        await commitGroup();
      }
    }
    running = false;
  }

  async function commitGroup(): Promise<void> {
    const batch = createStagedBatch(store, nextSeq);
    const group: Array<{ job: OperationJob; outcome: Outcome }> = [];
    while (jobs[0]?.kind === 'operation' && group.length < init.maxOperations && batch.writes < MAX_GROUP_WRITES && batch.sideBytes < MAX_GROUP_SIDE_BYTES) {
      const job = jobs.shift() as OperationJob;
      try {
        const { change, extraDels } = job.apply(batch);
        batch.stage(change, extraDels);
        group.push({ job, outcome: { ok: true, done: { result: change.result, entries: change.entries } } });
      } catch (err) {
        group.push({ job, outcome: { ok: false, err } });
      }
    }
    if (!batch.isEmpty()) {
      try {
        await store.commit(batch.toLedgerBatch());
      } catch (err) {
        for (const { job } of group) job.reject(err);
        return;
      }
      nextSeq = batch.nextSeq;
      openEscrows += batch.openedEscrows;
    }
    for (const { job, outcome } of group) {
      if (outcome.ok) job.resolve(outcome.done);
      else job.reject(outcome.err);
    }
  }

  const exclusive = <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => enqueue({ kind: 'task', task: () => Promise.resolve().then(task).then(resolve, reject) }));

  return {
    run<R>(apply: (view: OperationView) => Staged<R>): Promise<Committed<R>> {
      return new Promise<Committed<R>>((resolve, reject) => enqueue({ kind: 'operation', apply, resolve: resolve as (done: Committed<unknown>) => void, reject }));
    },
    exclusive,
    drain: () => exclusive(async () => undefined),
    get nextSeq() {
      return nextSeq;
    },
    get openEscrows() {
      return openEscrows;
    },
  };
}

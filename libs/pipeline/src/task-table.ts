/**
 * The router's memory of recent tasks: what each client was (or will be) told, so a client that
 * lost a reply can ask (status request) or retry by idempotency key and get the same answer, and a
 * retry of a running task joins it instead of running it twice.
 *
 * Bounded three ways: finished records are forgotten after `retentionMs`; at most `maxEntries`
 * records (oldest finished first; running ones are bounded by admission and never dropped, since a
 * retry must find them); retained results take at most `maxResultBytes` in all (the oldest results
 * are dropped first, the record of what happened stays). Past these the ledger's escrow is the
 * record: the router then answers from credit-svc, which never forgets an escrow.
 */
import { createHash } from 'node:crypto';
import type { SwarmError } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';

/** The same states as the wire's TaskState, as words the pure code can switch on. */
export type TaskRecordState = 'running' | 'paid' | 'refunded' | 'rejected';

export interface TaskRecord<R> {
  readonly taskId: string;
  readonly key: string;
  /** What was asked (see the router's submit handler): a key reused for another task is refused. */
  readonly fingerprint: string;
  /** The paying account: the node's own, or an agent's (`agent/<name>`); '' when not told. */
  readonly account: string;
  state: TaskRecordState;
  cost: bigint;
  refunded: bigint;
  providerId: string;
  /** Each node paid, when several were (row blocks, replicas); empty otherwise. */
  paidTo: readonly NodePaid[];
  attempts: number;
  /** How the escrow was closed, in words (e.g. refunded at expiry after settle kept failing). */
  note: string;
  /** Why it ran where it did, when the usual choice was not open (TaskOutcome.placementNote). */
  placementNote: string;
  /** Why it was refunded or rejected. */
  error?: SwarmError;
  /** The reply itself, while retained (a keyed retry answers it verbatim). */
  result?: R;
  resultBytes: number;
  /**
   * The router could not learn how the escrow closed (credit-svc stayed unreachable): a status
   * request asks the ledger first, which has the final word.
   */
  uncertain: boolean;
  /** Settles when the task ends; a retry of a running task awaits it. */
  running?: Promise<unknown>;
  /** When it ended, on the table's stopwatch (meaningless outside it). */
  finishedAtMs: number;
}

export interface TaskTableLimits {
  readonly retentionMs: number;
  readonly maxEntries: number;
  readonly maxResultBytes: number;
}

/**
 * Refusals cost a client nothing to provoke (an unknown skill with a fresh key each time), so
 * they may hold only this share of the table: a flood of them must not push out the records and
 * results of tasks that ran.
 */
export const REJECTED_SHARE = 0.1;

export interface TaskTable<R> {
  get(taskId: string): TaskRecord<R> | undefined;
  /** Records a task that starts now (replacing a REJECTED record of the same key), paid by `account`. */
  begin(taskId: string, key: string, running: Promise<unknown>, fingerprint?: string, account?: string): TaskRecord<R>;
  /** Records how a task ended; `result` is kept while it fits `maxResultBytes`. */
  finish(taskId: string, end: TaskEnd<R>): void;
  /**
   * A refusal before anything was paid (only kept for keyed submits, so a client can ask).
   * `uncertain`: the refusal came from a reserve or charge whose reply may have been lost, so an
   * escrow may exist (refunded since, or charged); the status request then asks the ledger.
   */
  reject(taskId: string, key: string, error: SwarmError, uncertain?: boolean, account?: string): void;
  size(): number;
  resultBytes(): number;
}

/** One node a task paid, and how much. */
export interface NodePaid {
  readonly providerId: string;
  readonly paid: bigint;
}

export interface TaskEnd<R> {
  state: Exclude<TaskRecordState, 'running' | 'rejected'>;
  cost: bigint;
  refunded: bigint;
  providerId: string;
  paidTo?: readonly NodePaid[];
  placementNote?: string;
  attempts: number;
  note: string;
  error?: SwarmError;
  result?: R;
  resultBytes?: number;
  uncertain?: boolean;
}

/**
 * The task (= escrow) id of a keyed submit: a pure function of payer and key, so a retry maps to
 * the same escrow even on a router that restarted and remembers nothing. 128 bits of sha256 keep
 * accidental collisions out of reach; `task-` + 32 hex has the same shape as a random task id.
 */
export function keyedTaskId(account: string, key: string): string {
  return `task-${createHash('sha256').update(account).update('\0').update(key).digest('hex').slice(0, 32)}`;
}

/**
 * Retention is an age in this process, so it is measured on a Stopwatch: a wall clock set back
 * would keep records past their retention, one set forward would forget them early.
 */
export function createTaskTable<R>(limits: TaskTableLimits, stopwatch: Stopwatch): TaskTable<R> {
  // Map keeps insertion order, so iteration visits the oldest records first. Every change puts a
  // record at the newest end, so finished records are in the order they finished: expiry stops at
  // the first one still retained, and each operation costs O(1) amortised, not a scan of the table.
  const records = new Map<string, TaskRecord<R>>();
  // The same order for the two subsets evicted from the oldest end: retained results and refusals.
  const withResult = new Set<TaskRecord<R>>();
  const refusals = new Set<TaskRecord<R>>();
  let bytes = 0;

  const dropResult = (r: TaskRecord<R>) => {
    bytes -= r.resultBytes;
    r.result = undefined;
    r.resultBytes = 0;
    withResult.delete(r);
  };
  const remove = (r: TaskRecord<R>) => {
    dropResult(r);
    refusals.delete(r);
    records.delete(r.taskId);
  };
  const expire = () => {
    const cutoff = stopwatch.now() - limits.retentionMs;
    // Running records (bounded by admission) are passed over; they are never dropped.
    for (const r of records.values()) {
      if (r.state === 'running') continue;
      if (r.finishedAtMs > cutoff) break;
      remove(r);
    }
    if (records.size <= limits.maxEntries) return;
    for (const r of records.values()) {
      if (records.size <= limits.maxEntries) break;
      if (r.state !== 'running') remove(r);
    }
  };
  // Re-inserting moves a record to the newest end of the order.
  const put = (r: TaskRecord<R>) => {
    records.delete(r.taskId);
    records.set(r.taskId, r);
    expire();
  };

  return {
    get(taskId) {
      expire();
      return records.get(taskId);
    },
    begin(taskId, key, running, fingerprint = '', account = '') {
      const old = records.get(taskId);
      if (old) remove(old);
      const r: TaskRecord<R> = {
        taskId,
        key,
        fingerprint,
        account,
        state: 'running',
        cost: 0n,
        refunded: 0n,
        providerId: '',
        paidTo: [],
        placementNote: '',
        attempts: 0,
        note: '',
        resultBytes: 0,
        uncertain: false,
        running,
        finishedAtMs: 0,
      };
      put(r);
      return r;
    },
    finish(taskId, end) {
      const r = records.get(taskId);
      if (!r) return;
      dropResult(r);
      Object.assign(r, {
        ...end,
        paidTo: end.paidTo ?? [],
        placementNote: end.placementNote ?? '',
        result: undefined,
        resultBytes: 0,
        uncertain: end.uncertain ?? false,
        running: undefined,
        finishedAtMs: stopwatch.now(),
      });
      const size = end.resultBytes ?? 0;
      if (end.result !== undefined && size <= limits.maxResultBytes) {
        // Oldest results go first; the records of what happened stay.
        for (const other of withResult) {
          if (bytes + size <= limits.maxResultBytes) break;
          dropResult(other);
        }
        r.result = end.result;
        r.resultBytes = size;
        bytes += size;
        withResult.add(r);
      }
      put(r);
    },
    reject(taskId, key, error, uncertain = false, account = '') {
      const old = records.get(taskId);
      // A refusal never overwrites the record of a task that ran and ended.
      if (old && (old.state === 'paid' || old.state === 'refunded')) return;
      if (old) remove(old);
      // Room first, oldest refusals out: refusals never evict a record of a task that ran.
      const cap = Math.max(1, Math.floor(limits.maxEntries * REJECTED_SHARE));
      for (const r of refusals) {
        if (refusals.size < cap) break;
        remove(r);
      }
      const refusal: TaskRecord<R> = {
        taskId,
        key,
        fingerprint: '',
        account,
        state: 'rejected',
        cost: 0n,
        refunded: 0n,
        providerId: '',
        paidTo: [],
        placementNote: '',
        attempts: 0,
        note: '',
        error,
        resultBytes: 0,
        uncertain,
        finishedAtMs: stopwatch.now(),
      };
      refusals.add(refusal);
      put(refusal);
    },
    size: () => records.size,
    resultBytes: () => bytes,
  };
}

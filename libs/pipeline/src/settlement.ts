/**
 * Closing a task's escrow: settle its payouts (retried until shortly before the escrow's expiry) or
 * refund it; on the folded path, one charge that opens and closes it at once (chargeUntil). Shared
 * by the one-provider path (run-task.ts) and redundant tasks (run-replicated.ts).
 */
import { ErrorCode, isSwarmError, SwarmError } from '@swarm/contracts';
import type { RouterComponents, RouterLimits } from './run-task';
import type { Payout, SettleFacts, TaskPorts, TaskRequest } from './task-types';
import { ChargeNotServed } from './task-types';

/**
 * Refund on a failure path. If it fails too, the caller still gets the task's own error, and the
 * escrow returns at its expiry (credit-svc's sweeper), so nothing is lost either way.
 */
export async function refundQuietly(ports: TaskPorts, escrowId: string): Promise<void> {
  await ports.refund(escrowId).catch(() => undefined);
}

/**
 * Reserves the task's budget naming `payees`, and answers the payees the escrow names. An escrow
 * that may pay another node is pledged against what this node's chain can pay others
 * (docs/chain.md): a new node's starter allowance, while the rest of its grant is locked. When the
 * pledge is refused (INSUFFICIENT_CREDIT) and `local` (this node's own executors among the payees)
 * is some but not all of them, the task is reserved again naming `local` alone and runs here: the
 * chain needs no pledge for it, and a task this node can run is not refused for what it could not
 * pay elsewhere. A refused reserve changed nothing; one whose reply was lost is refunded now rather
 * than at its expiry.
 */
export async function reserveNamingPayees(
  c: RouterComponents,
  req: TaskRequest,
  expiresAtMs: number,
  payees: readonly string[],
  local: readonly string[] = [],
): Promise<readonly string[]> {
  const reserve = async (named: readonly string[]) => {
    try {
      await c.ports.reserve(req.taskId, req.account, req.budget, expiresAtMs, named);
    } catch (err) {
      if (isSwarmError(err) && err.retryable) await refundQuietly(c.ports, req.taskId);
      throw err;
    }
  };
  try {
    await reserve(payees);
    return payees;
  } catch (err) {
    if (!isSwarmError(err, ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT) || local.length === 0 || local.length >= payees.length) throw err;
    await reserve(local);
    return local;
  }
}

/** A task's placement note when its escrow could name only this node's own executors (reserveNamingPayees fell back). */
export const LOCAL_ONLY_NOTE =
  "could run on this node's own executors only, with no other node to fall back on: this node's chain could not pledge the task to another node (most of a new node's grant stays locked until it first serves another node; swarm ledger shows it)";

/** LOCAL_ONLY_NOTE when the escrow names fewer payees than were found (the local fallback), else empty. */
export function placementNoteOf(named: readonly string[], found: readonly string[]): string {
  return named.length < found.length ? LOCAL_ONLY_NOTE : '';
}

/**
 * The escrow of a multi-provider task (run-replicated.ts, run-sharded.ts): reserves it for
 * `payees` (or `local` alone, reserveNamingPayees), then runs `dispatch` with the payees it names.
 * A reserve whose reply was lost, a dispatch that throws, and a stopping router (an abort with a
 * SwarmError reason) refund it; a deadline abort only cut off the dispatches still running, and
 * what arrived in time is the caller's to judge.
 */
export async function reserveAndDispatch<R>(
  c: RouterComponents,
  req: TaskRequest,
  escrow: { readonly expiresAtMs: number; readonly payees: readonly string[]; readonly local?: readonly string[]; readonly started: number },
  signal: AbortSignal,
  dispatch: (payees: readonly string[]) => Promise<R>,
): Promise<{ run: R; escrowMs: number; executeMs: number; placementNote: string }> {
  const watch = c.stopwatch ?? c.clock;
  const named = await reserveNamingPayees(c, req, escrow.expiresAtMs, escrow.payees, escrow.local);
  const escrowMs = watch.now() - escrow.started;
  const dispatchStart = watch.now();
  let run: R;
  try {
    run = await dispatch(named);
  } catch (err) {
    await refundQuietly(c.ports, req.taskId);
    throw err;
  }
  if (signal.aborted && isSwarmError(signal.reason)) {
    await refundQuietly(c.ports, req.taskId);
    throw signal.reason;
  }
  return { run, escrowMs, executeMs: watch.now() - dispatchStart, placementNote: placementNoteOf(named, escrow.payees) };
}

/**
 * Calls `call` until it succeeds, a failure is not retryable, `stop` aborts, or the next try would
 * come at or after `stopAtMs`: capped exponential backoff (settleBackoffMs doubling up to
 * settleBackoffMaxMs). Answers the payment (its note counts the tries that failed first), or the
 * last failure. The ledger's settle and charge are idempotent, so a retry after a lost reply never
 * pays twice.
 */
async function retryLedgerCall(
  c: Pick<RouterComponents, 'clock' | 'sleep'>,
  limits: Pick<RouterLimits, 'settleBackoffMs' | 'settleBackoffMaxMs'>,
  stopAtMs: number,
  stop: AbortSignal,
  verb: 'settled' | 'charged',
  call: () => Promise<{ paid: bigint; refunded: bigint }>,
): Promise<{ readonly paid: Settled } | { readonly failures: number; readonly last: string; readonly error: unknown }> {
  let delay = limits.settleBackoffMs;
  let failures = 0;
  let last = '';
  for (;;) {
    try {
      const r = await call();
      const note = failures ? `${verb} after ${failures} failed attempt(s) (last: ${last})` : '';
      return { paid: { settlement: 'paid', paid: r.paid, refunded: r.refunded, note, uncertain: false } };
    } catch (err) {
      failures += 1;
      last = err instanceof Error ? err.message : String(err);
      if (!isSwarmError(err) || !err.retryable || stop.aborted || c.clock.now() + delay >= stopAtMs) return { failures, last, error: err };
      await c.sleep(delay, stop);
      delay = Math.min(delay * 2, limits.settleBackoffMaxMs);
    }
  }
}

export interface Settled {
  settlement: 'paid' | 'refunded';
  paid: bigint;
  refunded: bigint;
  note: string;
  uncertain: boolean;
}

/**
 * Pays a verified result: `payouts` in one settle (the ledger pays them all or none, and refunds the
 * rest of the escrow). A retryable failure (credit-svc restarting, a lost reply) is retried
 * with capped exponential backoff until `settleMarginMs` before the escrow's expiry; then the
 * escrow is refunded and the verified outputs still go back to the client, unpaid. A non-retryable
 * failure (ESCROW_CLOSED: the ledger already closed it) skips to learning how it closed.
 */
export async function settleUntilExpiry(
  c: Pick<RouterComponents, 'ports' | 'clock' | 'sleep'>,
  limits: Pick<RouterLimits, 'settleBackoffMs' | 'settleBackoffMaxMs' | 'settleMarginMs'>,
  req: Pick<TaskRequest, 'taskId' | 'budget'>,
  payouts: readonly Payout[],
  expiresAtMs: number,
  stop: AbortSignal,
  facts?: SettleFacts,
): Promise<Settled> {
  const tried = await retryLedgerCall(c, limits, expiresAtMs - limits.settleMarginMs, stop, 'settled', () => c.ports.settle(req.taskId, payouts, facts));
  if ('paid' in tried) return tried.paid;
  const { failures, last } = tried;
  const why = `settle failed ${failures} time(s) (last: ${last})`;
  try {
    const r = await c.ports.refund(req.taskId);
    return { settlement: 'refunded', paid: 0n, refunded: r.refunded, note: `${why}; the escrow was refunded, nothing was paid`, uncertain: false };
  } catch {
    // ESCROW_CLOSED here may mean a settle whose reply was lost did commit: the ledger knows.
  }
  // A stopping router has only its grace period left; the ledger's answer is for status requests.
  if (!stop.aborted) {
    try {
      const e = await c.ports.escrow(req.taskId);
      if (e.state === 'settled') return { settlement: 'paid', paid: e.paid, refunded: e.refunded, note: `${why}, but the ledger shows the escrow settled`, uncertain: false };
      if (e.state === 'refunded')
        return { settlement: 'refunded', paid: 0n, refunded: e.refunded, note: `${why}; the ledger refunded the escrow, nothing was paid`, uncertain: false };
    } catch {
      // credit-svc still unreachable: fall through to what its expiry sweep will do.
    }
  }
  return {
    settlement: 'refunded',
    paid: 0n,
    refunded: req.budget,
    note: `${why}; no refund was confirmed, so the ledger refunds the escrow at its expiry (a status request shows the ledger's final word)`,
    uncertain: true,
  };
}

/** How long a router whose retries were cut off waits, at most, to ask the ledger its final word. */
const FINAL_READ_MAX_WAIT_MS = 50;

/**
 * Pays a result verified before anything was reserved (the folded path, run-task.ts): one charge
 * (reserve and settle at once), retried like a settle until `notAfterMs`, which the ledger enforces
 * too: it refuses a charge it reads later. A refusal (no credit, an unknown or closed account) is
 * thrown: nothing moved. When the retries end unanswered, the router asks the ledger once that time
 * has passed (waiting for it unless `stop` ended the retries well before), in its write queue, so
 * the answer is final: a charge that committed is paid; one that never will fails the task with
 * UNAVAILABLE and the result is not handed out unpaid (as the escrow path runs nothing without a
 * reserve). Only when the ledger cannot be asked, or the router is stopping, do the outputs go back
 * unpaid, marked uncertain. A ChargeNotServed on the first try (a credit-svc older than the charge)
 * is thrown at once: no ledger got it, so the caller may pay through an escrow.
 */
export async function chargeUntil(
  c: Pick<RouterComponents, 'ports' | 'clock' | 'sleep'>,
  limits: Pick<RouterLimits, 'settleBackoffMs' | 'settleBackoffMaxMs'>,
  req: Pick<TaskRequest, 'taskId' | 'account' | 'budget'>,
  payouts: readonly Payout[],
  notAfterMs: number,
  stop: AbortSignal,
): Promise<Settled> {
  // Whether some try may have reached a ledger (any failure but ChargeNotServed).
  let reached = false;
  const tried = await retryLedgerCall(c, limits, notAfterMs, stop, 'charged', async () => {
    try {
      return await c.ports.charge(req.taskId, req.account, req.budget, payouts, notAfterMs);
    } catch (err) {
      if (!(err instanceof ChargeNotServed)) reached = true;
      throw err;
    }
  });
  if ('paid' in tried) return tried.paid;
  const { failures, last, error } = tried;
  // Never received, so never committed: the caller pays another way. After a try that may have
  // been received, it is as uncertain as any other failure.
  if (error instanceof ChargeNotServed) {
    if (!reached) throw error;
  } else if (!isSwarmError(error) || !error.retryable) throw error;
  const why = `the charge failed ${failures} time(s) (last: ${last})`;
  // Timers may wake a little early, and `stop` (an unkeyed task's deadline) may end a wait just at
  // the not-after time: wait until it has passed, unless the router is stopping well before it.
  for (let now = c.clock.now(); now <= notAfterMs; now = c.clock.now()) {
    const wait = notAfterMs + 1 - now;
    if (stop.aborted && wait > FINAL_READ_MAX_WAIT_MS) break;
    await c.sleep(wait, stop.aborted ? undefined : stop);
  }
  const final = c.clock.now() > notAfterMs ? await c.ports.escrow(req.taskId, true).catch(() => undefined) : undefined;
  if (final?.state === 'settled') return { settlement: 'paid', paid: final.paid, refunded: final.refunded, note: `${why}, but the ledger shows it committed`, uncertain: false };
  // No escrow (or, for an id some other path used, one not charged): this charge never commits.
  if (final) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `${why}; nothing was paid, so the result is not handed out: try again`, true);
  return {
    settlement: 'refunded',
    paid: 0n,
    refunded: 0n,
    note: `${why}; nothing was reserved, and a charge still on its way may commit until ${Math.round(notAfterMs)} ms since the epoch (a status request shows the ledger's final word)`,
    uncertain: true,
  };
}

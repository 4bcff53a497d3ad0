/**
 * A redundant task (issue 14, `redundancy: K`, docs/redundancy.md): K different provider nodes run
 * it at once, every result is verified, and the replicas that agree with the result returned share
 * the pool by Shapley value (replica-split.ts). The escrow rules of run-task.ts hold: providers are
 * discovered first and named as the escrow's only payees, the escrow closes exactly once (one
 * settle paying every counted replica and refunding the rest, or a refund), and nothing is paid
 * before verification.
 *
 * - Fewer than K distinct provider nodes (this node's executors count as one) is refused before
 *   anything is reserved: NO_PROVIDER, naming K and how many were found.
 * - Each of the K slots dispatches to a provider chosen by the selector among those not yet used by
 *   this task. A replica that fails (an error, a result rejected by verification or late) is
 *   replaced by a provider not yet used, while the task has spare attempts (limits.maxAttempts − 1
 *   beyond the K first ones) and time. A replica that could still be replaced waits at most one
 *   attempt's time; one that cannot waits until the deadline, which cuts it off.
 * - Once every slot ended the results are judged. At least two verified results that arrived in
 *   time and agree: paid. Otherwise the escrow is refunded and the task fails with a typed error.
 * - The observer hears every replica: failures and results that failed verification at once
 *   ('rejected-by-verification' when proven wrong, else 'failed'), the verified ones when judged
 *   ('ok' if counted, 'rejected-by-verification' if the referee refuted them, else 'unjudged').
 */
import type { DenseTensor } from '@swarm/contracts';
import { ErrorCode, isSwarmError, SwarmError, TASK_MAX_REDUNDANCY } from '@swarm/contracts';
import type { AttemptOutcome, Candidate } from '@swarm/scoring';
import { createDefaultSelector, IGNORE_ATTEMPTS } from '@swarm/scoring';
import { getSkill } from '@swarm/skills';
import { attemptLog, failedAttemptOutcome, failedVerdictOutcome, judgeResult, lateOutcome, notify, taskEndOf } from './attempt-checks';
import { payableCandidates, payeesOf, providersForReplacement } from './payees';
import type { ReplicaResult } from './replica-split';
import { judgeReplicas, noAgreementError, splitPool } from './replica-split';
import type { RouterComponents, RouterLimits } from './run-task';
import { refundQuietly, reserveAndDispatch, settleUntilExpiry } from './settlement';
import type { AttemptRecord, Contribution, ExecutionResult, Payout, TaskOutcome, TaskRequest } from './task-types';
import { payeeKeysOf } from './task-types';

/** How many providers run `req`: 1 for redundancy 0 or 1; INVALID_ARGUMENT outside 2..TASK_MAX_REDUNDANCY. */
export function replicasOf(req: Pick<TaskRequest, 'redundancy'>): number {
  const k = req.redundancy ?? 0;
  if (k === 0 || k === 1) return 1;
  if (!Number.isInteger(k) || k < 2 || k > TASK_MAX_REDUNDANCY) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      `redundancy must be 1 (one provider) or 2 to ${TASK_MAX_REDUNDANCY} different providers, got ${String(k).slice(0, 16)}`,
    );
  }
  return k;
}

/** A redundant task as run-task.ts admitted it. */
export interface ReplicatedTask {
  readonly req: TaskRequest;
  readonly inputs: DenseTensor[];
  /** Credits for one run: each counted replica is paid this. */
  readonly price: bigint;
  readonly replicas: number;
  readonly expiresAtMs: number;
  /** How long an attempt that could still be replaced may take (run-task.ts attemptTimeoutMs). */
  readonly perAttemptMs: number;
  /** When the task began, on the stopwatch. */
  readonly started: number;
}

export async function runReplicated(c: RouterComponents, limits: RouterLimits, task: ReplicatedTask, signal: AbortSignal, settleSignal: AbortSignal): Promise<TaskOutcome> {
  const { req, replicas } = task;
  const watch = c.stopwatch ?? c.clock;
  // Discovered before the reserve, and refused there: K providers or none of the task runs.
  const found = await c.ports.findProviders(req.skill, signal);
  const payees = payeesOf(found, c.selector);
  if (payees.length < replicas) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_NO_PROVIDER,
      `redundancy ${replicas} needs ${replicas} different provider nodes of ${req.skill}; the registry found ${payees.length} (on this node and its peers); nothing was reserved`,
    );
  }
  const { run, escrowMs, executeMs, placementNote } = await reserveAndDispatch(c, req, { expiresAtMs: task.expiresAtMs, payees, started: task.started }, signal, () =>
    dispatchReplicas(c, limits, task, found, new Set(payees), signal),
  );
  const verdicts = judgeReplicas(getSkill(req.skill), task.inputs, run.results);
  const observer = c.observer ?? IGNORE_ATTEMPTS;
  const agreed = verdicts.returned !== undefined;
  // A lone verified result the referee did not refute (the other replicas failed, or were refuted)
  // is as good as a single provider's: 'ok'. A refuted one is wrong, agreement or not. One that
  // disagrees and was not refuted is within what an honest computation can be off (crafted data
  // can part two honest backends): outvoted, unpaid, but not blamed.
  const standing = run.results.filter((r, i) => r.verdict.ok && r.inTime && !verdicts.refuted[i]).length;
  run.results.forEach((r, i) => {
    if (!r.verdict.ok || !r.inTime) return; // told when it arrived
    const outcome: AttemptOutcome = verdicts.refuted[i] ? 'rejected-by-verification' : verdicts.notes[i] === '' || (!agreed && standing === 1) ? 'ok' : 'unjudged';
    notify(observer, {
      taskId: req.taskId,
      skill: req.skill,
      candidate: r.candidate,
      outcome,
      ms: r.ms,
      errorCode: outcome === 'ok' ? undefined : ErrorCode.ERROR_CODE_VERIFICATION_FAILED,
    });
  });
  const noteOf = new Map(run.results.map((r, i) => [r, verdicts.notes[i]]));
  const refutedOnes = new Set(run.results.filter((_, i) => verdicts.refuted[i]));
  const attempts = run.order.map((a) => ('exec' in a ? attemptRecord(a, noteOf.get(a) ?? '', refutedOnes.has(a)) : a));
  const returned = verdicts.returned;
  if (!returned) {
    await refundQuietly(c.ports, req.taskId);
    throw noAgreementError(replicas, verdicts, run.results, run.lastError, c.clock.now() >= req.deadlineMs);
  }

  const { amounts, shares } = splitPool(run.results, verdicts.winners, task.price);
  const payouts: Payout[] = run.results.map((r, i) => ({ payee: r.candidate.nodeId, amount: amounts[i] })).filter((p) => p.amount > 0n);
  const settleStart = watch.now();
  const facts = { inputs: req.inputs, outputs: returned.exec.outputs, payeeKeys: payeeKeysOf(run.results.map((r) => r.exec)) };
  const settled = await settleUntilExpiry(c, limits, req, payouts, task.expiresAtMs, settleSignal, facts);
  const paid = settled.settlement === 'paid';
  const contributions: Contribution[] = run.results.map((r, i) => ({
    providerId: r.candidate.nodeId,
    executorId: r.exec.executorId,
    counted: verdicts.notes[i] === '',
    paid: paid ? amounts[i] : 0n,
    share: shares[i],
    note: verdicts.notes[i],
    executeMs: r.executeMs,
  }));
  // Replicas asked that returned nothing (an error, no answer in time) are listed too, unpaid, so
  // the answer accounts for every node asked, not only those that answered. The note is the
  // router's words and the code, never the node's own message (a peer writes that).
  for (const a of run.noResult) {
    contributions.push({ providerId: a.providerId, executorId: '', counted: false, paid: 0n, share: 0, note: `no result (${a.code})`, executeMs: 0 });
  }
  const others = run.noResult.length === 0 ? '' : `; ${run.noResult.length} more asked returned no result`;
  const now = watch.now();
  return {
    taskId: req.taskId,
    settlement: settled.settlement,
    settlementNote: settled.note,
    settlementUncertain: settled.uncertain,
    outputs: returned.exec.outputs,
    cost: settled.paid,
    refunded: settled.refunded,
    providerId: returned.candidate.nodeId,
    executorId: returned.exec.executorId,
    backend: returned.exec.backend,
    verification: `${returned.verdict.method}; ${verdicts.winners.length} of ${run.results.length} replicas agree${others}`,
    attempts,
    timing: { escrowMs, executeMs, verifyMs: run.verifyMs, settleMs: now - settleStart, totalMs: now - task.started },
    contributions,
    shards: [],
    placementNote,
  };
}

/** Rejected: proven wrong by its check or by the referee; failed: failed its check unproven, late, outvoted, or no agreement to judge it by. */
function attemptRecord(r: ReplicaResult, note: string, refuted: boolean): AttemptRecord {
  const outcome = note === '' ? 'verified' : refuted || (!r.verdict.ok && r.verdict.refuted) ? 'rejected' : 'failed';
  return { providerId: r.candidate.nodeId, executorId: r.exec.executorId, outcome, detail: note === '' ? r.verdict.detail : note };
}

interface ReplicaRun {
  /** Replicas that returned outputs, in arrival order. */
  readonly results: ReplicaResult[];
  /** Every dispatch as it ended: a result, or the record of an error. */
  readonly order: Array<ReplicaResult | AttemptRecord>;
  /** The dispatches that ended in an error, with its code's name. */
  readonly noResult: Array<{ readonly providerId: string; readonly code: string }>;
  lastError: SwarmError | undefined;
  verifyMs: number;
}

/** Runs the K slots to their end (each: a replica, then replacements while allowed). */
async function dispatchReplicas(
  c: RouterComponents,
  limits: RouterLimits,
  task: ReplicatedTask,
  found: readonly Candidate[],
  payees: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<ReplicaRun> {
  const { req } = task;
  const watch = c.stopwatch ?? c.clock;
  const selector = c.selector ?? createDefaultSelector(c.random);
  const about = { taskId: req.taskId, skill: req.skill };
  const { reports, report } = attemptLog(c.observer, about);
  const run: ReplicaRun = { results: [], order: [], noResult: [], lastError: undefined, verifyMs: 0 };
  const used = new Set<string>();
  const maxDispatches = task.replicas + Math.max(0, limits.maxAttempts - 1);
  let dispatched = 0;

  // Synchronous from the filter to `used.add`, so two slots never take the same node. `proven`:
  // only proven candidates, when any is open.
  const choose = (pool: readonly Candidate[], proven = false): Candidate | undefined => {
    if (dispatched >= maxDispatches) return undefined;
    const payable = payableCandidates(pool, payees).filter((x) => !used.has(x.nodeId));
    const provenOnes = proven && selector.isProven ? payable.filter((x) => selector.isProven?.(x)) : [];
    const open = provenOnes.length > 0 ? provenOnes : payable;
    const shortened = Math.floor(req.deadlineMs - c.clock.now()) < task.perAttemptMs;
    const chosen = open.length > 0 ? selector.select({ ...about, shortened }, open, reports) : undefined;
    if (!chosen || used.has(chosen.nodeId) || !payees.has(chosen.nodeId)) return undefined;
    used.add(chosen.nodeId);
    dispatched += 1;
    return chosen;
  };
  const replaceable = () => dispatched < maxDispatches && used.size < payees.size;

  /**
   * One dispatch and its verdict: 'verified' in time, 'replace' when another provider may be
   * tried, 'stop' when not (no time, or an error that says the task itself is at fault, which
   * every provider would repeat: it ends the one-provider path the same way).
   */
  const attempt = async (candidate: Candidate): Promise<'verified' | 'replace' | 'stop'> => {
    const remaining = Math.floor(req.deadlineMs - c.clock.now());
    if (remaining <= 0 || signal.aborted) return 'stop';
    const timeoutMs = replaceable() ? Math.min(remaining, task.perAttemptMs) : remaining;
    const t0 = watch.now();
    let exec: ExecutionResult;
    try {
      exec = await c.ports.execute(candidate, { taskId: req.taskId, skill: req.skill, inputs: req.inputs, timeoutMs }, signal);
    } catch (err) {
      const code = isSwarmError(err) ? err.code : ErrorCode.ERROR_CODE_INTERNAL;
      const elapsedMs = watch.now() - t0;
      report(candidate, failedAttemptOutcome(err, { elapsedMs, allowedMs: timeoutMs, fairMs: task.perAttemptMs, taskEnded: taskEndOf(signal) }), elapsedMs, code);
      const error = isSwarmError(err) ? err : new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'internal error');
      run.lastError = error;
      run.order.push({ providerId: candidate.nodeId, executorId: '', outcome: code === ErrorCode.ERROR_CODE_VERIFICATION_FAILED ? 'rejected' : 'failed', detail: error.message });
      run.noResult.push({ providerId: candidate.nodeId, code: error.codeName });
      return error.retryable ? 'replace' : 'stop';
    }
    const t1 = watch.now();
    const inTime = c.clock.now() <= req.deadlineMs;
    const verdict = await judgeResult(c, req.skill, candidate, task.inputs, exec);
    const t2 = watch.now();
    run.verifyMs += t2 - t1;
    const result: ReplicaResult = { candidate, exec, verdict, inTime, executeMs: t1 - t0, ms: t2 - t0 };
    run.results.push(result);
    run.order.push(result);
    if (!verdict.ok) {
      report(candidate, failedVerdictOutcome(verdict), t2 - t0, ErrorCode.ERROR_CODE_VERIFICATION_FAILED);
      run.lastError = new SwarmError(ErrorCode.ERROR_CODE_VERIFICATION_FAILED, `result from ${candidate.nodeId} failed ${verdict.method}: ${verdict.detail}`);
    } else if (!inTime) report(candidate, lateOutcome(t1 - t0, task.perAttemptMs), t2 - t0, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
    return verdict.ok && inTime ? 'verified' : 'replace';
  };

  const slot = async (first: Candidate): Promise<void> => {
    for (let candidate: Candidate | undefined = first; candidate;) {
      if ((await attempt(candidate)) !== 'replace') return;
      if (!replaceable() || signal.aborted || c.clock.now() >= req.deadlineMs) return;
      const pool = await providersForReplacement(c.ports, req.skill, signal, found);
      candidate = choose(pool);
    }
  };

  // The first replica goes to a proven node when there is one: identities never verified, however
  // many and whatever they claim, then fill at most K − 1 slots, so a result they agree on must also
  // agree with a proven node's, or face the referee (replica-split.ts).
  const firsts: Candidate[] = [];
  for (let i = 0; i < task.replicas; i++) {
    const chosen = choose(found, i === 0);
    if (chosen) firsts.push(chosen);
  }
  if (firsts.length < task.replicas) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_NO_PROVIDER,
      `only ${firsts.length} of the ${payees.size} providers of ${req.skill} were chosen for this task; redundancy ${task.replicas} needs ${task.replicas}`,
    );
  }
  await Promise.all(firsts.map(slot));
  return run;
}

/**
 * A sharded matmul (issue 14, `shards: S`, docs/sharding.md): a·b split into S row blocks, each
 * block a[r0:r1,:]·b run on a provider and verified as a matmul of its own, the verified blocks
 * reassembled into c. The escrow rules of run-task.ts hold: providers are discovered first and
 * named as the escrow's only payees, the escrow closes exactly once, nothing is paid before
 * verification, and the client pays only for a complete verified result.
 *
 * - No provider at all is refused before anything is reserved (NO_PROVIDER).
 * - The S first dispatches start at once, spread over distinct nodes while there are enough: each
 *   goes to a candidate the selector chooses among the payable nodes running the fewest of this
 *   task's blocks. With fewer nodes than blocks, nodes run several blocks (at most ⌈S/nodes⌉ at once).
 * - A block whose dispatch fails (an error, a result rejected by verification, or late) is
 *   re-dispatched to another node, while the block has attempts left (limits.maxAttempts each) and
 *   the task has time; the node that failed gets no more of this task's blocks. A dispatch that
 *   could still be replaced waits at most one attempt's time for its block's work; the last one
 *   waits until the deadline.
 * - A block that ends without a verified result in time fails the whole task: the blocks still
 *   running are cancelled (their nodes are not blamed), the escrow is refunded, nothing is paid.
 *   An error that says the task itself is wrong (not retryable) ends it at once, as in run-task.ts.
 * - Complete: the pool (the whole product's price) is split by Shapley value in the shard game
 *   (shard-split.ts) and paid in one settle; the rest of the budget is refunded.
 * - The observer hears every dispatch as it ends: 'ok' for a verified block, and the failures.
 */
import type { DenseTensor, Tensor } from '@swarm/contracts';
import { ErrorCode, fromTensor, isSwarmError, SwarmError, TASK_MAX_SHARDS, toTensor } from '@swarm/contracts';
import { setMaxListeners } from 'node:events';
import type { Candidate } from '@swarm/scoring';
import { createDefaultSelector } from '@swarm/scoring';
import type { RowBlock, Verdict } from '@swarm/skills';
import { assembleRows, getSkill, splitMatmul } from '@swarm/skills';
import { attemptLog, failedAttemptOutcome, failedVerdictOutcome, judgeResult, lateOutcome, taskEndOf } from './attempt-checks';
import { payableCandidates, payeesOf, providersForReplacement } from './payees';
import type { RouterComponents, RouterLimits } from './run-task';
import { refundQuietly, reserveAndDispatch, settleUntilExpiry } from './settlement';
import { splitShardPool } from './shard-split';
import type { AttemptRecord, Contribution, ExecutionResult, Payout, ShardRecord, TaskOutcome, TaskRequest } from './task-types';
import { NOT_AGAIN, payeeKeysOf } from './task-types';

/** A sharded task as run-task.ts admitted it. */
export interface ShardedTask {
  readonly req: TaskRequest;
  readonly inputs: DenseTensor[];
  /** Credits for the whole product: the pool a complete result is paid. */
  readonly price: bigint;
  readonly blocks: readonly RowBlock[];
  readonly expiresAtMs: number;
  /** How long a dispatch that could still be replaced may take for `work` (run-task.ts attemptTimeoutMs). */
  readonly attemptMs: (work: number) => number;
  /** When the task began, on the stopwatch. */
  readonly started: number;
}

/** One dispatch of a block that returned outputs. */
interface BlockResult {
  readonly block: number;
  readonly candidate: Candidate;
  readonly exec: ExecutionResult;
  readonly verdict: Verdict;
  readonly inTime: boolean;
  readonly executeMs: number;
}

interface ShardRun {
  /** Results that returned outputs, in arrival order. */
  readonly results: BlockResult[];
  /** Per block: its verified, in-time result. */
  readonly verified: Array<BlockResult | undefined>;
  /** Per block: dispatches made, and what stopped the last failed one. */
  readonly attempts: number[];
  readonly lastError: Array<SwarmError | undefined>;
  /** Every dispatch as it ended. */
  readonly order: AttemptRecord[];
  /** An error that says the task itself is at fault: it ends the task with its own code. */
  fatal: SwarmError | undefined;
  verifyMs: number;
}

export async function runSharded(c: RouterComponents, limits: RouterLimits, task: ShardedTask, signal: AbortSignal, settleSignal: AbortSignal): Promise<TaskOutcome> {
  const { req, blocks } = task;
  const watch = c.stopwatch ?? c.clock;
  const found = await c.ports.findProviders(req.skill, signal);
  const payees = payeesOf(found, c.selector);
  if (payees.length === 0) {
    throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, `the registry knows no provider of ${req.skill}, on this node or its peers; nothing was reserved`, true);
  }
  // A new node whose chain cannot pledge the task to others runs every block on its own executors.
  const local = payeesOf(found.filter((cand) => cand.local));
  const { run, escrowMs, executeMs, placementNote } = await reserveAndDispatch(c, req, { expiresAtMs: task.expiresAtMs, payees, local, started: task.started }, signal, (named) =>
    dispatchShards(c, limits, task, found, new Set(named), signal),
  );
  const verified = run.verified.filter((r): r is BlockResult => r !== undefined);
  if (run.fatal || verified.length < blocks.length) {
    await refundQuietly(c.ports, req.taskId);
    throw run.fatal ?? incompleteError(task, run, c.clock.now() >= req.deadlineMs);
  }

  const m = task.inputs[1].shape[1];
  const product = assembleRows(
    blocks,
    verified.map((r) => fromTensor(r.exec.outputs[0])),
    m,
  );
  const split = splitShardPool(
    blocks,
    run.results.map((r) => ({ block: r.block, providerId: r.candidate.nodeId, counted: run.verified[r.block] === r })),
    task.price,
  );
  const payouts: Payout[] = split.providers.map((payee, i) => ({ payee, amount: split.amounts[i] })).filter((p) => p.amount > 0n);
  const outputs = [toTensor(product.name, product.shape, product.data)];
  const facts = { inputs: req.inputs, outputs, payeeKeys: payeeKeysOf(run.results.map((r) => r.exec)) };
  const settleStart = watch.now();
  const settled = await settleUntilExpiry(c, limits, req, payouts, task.expiresAtMs, settleSignal, facts);
  const paid = settled.settlement === 'paid';
  const contributions: Contribution[] = split.providers.map((providerId, i) => {
    const mine = run.results.filter((r) => r.candidate.nodeId === providerId);
    const counted = mine.filter((r) => run.verified[r.block] === r);
    const failed = mine.find((r) => run.verified[r.block] !== r);
    return {
      providerId,
      executorId: (counted[0] ?? mine[0]).exec.executorId,
      counted: counted.length > 0,
      paid: paid ? split.amounts[i] : 0n,
      share: split.shares[i],
      note: counted.length > 0 ? roundedNote(split.amounts[i], split.shares[i], task.price) : failed ? failureNote(failed) : '',
      executeMs: counted.reduce((ms, r) => ms + r.executeMs, 0),
    };
  });
  const shards: ShardRecord[] = verified.map((r, j) => ({
    index: j,
    rowStart: blocks[j].start,
    rowEnd: blocks[j].end,
    providerId: r.candidate.nodeId,
    executorId: r.exec.executorId,
    attempts: run.attempts[j],
    share: split.blockShares[j],
    executeMs: r.executeMs,
  }));
  // The result's face: the node paid most (the first of equals), for one-provider-shaped readers.
  const top = split.amounts.reduce((best, a, i) => (a > split.amounts[best] ? i : best), 0);
  const face = verified.find((r) => r.candidate.nodeId === split.providers[top]) ?? verified[0];
  const now = watch.now();
  return {
    taskId: req.taskId,
    settlement: settled.settlement,
    settlementNote: settled.note,
    settlementUncertain: settled.uncertain,
    outputs,
    cost: settled.paid,
    refunded: settled.refunded,
    providerId: face.candidate.nodeId,
    executorId: face.exec.executorId,
    backend: face.exec.backend,
    verification: `${face.verdict.method}; ${blocks.length} of ${blocks.length} row blocks verified, on ${new Set(verified.map((r) => r.candidate.nodeId)).size} provider(s)`,
    attempts: run.order,
    timing: { escrowMs, executeMs, verifyMs: run.verifyMs, settleMs: now - settleStart, totalMs: now - task.started },
    contributions,
    shards,
    placementNote,
  };
}

function failureNote(r: BlockResult): string {
  if (!r.verdict.ok) return `row block ${r.block} failed ${r.verdict.method}: ${r.verdict.detail}`;
  return `row block ${r.block} came after the task deadline`;
}

/**
 * Capacity errors keep their code (the caller may retry, with its hint); a block whose last result
 * failed verification is VERIFICATION_FAILED; anything else is an execution failure.
 */
const KEPT_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.ERROR_CODE_OVERLOADED,
  ErrorCode.ERROR_CODE_NO_PROVIDER,
  ErrorCode.ERROR_CODE_UNAVAILABLE,
  ErrorCode.ERROR_CODE_VERIFICATION_FAILED,
]);

/** Why a sharded task ends unpaid: some block has no verified result in time. */
function incompleteError(task: ShardedTask, run: ShardRun, outOfTime: boolean): SwarmError {
  const missing = task.blocks.filter((b) => run.verified[b.index] === undefined);
  const first = missing[0];
  const done = task.blocks.length - missing.length;
  const which = missing.map((b) => `${b.index} (rows ${b.start}-${b.end - 1})`).join(', ');
  const last = run.lastError[first.index];
  const tail = `; a sharded task is paid only for a complete verified result, so nothing was paid.${last ? ` Last error of block ${first.index}: ${last.message}` : ''}`;
  if (outOfTime) {
    return new SwarmError(
      ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      `the task deadline passed with ${done} of ${task.blocks.length} row blocks verified (missing: ${which})${tail}`,
      NOT_AGAIN,
    );
  }
  const what = `row block ${which.split(', ')[0]} has no verified result after ${run.attempts[first.index]} dispatch(es) (${done} of ${task.blocks.length} verified)${tail}`;
  if (last && KEPT_CODES.has(last.code)) return new SwarmError(last.code, what, true, { retryAfterMs: last.retryAfterMs });
  if (!last) return new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, what, true);
  return new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, what);
}

/** Runs every block to its end: a verified result, or no attempts, providers or time left. */
async function dispatchShards(
  c: RouterComponents,
  limits: RouterLimits,
  task: ShardedTask,
  found: readonly Candidate[],
  payees: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<ShardRun> {
  const { req, blocks } = task;
  const watch = c.stopwatch ?? c.clock;
  const skill = getSkill(req.skill);
  const selector = c.selector ?? createDefaultSelector(c.random);
  const about = { taskId: req.taskId, skill: req.skill };
  const { reports, report } = attemptLog(c.observer, about);
  const run: ShardRun = {
    results: [],
    verified: blocks.map(() => undefined),
    attempts: blocks.map(() => 0),
    lastError: blocks.map(() => undefined),
    order: [],
    fatal: undefined,
    verifyMs: 0,
  };
  // One failed block fails the task: the others are cancelled rather than paid for nothing.
  const cancel = new AbortController();
  const taskSignal = AbortSignal.any([signal, cancel.signal]);
  // Each block's call in flight listens on it (up to TASK_MAX_SHARDS at once, each removed after its
  // call): past node's default of 10 it printed a MaxListenersExceededWarning into the JSON log.
  setMaxListeners(4 * TASK_MAX_SHARDS, taskSignal);
  const parts = splitMatmul(task.inputs, blocks);
  const wire: Tensor[][] = parts.map(([a]) => [toTensor(a.name, a.shape, a.data), req.inputs[1]]);
  const perAttemptMs = parts.map((p) => task.attemptMs(skill.work(p)));
  // Per node: blocks of this task running now, and given so far.
  const running = new Map<string, number>();
  const given = new Map<string, number>();
  const failed = new Set<string>();

  // Synchronous from the filter to the count, so the first dispatches spread over distinct nodes.
  // The selector chooses among the nodes running the fewest blocks now, and of those the ones
  // given the fewest so far: a re-dispatch goes to an idle node that has not worked on the task yet.
  const choose = (pool: readonly Candidate[], j: number): Candidate | undefined => {
    const payable = payableCandidates(pool, payees).filter((x) => !failed.has(x.nodeId));
    // Suspects (a result rejected lately) only when no other is left, however few blocks they hold.
    // A node that said "full" lately is not left out: among the least loaded, the selector tries it
    // after the others (and a proven one before an unproven one for a block short of time).
    const trusted = selector.isSuspect ? payable.filter((x) => !selector.isSuspect?.(x)) : payable;
    // A block that failed goes to a proven node when one is left, busy or not: before the least
    // loaded are picked, or idle identities never verified could take each of its attempts in turn.
    const proven = run.attempts[j] > 0 && selector.isProven ? trusted.filter((x) => selector.isProven?.(x)) : [];
    const open = proven.length > 0 ? proven : trusted.length > 0 ? trusted : payable;
    if (open.length === 0) return undefined;
    const load = (x: Candidate) => (running.get(x.nodeId) ?? 0) * (blocks.length + 1) + (given.get(x.nodeId) ?? 0);
    const least = Math.min(...open.map(load));
    // A block whose deadline leaves it less than its fair time goes to a proven node first.
    const shortened = Math.floor(req.deadlineMs - c.clock.now()) < (perAttemptMs[j] ?? 0);
    const chosen = selector.select(
      { ...about, shortened },
      open.filter((x) => load(x) === least),
      reports,
    );
    if (!chosen || failed.has(chosen.nodeId) || !payees.has(chosen.nodeId)) return undefined;
    running.set(chosen.nodeId, (running.get(chosen.nodeId) ?? 0) + 1);
    given.set(chosen.nodeId, (given.get(chosen.nodeId) ?? 0) + 1);
    return chosen;
  };
  const replaceable = (j: number, nodeId: string) => run.attempts[j] < limits.maxAttempts && [...payees].some((p) => p !== nodeId && !failed.has(p));

  /** One dispatch of block j: 'verified', 'replace' (another node may try it) or 'stop'. */
  const attempt = async (j: number, candidate: Candidate): Promise<'verified' | 'replace' | 'stop'> => {
    const remaining = Math.floor(req.deadlineMs - c.clock.now());
    if (remaining <= 0 || taskSignal.aborted) {
      running.set(candidate.nodeId, (running.get(candidate.nodeId) ?? 1) - 1);
      return 'stop';
    }
    run.attempts[j] += 1;
    const timeoutMs = replaceable(j, candidate.nodeId) ? Math.min(remaining, perAttemptMs[j]) : remaining;
    const t0 = watch.now();
    let exec: ExecutionResult;
    try {
      exec = await c.ports.execute(candidate, { taskId: req.taskId, skill: req.skill, inputs: wire[j], timeoutMs }, taskSignal);
    } catch (err) {
      if (cancel.signal.aborted) {
        run.order.push({ providerId: candidate.nodeId, executorId: '', outcome: 'failed', detail: `row block ${j}: cancelled, another block could not be completed` });
        return 'stop';
      }
      const code = isSwarmError(err) ? err.code : ErrorCode.ERROR_CODE_INTERNAL;
      const elapsedMs = watch.now() - t0;
      report(candidate, failedAttemptOutcome(err, { elapsedMs, allowedMs: timeoutMs, fairMs: perAttemptMs[j] ?? 0, taskEnded: taskEndOf(signal) }), elapsedMs, code);
      const error = isSwarmError(err) ? err : new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'internal error');
      failed.add(candidate.nodeId);
      run.lastError[j] = error;
      run.order.push({
        providerId: candidate.nodeId,
        executorId: '',
        outcome: code === ErrorCode.ERROR_CODE_VERIFICATION_FAILED ? 'rejected' : 'failed',
        detail: `row block ${j}: ${error.message}`,
      });
      if (error.retryable) return 'replace';
      run.fatal ??= error;
      return 'stop';
    } finally {
      running.set(candidate.nodeId, (running.get(candidate.nodeId) ?? 1) - 1);
    }
    const t1 = watch.now();
    const inTime = c.clock.now() <= req.deadlineMs;
    const verdict = await judgeResult(c, req.skill, candidate, parts[j], exec);
    const t2 = watch.now();
    run.verifyMs += t2 - t1;
    const result: BlockResult = { block: j, candidate, exec, verdict, inTime, executeMs: t1 - t0 };
    run.results.push(result);
    if (verdict.ok && inTime) {
      report(candidate, 'ok', t2 - t0, undefined);
      run.verified[j] = result;
      run.order.push({ providerId: candidate.nodeId, executorId: exec.executorId, outcome: 'verified', detail: `row block ${j}: ${verdict.detail}` });
      return 'verified';
    }
    failed.add(candidate.nodeId);
    if (!verdict.ok) {
      report(candidate, failedVerdictOutcome(verdict), t2 - t0, ErrorCode.ERROR_CODE_VERIFICATION_FAILED);
      run.lastError[j] = new SwarmError(ErrorCode.ERROR_CODE_VERIFICATION_FAILED, `result from ${candidate.nodeId} failed ${verdict.method}: ${verdict.detail}`);
    } else {
      report(candidate, lateOutcome(t1 - t0, perAttemptMs[j] ?? 0), t2 - t0, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
      run.lastError[j] = new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `result from ${candidate.nodeId} came after the task deadline`);
    }
    run.order.push({
      providerId: candidate.nodeId,
      executorId: exec.executorId,
      outcome: !verdict.ok && verdict.refuted ? 'rejected' : 'failed',
      detail: `row block ${j}: ${failureNote(result)}`,
    });
    return 'replace';
  };

  const slot = async (j: number, first: Candidate | undefined): Promise<void> => {
    for (let candidate = first; candidate;) {
      if ((await attempt(j, candidate)) !== 'replace') break;
      if (run.attempts[j] >= limits.maxAttempts || taskSignal.aborted || c.clock.now() >= req.deadlineMs) break;
      const pool = await providersForReplacement(c.ports, req.skill, taskSignal, found);
      candidate = choose(pool, j);
    }
    if (!run.verified[j]) cancel.abort();
  };

  const firsts = blocks.map((_, j) => choose(found, j));
  await Promise.all(firsts.map((first, j) => slot(j, first)));
  return run;
}

/**
 * Why a counted provider is paid nothing: payouts are whole credits summing exactly to the price
 * (largest remainder), so a share worth less than one credit can round to 0.
 */
function roundedNote(amount: bigint, share: number, price: bigint): string {
  if (amount > 0n || share <= 0) return '';
  return `its ${(share * 100).toFixed(1)}% of the ${price}-credit price is less than one whole credit; payouts are whole credits, the remainder going to the largest fractions`;
}

/**
 * One task through the node: validate -> price -> escrow -> (discover -> dispatch -> verify)* ->
 * settle or refund. The escrow is always closed exactly once: settled when a verified result is
 * paid, refunded on every failure path, and refunded by credit-svc at its expiry (deadline +
 * SETTLE_GRACE_MS) if this process dies in between. Verification happens before any payment.
 */
import { decodeTensors, ErrorCode, fromTensor, isSwarmError, SwarmError, TASK_MAX_ELEMENTS, Tensor } from '@swarm/contracts';
import type { Clock, Random } from '@swarm/determinism';
import { getSkill, priceOf } from '@swarm/skills';
import type { AttemptRecord, Candidate, DecodedInputs, ExecutionResult, TaskOutcome, TaskPorts, TaskRequest } from './task-types';

export interface RouterComponents {
  readonly ports: TaskPorts;
  /** Wall-clock epoch ms: deadlines and escrow expiries, which other processes compare. */
  readonly clock: Clock;
  /** Monotonic, high-resolution ms for the timings a task reports; defaults to `clock`. */
  readonly stopwatch?: Clock;
  readonly random: Random;
}

export interface RouterLimits {
  /** Dispatches per task (first try plus retries on failure or a rejected result). */
  readonly maxAttempts: number;
  /** Largest tensor element count a task may carry. */
  readonly maxElements: number;
  /** Settle is idempotent, so a lost reply is retried this many extra times. */
  readonly settleRetries: number;
}

/**
 * How long a task's escrow outlives its deadline: room for the last result to arrive, be verified
 * and settled (with retries) after the deadline. Past it credit-svc refunds the escrow by itself,
 * so a router that dies mid-task strands the payer's credit only until then.
 */
export const SETTLE_GRACE_MS = 30_000;

export const DEFAULT_ROUTER_LIMITS: RouterLimits = Object.freeze({ maxAttempts: 3, maxElements: TASK_MAX_ELEMENTS, settleRetries: 2 });

/** Checks the request and prices it; throws a SwarmError before anything is reserved. */
export function admitTask(req: TaskRequest, limits: RouterLimits): { inputs: DecodedInputs; price: bigint } {
  const skill = getSkill(req.skill);
  if (req.budget <= 0n) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'budget must be at least 1 credit');
  const inputs: DecodedInputs = decodeTensors(req.inputs);
  skill.validate(inputs, { maxElements: limits.maxElements });
  const price = priceOf(skill, inputs);
  if (price > req.budget) {
    throw new SwarmError(ErrorCode.ERROR_CODE_BUDGET_TOO_LOW, `${req.skill} on these inputs costs ${price} credits; the budget is ${req.budget}`);
  }
  return { inputs, price };
}

export async function runTask(c: RouterComponents, limits: RouterLimits, req: TaskRequest, signal: AbortSignal): Promise<TaskOutcome> {
  const watch = c.stopwatch ?? c.clock;
  const started = watch.now();
  const deadline = c.clock.now() + req.timeoutMs;
  const { inputs, price } = admitTask(req, limits);

  try {
    await c.ports.reserve(req.taskId, req.account, req.budget, deadline + SETTLE_GRACE_MS);
  } catch (err) {
    // A lost reply may hide a committed reserve: release it now rather than at its expiry.
    if (isSwarmError(err) && err.retryable) await refundQuietly(c.ports, req.taskId);
    throw err;
  }
  const escrowMs = watch.now() - started;

  let result: { exec: ExecutionResult; verification: string; executeMs: number; verifyMs: number; attempts: AttemptRecord[] };
  try {
    result = await dispatchUntilVerified(c, limits, req, inputs, deadline, signal);
  } catch (err) {
    await refundQuietly(c.ports, req.taskId);
    // A caller that aborts with a SwarmError (e.g. a stopping router) says why in its own words,
    // whichever step the abort interrupted.
    throw signal.aborted && isSwarmError(signal.reason) ? signal.reason : err;
  }

  const settleStart = watch.now();
  const settled = await settleWithRetry(c.ports, req.taskId, result.exec.providerId, price, limits.settleRetries);
  const now = watch.now();
  return {
    taskId: req.taskId,
    outputs: result.exec.outputs,
    cost: settled.paid,
    refunded: settled.refunded,
    providerId: result.exec.providerId,
    executorId: result.exec.executorId,
    backend: result.exec.backend,
    verification: result.verification,
    attempts: result.attempts,
    timing: { escrowMs, executeMs: result.executeMs, verifyMs: result.verifyMs, settleMs: now - settleStart, totalMs: now - started },
  };
}

async function dispatchUntilVerified(
  c: RouterComponents,
  limits: RouterLimits,
  req: TaskRequest,
  inputs: DecodedInputs,
  deadline: number,
  signal: AbortSignal,
) {
  const skill = getSkill(req.skill);
  const watch = c.stopwatch ?? c.clock;
  const attempts: AttemptRecord[] = [];
  let lastError: SwarmError | undefined;
  let executeMs = 0;
  let verifyMs = 0;
  while (attempts.length < limits.maxAttempts) {
    const remaining = Math.floor(deadline - c.clock.now());
    if (remaining <= 0 || signal.aborted) break;
    const candidate = pickCandidate(await c.ports.findProviders(req.skill, signal), req.skill);
    const t0 = watch.now();
    let exec: ExecutionResult;
    try {
      exec = await c.ports.execute(candidate, { taskId: req.taskId, skill: req.skill, inputs: req.inputs, timeoutMs: remaining }, signal);
    } catch (err) {
      executeMs += watch.now() - t0;
      if (!isSwarmError(err) || !err.retryable) throw err;
      lastError = err;
      attempts.push({ providerId: candidate.nodeId, executorId: '', outcome: 'failed', detail: err.message });
      continue;
    }
    const t1 = watch.now();
    executeMs += t1 - t0;
    // Pay only the provider the router chose: whoever answered must say it is that node.
    const verdict =
      exec.providerId === candidate.nodeId
        ? verifyOutputs(skill, inputs, exec.outputs, c.random)
        : { ok: false, method: skill.verification, detail: `answered by ${exec.providerId}, not the chosen provider ${candidate.nodeId}` };
    verifyMs += watch.now() - t1;
    attempts.push({ providerId: exec.providerId, executorId: exec.executorId, outcome: verdict.ok ? 'verified' : 'rejected', detail: verdict.detail });
    if (verdict.ok) return { exec, verification: verdict.method, executeMs, verifyMs, attempts };
    lastError = new SwarmError(ErrorCode.ERROR_CODE_VERIFICATION_FAILED, `result from ${exec.executorId} failed ${verdict.method}: ${verdict.detail}`, true);
  }
  throw finalError(lastError, attempts.length, deadline - c.clock.now() <= 0 || signal.aborted);
}

function pickCandidate(candidates: Candidate[], skill: string): Candidate {
  // Scoring across peers arrives with the swarm issue; today every candidate is this node's executors.
  const local = candidates.find((p) => p.local) ?? candidates[0];
  if (!local) throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, `no provider offers ${skill} (is executor-svc running?)`, true);
  return local;
}

function verifyOutputs(skill: ReturnType<typeof getSkill>, inputs: DecodedInputs, outputs: Tensor[], random: Random) {
  try {
    return skill.verify(inputs, outputs.map(fromTensor), random);
  } catch (err) {
    // A result we cannot even decode is a failed result, not a router fault.
    return { ok: false, method: skill.verification, detail: (err as Error).message };
  }
}

function finalError(last: SwarmError | undefined, attempts: number, outOfTime: boolean): SwarmError {
  if (outOfTime) {
    return new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `task deadline passed after ${attempts} attempt(s)${last ? `; last: ${last.message}` : ''}`, true);
  }
  if (last?.code === ErrorCode.ERROR_CODE_VERIFICATION_FAILED) {
    return new SwarmError(last.code, `no verified result after ${attempts} attempt(s); nothing was paid. Last: ${last.message}`, true);
  }
  return new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, `execution failed after ${attempts} attempt(s): ${last?.message ?? 'unknown'}`, true);
}

/**
 * Refund on a failure path. If it fails too, the caller still gets the task's own error, and the
 * escrow returns at its expiry (credit-svc's sweeper), so nothing is lost either way.
 */
async function refundQuietly(ports: TaskPorts, escrowId: string): Promise<void> {
  await ports.refund(escrowId).catch(() => undefined);
}

async function settleWithRetry(ports: TaskPorts, escrowId: string, payee: string, amount: bigint, retries: number) {
  for (let i = 0; ; i++) {
    try {
      return await ports.settle(escrowId, payee, amount);
    } catch (err) {
      if (i >= retries || !isSwarmError(err) || !err.retryable) throw err;
    }
  }
}

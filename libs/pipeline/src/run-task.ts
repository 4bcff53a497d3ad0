/**
 * One task through the node: validate -> price -> discover -> escrow -> (choose -> dispatch ->
 * verify -> discover again)* -> settle or refund. The escrow is always closed exactly once:
 * settled when a verified result is paid, refunded on every failure path, and refunded by
 * credit-svc at its expiry (deadline + SETTLE_GRACE_MS) if this process dies in between.
 * Verification happens before any payment. The escrow names the discovered candidates as its
 * only payees, and every attempt goes to one of them (payees.ts). The injected selector chooses
 * each attempt's candidate; the injected observer hears how each attempt ended (a verifier that
 * throws is the router's own fault and reports nothing). A task with `redundancy` K >= 2 is
 * admitted here (the budget must cover K runs) and then run by run-replicated.ts; a matmul with
 * `shards` S >= 2 is admitted here (priced as the whole product) and run by run-sharded.ts.
 *
 * The folded path (RouterLimits.foldMaxWork): a small task this node's own executors offer runs
 * there first, with nothing reserved, and once verified is paid by one charge (reserve, settle and
 * refund in one ledger write); a failed folded attempt counts, and the task goes on along the escrow
 * path. Verification still comes before any payment.
 *
 * The deadline is absolute (`req.deadlineMs`, set by the router when the request arrived), so time
 * a task spent waiting before runTask counts: a task already out of time is never reserved, and a
 * result that arrives after the deadline is refunded, not paid (its client has given up).
 */
import { decodeTensors, ErrorCode, isSwarmError, SwarmError, TASK_MAX_ELEMENTS } from '@swarm/contracts';
import type { Random, Stopwatch, WallClock } from '@swarm/determinism';
import type { AttemptObserver, AttemptReport, Candidate, CandidateSelector, SelectionTask } from '@swarm/scoring';
import { createDefaultSelector } from '@swarm/scoring';
import { getSkill, priceOf, rowBlocks } from '@swarm/skills';
import type { AttemptLog } from './attempt-checks';
import { attemptLog, failedAttemptOutcome, failedVerdictOutcome, judgeResult, lateOutcome, taskEndOf } from './attempt-checks';
import { NOT_AGAIN } from './task-types';
import type { ChargeGate } from './charge-gate';
import { payableCandidates, payeesOf } from './payees';
import { replicasOf, runReplicated } from './run-replicated';
import { runSharded } from './run-sharded';
import { shardsOf } from './shard-split';
import type { Settled } from './settlement';
import { chargeUntil, placementNoteOf, refundQuietly, reserveNamingPayees, settleUntilExpiry } from './settlement';
import type { AttemptRecord, DecodedInputs, ExecutionResult, ResultVerifier, Sleep, TaskOutcome, TaskPorts, TaskRequest } from './task-types';
import { ChargeNotServed, payeeKeysOf } from './task-types';

export interface RouterComponents {
  readonly ports: TaskPorts;
  /** Wall-clock epoch ms: deadlines and escrow expiries, which other processes compare. */
  readonly clock: WallClock;
  /** Monotonic, high-resolution ms for the timings a task reports; defaults to `clock`. */
  readonly stopwatch?: Stopwatch;
  readonly random: Random;
  /** Where results are verified; default: here, with `random`. */
  readonly verifier?: ResultVerifier;
  /**
   * Waits between settle retries: a Scheduler's `sleep` (@swarm/determinism), real in a service,
   * virtual in tests and the simulator. This library sets no timers of its own.
   */
  readonly sleep: Sleep;
  /** Who gets each attempt; default: `createDefaultSelector(random)` (see @swarm/scoring). */
  readonly selector?: CandidateSelector;
  /** Told how every dispatch attempt ended (trust and pheromone learning); default: nobody. */
  readonly observer?: AttemptObserver;
  /** Each account's window of folded runs at once (charge-gate.ts); default: no limit. */
  readonly chargeGate?: ChargeGate;
}

export interface RouterLimits {
  /** Dispatches per task (first try plus retries on failure or a rejected result). */
  readonly maxAttempts: number;
  /** Largest tensor element count a task may carry. */
  readonly maxElements: number;
  /**
   * First wait between settle retries; each further wait doubles up to `settleBackoffMaxMs`.
   * Settle is idempotent, so a retry after a lost reply never pays twice.
   */
  readonly settleBackoffMs: number;
  readonly settleBackoffMaxMs: number;
  /**
   * Settle retries stop this long before the escrow's expiry and the escrow is refunded: the
   * router's own refund then lands before credit-svc's expiry sweep, and the reply can say which.
   */
  readonly settleMarginMs: number;
  /**
   * Each dispatch attempt but the last waits at most `attemptMinMs + work / attemptWorkPerMs`
   * (work in the skill's units, floating-point operations): a dead executor then costs about one
   * such attempt, not the whole deadline. The last attempt gets all the time left.
   */
  readonly attemptMinMs: number;
  readonly attemptWorkPerMs: number;
  /**
   * A one-provider task of at most this much work (the skill's units) that this node's own
   * executors offer, with spare capacity, runs there before anything is reserved, and once verified
   * is paid by one charge (reserve and settle at once): one ledger write and one bus round trip
   * fewer. 0: never. A folded run that ends unpaid (no credit, say) is a run nobody pays for:
   * `RouterComponents.chargeGate` bounds how many an account gets.
   */
  readonly foldMaxWork: number;
}

/**
 * How long a task's escrow outlives its deadline: room for the last result to arrive, be verified
 * and settled (with retries) after the deadline. Past it credit-svc refunds the escrow by itself,
 * so a router that dies mid-task strands the payer's credit only until then.
 */
export const SETTLE_GRACE_MS = 30_000;

/**
 * Room an attempt gets beyond its compute: the bus round trip, the executor's queue (the router
 * admits at most a node's worth of tasks, so the queue ahead is short) and a cold kernel.
 */
export const ATTEMPT_MIN_MS = 5_000;
/**
 * Work per ms an executor is assumed to sustain at least: 20 MFLOP/s, 25-50x below what the wasm
 * and gpu.js CPU kernels measure on one loaded core, so an alive but slow executor is not given up on.
 */
export const ATTEMPT_WORK_PER_MS = 20_000;
export const SETTLE_BACKOFF_MS = 100;
export const SETTLE_BACKOFF_MAX_MS = 2_000;
/** Two credit round trips (CREDIT_TIMEOUT_MS in router-svc) fit before the expiry. */
export const SETTLE_MARGIN_MS = 10_000;
/**
 * 2^20 units: a 64x64 by 64x128 matmul (about 2 ms of one core with the wasm kernels) or a vecadd of
 * a million elements (about 10 ms, bandwidth-bound): what one unpaid folded run can waste
 * (charge-gate.ts bounds how many).
 */
export const FOLD_MAX_WORK = 1 << 20;

export const DEFAULT_ROUTER_LIMITS: RouterLimits = Object.freeze({
  maxAttempts: 3,
  maxElements: TASK_MAX_ELEMENTS,
  settleBackoffMs: SETTLE_BACKOFF_MS,
  settleBackoffMaxMs: SETTLE_BACKOFF_MAX_MS,
  settleMarginMs: SETTLE_MARGIN_MS,
  attemptMinMs: ATTEMPT_MIN_MS,
  attemptWorkPerMs: ATTEMPT_WORK_PER_MS,
  foldMaxWork: FOLD_MAX_WORK,
});

/** How long one dispatch attempt (not the last) may take for `work` units of the skill's work. */
export function attemptTimeoutMs(work: number, limits: Pick<RouterLimits, 'attemptMinMs' | 'attemptWorkPerMs'>): number {
  return limits.attemptMinMs + Math.ceil(work / limits.attemptWorkPerMs);
}

/** Longer than any installed skill's name; a longer one is refused without being quoted whole. */
export const MAX_SKILL_NAME_CHARS = 64;

/**
 * Errors that say no attempt could run for lack of capacity or of a provider: after the last
 * attempt the caller gets the same code (retryable, with its hint), not EXECUTION_FAILED.
 */
const CAPACITY_CODES: ReadonlySet<ErrorCode> = new Set([ErrorCode.ERROR_CODE_OVERLOADED, ErrorCode.ERROR_CODE_NO_PROVIDER, ErrorCode.ERROR_CODE_UNAVAILABLE]);

/**
 * Checks the request and prices it (`price`: one run); throws a SwarmError before anything is
 * reserved. The budget must cover `replicas` runs.
 */
export function admitTask(req: TaskRequest, limits: RouterLimits, replicas = 1): { inputs: DecodedInputs; price: bigint } {
  if (req.skill.length > MAX_SKILL_NAME_CHARS) {
    throw new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_SKILL, `unknown skill: a name of ${req.skill.length} characters (skill names have at most ${MAX_SKILL_NAME_CHARS})`);
  }
  const skill = getSkill(req.skill);
  if (req.budget <= 0n) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'budget must be at least 1 credit');
  const inputs: DecodedInputs = decodeTensors(req.inputs);
  skill.validate(inputs, { maxElements: limits.maxElements });
  const price = priceOf(skill, inputs);
  const total = price * BigInt(replicas);
  if (total > req.budget) {
    const cost = replicas > 1 ? `${price} credits per replica, ${total} for ${replicas} replicas` : `${price} credits`;
    throw new SwarmError(ErrorCode.ERROR_CODE_BUDGET_TOO_LOW, `${req.skill} on these inputs costs ${cost}; the budget is ${req.budget}`);
  }
  return { inputs, price };
}

/**
 * `signal` ends dispatch (the deadline, or the router stopping). `settleSignal` (default `signal`)
 * ends only the settle retries: a verified result keeps being settled past the deadline, until
 * shortly before the escrow's expiry, unless the router stops.
 */
export async function runTask(c: RouterComponents, limits: RouterLimits, req: TaskRequest, signal: AbortSignal, settleSignal: AbortSignal = signal): Promise<TaskOutcome> {
  const watch = c.stopwatch ?? c.clock;
  const started = watch.now();
  const deadline = req.deadlineMs;
  const replicas = replicasOf(req);
  const shards = shardsOf(req);
  const { inputs, price } = admitTask(req, limits, replicas);
  // Refused before anything is reserved: more shards than rows of a (INVALID_ARGUMENT).
  const blocks = shards > 1 ? rowBlocks(inputs[0].shape[0], shards) : [];

  const late = c.clock.now() - deadline;
  if (late >= 0) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      `task deadline passed ${Math.round(late)} ms before it could start; give it a longer timeout; nothing was reserved`,
      NOT_AGAIN,
    );
  }
  const expiresAtMs = deadline + SETTLE_GRACE_MS;
  if (shards > 1) {
    const attemptMs = (work: number) => attemptTimeoutMs(work, limits);
    return runSharded(c, limits, { req, inputs, price, blocks, expiresAtMs, attemptMs, started }, signal, settleSignal);
  }
  if (replicas > 1) {
    const perAttemptMs = attemptTimeoutMs(getSkill(req.skill).work(inputs), limits);
    return runReplicated(c, limits, { req, inputs, price, replicas, expiresAtMs, perAttemptMs, started }, signal, settleSignal);
  }
  // The escrow can pay only whom it names, so the candidates come first. A lookup that fails (other
  // than with NO_PROVIDER) is answered by the first attempt, after the reserve, as before payees existed:
  // every dispatch failure then takes one path (refund included) and keeps its code.
  const found = await discover(c.ports, req.skill, signal);
  // Nobody the escrow could name: refused before anything is reserved (the idempotency key may be
  // sent again), as a redundant or sharded task is. A lookup that failed otherwise goes on as before.
  if ('candidates' in found && found.candidates.length === 0) {
    throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, `the registry knows no provider of ${req.skill}, on this node or its peers; nothing was reserved`, true);
  }
  if ('error' in found && isSwarmError(found.error, ErrorCode.ERROR_CODE_NO_PROVIDER)) throw found.error;
  const dispatch = newDispatch(c.observer, req);
  if (foldable(limits, req, inputs, found) && (c.chargeGate?.begin(req.account) ?? true)) {
    const charge = { outcome: 'unpaid' as ChargeOutcome };
    try {
      const folded = await runFolded(c, limits, { req, inputs, price, expiresAtMs, started }, found, dispatch, signal, settleSignal, charge);
      if (folded) return folded;
    } finally {
      c.chargeGate?.end(req.account, charge.outcome);
    }
  }
  const { discovery, payees, placementNote } = await reserveNaming(c, req, expiresAtMs, found);
  const escrowMs = watch.now() - started;

  let result: Verified;
  try {
    result = await dispatchUntilVerified(c, limits, req, inputs, signal, { discovery, payees: new Set(payees) }, dispatch, limits.maxAttempts);
  } catch (err) {
    await refundQuietly(c.ports, req.taskId);
    // A caller that aborts with a SwarmError (e.g. a stopping router) says why in its own words,
    // whichever step the abort interrupted.
    throw signal.aborted && isSwarmError(signal.reason) ? signal.reason : err;
  }

  const settleStart = watch.now();
  const settled = await settleReserved(c, limits, req, result, price, expiresAtMs, settleSignal);
  return { ...verifiedOutcome(req, result, dispatch, settled, { started, escrowMs, settleStart, now: watch.now() }), placementNote };
}

/**
 * Pays a verified result its price out of the task's reserved escrow. The client waits until about
 * the deadline; paying for a result it will never receive would charge it for nothing (the executor
 * was told the same limit, so a late result broke it): past the deadline the escrow is refunded.
 */
async function settleReserved(
  c: RouterComponents,
  limits: RouterLimits,
  req: TaskRequest,
  result: Verified,
  price: bigint,
  expiresAtMs: number,
  settleSignal: AbortSignal,
): Promise<Settled> {
  const overrun = c.clock.now() - req.deadlineMs;
  if (overrun > 0) {
    await refundQuietly(c.ports, req.taskId);
    throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `the verified result came ${Math.round(overrun)} ms after the task deadline; nothing was paid`, NOT_AGAIN);
  }
  const facts = { inputs: req.inputs, outputs: result.exec.outputs, payeeKeys: payeeKeysOf([result.exec]) };
  return settleUntilExpiry(c, limits, req, [{ payee: result.exec.providerId, amount: price }], expiresAtMs, settleSignal, facts);
}

/** A verified result, paid or not, as the task's outcome. */
function verifiedOutcome(
  req: TaskRequest,
  result: Verified,
  dispatch: Dispatch,
  settled: Settled,
  t: { started: number; escrowMs: number; settleStart: number; now: number },
): TaskOutcome {
  return {
    taskId: req.taskId,
    settlement: settled.settlement,
    settlementNote: settled.note,
    settlementUncertain: settled.uncertain,
    outputs: result.exec.outputs,
    cost: settled.paid,
    refunded: settled.refunded,
    providerId: result.exec.providerId,
    executorId: result.exec.executorId,
    backend: result.exec.backend,
    verification: result.verification,
    attempts: dispatch.attempts,
    timing: { escrowMs: t.escrowMs, executeMs: dispatch.executeMs, verifyMs: dispatch.verifyMs, settleMs: t.now - t.settleStart, totalMs: t.now - t.started },
    contributions: [],
    shards: [],
    placementNote: '',
  };
}

/** Whether the task may run before its escrow (RouterLimits.foldMaxWork): small, and a local executor with room. */
function foldable(limits: RouterLimits, req: TaskRequest, inputs: DecodedInputs, found: Discovery): found is { readonly candidates: readonly Candidate[] } {
  if (limits.foldMaxWork <= 0 || !('candidates' in found)) return false;
  if (!found.candidates.some((cand) => cand.local && (cand.load ?? 0) < 1)) return false;
  return getSkill(req.skill).work(inputs) <= limits.foldMaxWork;
}

/** How a folded run ended, for the charge gate: paid, ran (or may have) unpaid, or never dispatched. */
type ChargeOutcome = 'paid' | 'unpaid' | 'not-run';

/**
 * The folded path: one attempt on this node's own executors with nothing reserved, then one charge
 * for the verified result. No outcome when that attempt could not run or failed in a way another
 * provider may not, with time left: the task goes on along the escrow path, the attempt counted.
 * A refused charge fails the task with nothing paid; so does a charge the ledger, asked last, says
 * never committed (the result is not handed out unpaid). A credit-svc older than the charge
 * (ChargeNotServed) gets a reserve and a settle for the verified result instead. How the run
 * ended goes to `charge`: any end but a paid charge after an attempt was dispatched counts as
 * unpaid (charge-gate.ts).
 */
async function runFolded(
  c: RouterComponents,
  limits: RouterLimits,
  task: { req: TaskRequest; inputs: DecodedInputs; price: bigint; expiresAtMs: number; started: number },
  found: { readonly candidates: readonly Candidate[] },
  dispatch: Dispatch,
  signal: AbortSignal,
  settleSignal: AbortSignal,
  charge: { outcome: ChargeOutcome },
): Promise<TaskOutcome | undefined> {
  const { req, price } = task;
  const watch = c.stopwatch ?? c.clock;
  const local = found.candidates.filter((cand) => cand.local);
  let result: Verified;
  try {
    result = await dispatchUntilVerified(c, limits, req, task.inputs, signal, { discovery: { candidates: local }, payees: new Set(payeesOf(local)) }, dispatch, 1);
  } catch (err) {
    // No attempt (the selector chose none of them), or a failed one that another may not repeat.
    if (dispatch.attempts.length === 0) charge.outcome = 'not-run';
    const goesOn = dispatch.attempts.length === 0 ? isSwarmError(err, ErrorCode.ERROR_CODE_NO_PROVIDER) : dispatch.lastError !== undefined;
    if (goesOn && dispatch.attempts.length < limits.maxAttempts && !signal.aborted && c.clock.now() < req.deadlineMs) return undefined;
    throw signal.aborted && isSwarmError(signal.reason) ? signal.reason : err;
  }
  const overrun = c.clock.now() - req.deadlineMs;
  if (overrun > 0)
    throw new SwarmError(
      ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      `the verified result came ${Math.round(overrun)} ms after the task deadline; nothing was reserved or paid`,
      NOT_AGAIN,
    );
  const settleStart = watch.now();
  // As a settle: past the deadline only for a client that can ask later.
  const notAfterMs = req.paysPastDeadline ? task.expiresAtMs - limits.settleMarginMs : req.deadlineMs;
  const payouts = [{ payee: result.exec.providerId, amount: price }];
  let settled: Settled;
  try {
    settled = await chargeUntil(c, limits, req, payouts, notAfterMs, settleSignal);
    if (settled.settlement === 'paid') charge.outcome = 'paid';
  } catch (err) {
    if (!(err instanceof ChargeNotServed)) throw err;
    // credit-svc predates the charge: the verified result is paid the escrow path's way, a reserve
    // then a settle, and the charge gate keeps this account on that path for a while ('unpaid').
    await reserveNamingPayees(c, req, task.expiresAtMs, [result.exec.providerId]);
    settled = await settleReserved(c, limits, req, result, price, task.expiresAtMs, settleSignal);
  }
  return verifiedOutcome(req, result, dispatch, settled, { started: task.started, escrowMs: 0, settleStart, now: watch.now() });
}

/** A provider lookup's outcome, kept for the first attempt. */
type Discovery = { readonly candidates: readonly Candidate[] } | { readonly error: unknown };

/**
 * Reserves the budget naming every candidate as a possible payee, or this node's own executors
 * alone when the chain cannot pledge it to others (reserveNamingPayees); then the task runs only
 * among those, with no failover to other nodes.
 */
async function reserveNaming(
  c: RouterComponents,
  req: TaskRequest,
  expiresAtMs: number,
  found: Discovery,
): Promise<{ discovery: Discovery; payees: string[]; placementNote: string }> {
  const candidates = 'candidates' in found ? found.candidates : [];
  const payees = payeesOf(candidates, c.selector);
  const named = await reserveNamingPayees(c, req, expiresAtMs, payees, payeesOf(candidates.filter((cand) => cand.local)));
  if (named === payees) return { discovery: found, payees, placementNote: '' };
  return { discovery: { candidates: candidates.filter((cand) => named.includes(cand.nodeId)) }, payees: [...named], placementNote: placementNoteOf(named, payees) };
}

async function discover(ports: TaskPorts, skill: string, signal: AbortSignal): Promise<Discovery> {
  try {
    return { candidates: await ports.findProviders(skill, signal) };
  } catch (error) {
    return { error };
  }
}

/** A task's attempts so far, kept across the folded attempt and the escrow path's. */
interface Dispatch {
  readonly attempts: AttemptRecord[];
  readonly log: AttemptLog;
  lastError: SwarmError | undefined;
  executeMs: number;
  verifyMs: number;
}

interface Verified {
  readonly exec: ExecutionResult;
  readonly verification: string;
}

function newDispatch(observer: AttemptObserver | undefined, req: TaskRequest): Dispatch {
  return { attempts: [], log: attemptLog(observer, { taskId: req.taskId, skill: req.skill }), lastError: undefined, executeMs: 0, verifyMs: 0 };
}

/** Dispatches until a result is verified or `dispatch` holds `upTo` attempts (of the task's limits.maxAttempts). */
async function dispatchUntilVerified(
  c: RouterComponents,
  limits: RouterLimits,
  req: TaskRequest,
  inputs: DecodedInputs,
  signal: AbortSignal,
  escrow: { discovery: Discovery; payees: ReadonlySet<string> },
  dispatch: Dispatch,
  upTo: number,
): Promise<Verified> {
  const skill = getSkill(req.skill);
  const watch = c.stopwatch ?? c.clock;
  const deadline = req.deadlineMs;
  const selector = c.selector ?? createDefaultSelector(c.random);
  const task = { taskId: req.taskId, skill: req.skill };
  const { attempts } = dispatch;
  const { reports, report } = dispatch.log;
  const perAttemptMs = attemptTimeoutMs(skill.work(inputs), limits);
  // The first attempt uses the lookup the payees came from; later ones ask again (who is alive changes).
  let discovery: Discovery | undefined = escrow.discovery;
  while (attempts.length < upTo) {
    let remaining = Math.floor(deadline - c.clock.now());
    if (remaining <= 0 || signal.aborted) break;
    const found = discovery ?? { candidates: await c.ports.findProviders(req.skill, signal) };
    discovery = undefined;
    if ('error' in found) throw found.error;
    // The lookup took time: what the attempt is given, and whether that is short of its fair time, from now.
    remaining = Math.floor(deadline - c.clock.now());
    if (remaining <= 0 || signal.aborted) break;
    const candidate = chooseCandidate(selector, { ...task, shortened: remaining < perAttemptMs }, found.candidates, escrow.payees, reports);
    const t0 = watch.now();
    // The executor is told the same limit, so it abandons the attempt when the router does.
    const isLast = attempts.length + 1 >= limits.maxAttempts;
    const timeoutMs = isLast ? remaining : Math.min(remaining, perAttemptMs);
    let exec: ExecutionResult;
    try {
      exec = await c.ports.execute(candidate, { taskId: req.taskId, skill: req.skill, inputs: req.inputs, timeoutMs }, signal);
    } catch (err) {
      const failedAfter = watch.now() - t0;
      dispatch.executeMs += failedAfter;
      report(
        candidate,
        failedAttemptOutcome(err, { elapsedMs: failedAfter, allowedMs: timeoutMs, fairMs: perAttemptMs, taskEnded: taskEndOf(signal) }),
        failedAfter,
        isSwarmError(err) ? err.code : ErrorCode.ERROR_CODE_INTERNAL,
      );
      if (!isSwarmError(err) || !err.retryable) throw err;
      dispatch.lastError = err;
      // A result refused before it reached the pipeline (a remote provider's bad signature) is a rejected one.
      const outcome = err.code === ErrorCode.ERROR_CODE_VERIFICATION_FAILED ? 'rejected' : 'failed';
      attempts.push({ providerId: candidate.nodeId, executorId: '', outcome, detail: err.message });
      continue;
    }
    const t1 = watch.now();
    dispatch.executeMs += t1 - t0;
    // A result after the deadline is refunded, not paid (runTask): for its provider, a timeout.
    const inTime = c.clock.now() <= deadline;
    // Pay only the provider the router chose: whoever answered must say it is that node.
    const verdict = await judgeResult(c, req.skill, candidate, inputs, exec);
    const t2 = watch.now();
    dispatch.verifyMs += t2 - t1;
    if (!verdict.ok) report(candidate, failedVerdictOutcome(verdict), t2 - t0, ErrorCode.ERROR_CODE_VERIFICATION_FAILED);
    else if (!inTime) report(candidate, lateOutcome(t1 - t0, perAttemptMs), t2 - t0, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
    else report(candidate, 'ok', t2 - t0, undefined);
    attempts.push({ providerId: exec.providerId, executorId: exec.executorId, outcome: verdict.ok ? 'verified' : verdict.refuted ? 'rejected' : 'failed', detail: verdict.detail });
    if (verdict.ok) return { exec, verification: verdict.method };
    // Not retryable once every result so far failed unproven: the inputs are then the likely cause.
    // One proven wrong (a cheat another provider may not repeat) keeps the task retryable.
    const provenBefore = dispatch.lastError?.code === ErrorCode.ERROR_CODE_VERIFICATION_FAILED && dispatch.lastError.retryable;
    dispatch.lastError = new SwarmError(
      ErrorCode.ERROR_CODE_VERIFICATION_FAILED,
      `result from ${exec.executorId} failed ${verdict.method}: ${verdict.detail}`,
      verdict.refuted || provenBefore,
    );
  }
  throw finalError(dispatch.lastError, attempts.length, deadline - c.clock.now() <= 0 || signal.aborted);
}

function chooseCandidate(
  selector: CandidateSelector,
  task: SelectionTask,
  found: readonly Candidate[],
  payees: ReadonlySet<string>,
  attempts: readonly AttemptReport[],
): Candidate {
  if (found.length === 0) throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, `the registry knows no provider of ${task.skill}, on this node or its peers`);
  const candidates = payableCandidates(found, payees);
  if (candidates.length === 0) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_NO_PROVIDER,
      `none of the ${found.length} provider(s) of ${task.skill} known now is among the ${payees.size} this task's escrow can pay`,
    );
  }
  const chosen = selector.select(task, candidates, attempts);
  if (!chosen) throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, `none of the ${candidates.length} provider(s) of ${task.skill} was chosen for this task`);
  return chosen;
}

function finalError(last: SwarmError | undefined, attempts: number, outOfTime: boolean): SwarmError {
  if (outOfTime) {
    return new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `task deadline passed after ${attempts} attempt(s)${last ? `; last: ${last.message}` : ''}`, NOT_AGAIN);
  }
  if (last?.code === ErrorCode.ERROR_CODE_VERIFICATION_FAILED) {
    return new SwarmError(last.code, `no verified result after ${attempts} attempt(s); nothing was paid. Last: ${last.message}`, last.retryable);
  }
  if (last && CAPACITY_CODES.has(last.code)) {
    return new SwarmError(last.code, `no executor took the task in ${attempts} attempt(s); nothing was paid. Last: ${last.message}`, true, {
      retryAfterMs: last.retryAfterMs,
    });
  }
  return new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, `execution failed after ${attempts} attempt(s): ${last?.message ?? 'unknown'}`);
}

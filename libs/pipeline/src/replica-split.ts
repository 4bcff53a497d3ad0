/**
 * What a redundant task's replicas earned (docs/redundancy.md). The verified results that arrived in
 * time are grouped into agreement classes: each result joins the first class whose first member
 * (its representative) it agrees with by the skill's `agree`, else starts a class. Honest results
 * are each within one honest error of the exact answer and `agree` allows two, so all honest
 * results land in one class whichever of them represents it. Verification's τ is coarser than
 * agreement on some data, so two verified results may still disagree: such a dispute goes to the
 * skill's referee (agreement.ts), which recomputes exactly the rows where two classes' representatives
 * differ and refutes every result that is not within one honest computation there (an honest one
 * always is); the classes are then formed again without them, and refereed again, the largest
 * class against each other, until a round refutes nobody (each round that goes on refutes one
 * result at least, so there are fewer rounds than results). The largest class wins; a tie is no
 * agreement (not the class whose result came first: colluders copying one result answer first at no
 * cost). With at least two members its representative is the result returned, every result that
 * agrees with it counts, and the task's pool is price × how many count.
 *
 * The pool is split by Shapley value in the replica game of @swarm/attribution: a player for every
 * replica that returned outputs, the winning class as the only agreement class, worth the task once
 * two of its members are present (a lone result of a redundant task is worth nothing: taskValue 1,
 * loneValue 0). A replica outside that class (rejected by verification, late, or verified but not
 * agreeing with the result returned) is a null player and gets 0; by symmetry the k agreeing
 * replicas get 1/k each, so each is paid the price.
 */
import type { DenseTensor } from '@swarm/contracts';
import { ErrorCode, fromTensor, SwarmError } from '@swarm/contracts';
import { exactShapley, replicaGame, shapleyPayouts } from '@swarm/attribution';
import type { Candidate } from '@swarm/scoring';
import type { SkillSpec, Verdict } from '@swarm/skills';
import type { ExecutionResult } from './task-types';
import { NOT_AGAIN } from './task-types';

/** One dispatched replica that returned outputs. */
export interface ReplicaResult {
  readonly candidate: Candidate;
  readonly exec: ExecutionResult;
  readonly verdict: Verdict;
  /** Its result arrived by the task's deadline. */
  readonly inTime: boolean;
  /** Dispatch to result, on the stopwatch. */
  readonly executeMs: number;
  /** Dispatch to verdict, on the stopwatch (what the observer is told). */
  readonly ms: number;
}

/**
 * Pairs of classes one task's disputes referee at most, all rounds together (each a pass over the
 * outputs and REFEREE_ROWS exact rows): far above the (K + replacements)² / 2 that K ≤ 5 replicas
 * and 2 replacements can need, a bound on CPU only.
 */
export const MAX_REFEREE_PAIRS = 64;

export interface ReplicaVerdicts {
  /** The results that count, in arrival order; fewer than 2 means no agreement. */
  readonly winners: readonly ReplicaResult[];
  /** The result returned (the winning class's representative); undefined without agreement. */
  readonly returned: ReplicaResult | undefined;
  /** Per result (same order as given): why it is not counted, or '' when it is. */
  readonly notes: readonly string[];
  /** Verified results that arrived in time. */
  readonly verified: number;
  /** Per result (same order as given): the referee found it wrong (it loses trust, agreement or not). */
  readonly refuted: readonly boolean[];
}

interface AgreementClass {
  readonly representative: ReplicaResult;
  readonly outputs: DenseTensor[];
  size: number;
}

/** Each result joins the first class whose representative it agrees with, else starts one (arrival order). */
function formClasses(
  skill: SkillSpec,
  inputs: readonly DenseTensor[],
  decoded: ReadonlyMap<ReplicaResult, DenseTensor[]>,
  refuted: ReadonlyMap<ReplicaResult, string>,
): AgreementClass[] {
  const classes: AgreementClass[] = [];
  for (const [r, outputs] of decoded) {
    if (refuted.has(r)) continue;
    const home = classes.find((c) => skill.agree(inputs, c.outputs, outputs).ok);
    if (home) home.size += 1;
    else classes.push({ representative: r, outputs, size: 1 });
  }
  return classes;
}

/**
 * Referees the disputes of `classes` round by round (see the top of this file): each round the
 * largest class (the first of equals) against each other one, every result not refuted yet judged
 * on the rows where those two disagree. Answers the classes left.
 */
function settleDisputes(
  skill: SkillSpec,
  inputs: readonly DenseTensor[],
  decoded: ReadonlyMap<ReplicaResult, DenseTensor[]>,
  first: AgreementClass[],
  refuted: Map<ReplicaResult, string>,
): AgreementClass[] {
  let classes = first;
  let pairs = 0;
  while (classes.length > 1 && pairs < MAX_REFEREE_PAIRS) {
    const standing = [...decoded.keys()].filter((r) => !refuted.has(r));
    const outputs = standing.map((r) => decoded.get(r) as DenseTensor[]);
    const largest = classes.reduce((top, c) => (c.size > top.size ? c : top));
    const before = refuted.size;
    for (const other of classes) {
      if (other === largest || pairs >= MAX_REFEREE_PAIRS) continue;
      pairs += 1;
      skill.referee(inputs, largest.outputs, other.outputs, outputs).forEach((detail, at) => {
        if (detail !== '' && !refuted.has(standing[at])) refuted.set(standing[at], detail);
      });
    }
    if (refuted.size === before) break;
    classes = formClasses(skill, inputs, decoded, refuted);
  }
  return classes;
}

/** Groups `results` (arrival order) into agreement classes and picks the winning one. */
export function judgeReplicas(skill: SkillSpec, inputs: readonly DenseTensor[], results: readonly ReplicaResult[]): ReplicaVerdicts {
  const decoded = new Map<ReplicaResult, DenseTensor[]>();
  const unreadable = new Map<ReplicaResult, string>();
  for (const r of results) {
    if (!r.verdict.ok || !r.inTime) continue;
    try {
      decoded.set(r, r.exec.outputs.map(fromTensor));
    } catch (err) {
      // Verification decoded them already; kept so that a bad tensor can never throw from here.
      unreadable.set(r, `its outputs could not be read: ${(err as Error).message}`);
    }
  }
  const refuted = new Map<ReplicaResult, string>();
  const classes = settleDisputes(skill, inputs, decoded, formClasses(skill, inputs, decoded, refuted), refuted);
  const top = Math.max(0, ...classes.map((c) => c.size));
  const largest = classes.filter((c) => c.size === top);
  const best = largest.length === 1 ? largest[0] : undefined;
  // Everyone that agrees with the winning representative counts, also a result that joined an
  // earlier class first (`agree` is not transitive: it may agree with two representatives).
  const details = new Map<ReplicaResult, string>();
  for (const [r, outputs] of decoded) {
    if (best === undefined || best.size < 2) break;
    if (refuted.has(r)) continue;
    const verdict = r === best.representative ? { ok: true, detail: '' } : skill.agree(inputs, best.outputs, outputs);
    details.set(r, verdict.ok ? '' : verdict.detail);
  }
  const winners = results.filter((r) => details.get(r) === '');
  const returned = winners.length >= 2 ? best?.representative : undefined;
  const notes = results.map((r) => {
    if (!r.verdict.ok) return `failed ${r.verdict.method}: ${r.verdict.detail}`;
    if (!r.inTime) return 'its result came after the task deadline';
    const wrong = refuted.get(r);
    if (wrong !== undefined) return `refuted by recomputing the disputed rows exactly: ${wrong}`;
    const detail = details.get(r);
    if (detail === '') return '';
    if (detail !== undefined && returned) return `disagreed with the result returned (from ${returned.candidate.nodeId}): ${detail}`;
    return unreadable.get(r) ?? 'no two verified results agreed';
  });
  return { winners, returned, notes, verified: decoded.size + unreadable.size, refuted: results.map((r) => refuted.has(r)) };
}

/**
 * Each result's payout and Shapley share (same order as `results`); the payouts sum exactly to
 * `price` × the number of winners, and only winners get more than 0.
 */
export function splitPool(results: readonly ReplicaResult[], winners: readonly ReplicaResult[], price: bigint): { amounts: bigint[]; shares: number[] } {
  const agreement = results.map((r) => (winners.includes(r) ? 0 : null));
  const game = replicaGame({ agreement, taskValue: 1, loneValue: 0 });
  // taskValue 1: by efficiency the values sum to 1, so each is the player's share of the pool.
  const shares = exactShapley(game.players, game.valueOfMask);
  const amounts = shapleyPayouts(shares, price * BigInt(winners.length));
  return { amounts, shares: shares.map((s) => Math.max(0, s)) };
}

/**
 * Capacity and time errors keep their code (the caller may retry, with its hint); anything else
 * that kept a replica from returning a result is an execution failure.
 */
const KEPT_CODES: ReadonlySet<ErrorCode> = new Set([ErrorCode.ERROR_CODE_OVERLOADED, ErrorCode.ERROR_CODE_NO_PROVIDER, ErrorCode.ERROR_CODE_UNAVAILABLE]);

/** Why a redundant task ends unpaid: fewer than two verified results agreed. */
export function noAgreementError(
  replicas: number,
  verdicts: ReplicaVerdicts,
  results: readonly ReplicaResult[],
  lastError: SwarmError | undefined,
  outOfTime: boolean,
): SwarmError {
  const tail = '; nothing was paid';
  const last = lastError ? ` Last error: ${lastError.message}` : '';
  if (verdicts.verified >= 2) {
    const providers = results.filter((r) => r.verdict.ok && r.inTime).map((r) => r.candidate.nodeId);
    return new SwarmError(
      ErrorCode.ERROR_CODE_VERIFICATION_FAILED,
      `replicas disagreed: ${verdicts.verified} results passed verification (from ${providers.join(', ')}) but no two of them agree within the skill's tolerance${tail}`,
      true,
    );
  }
  if (outOfTime) {
    const what = verdicts.verified === 1 ? 'only one verified result' : 'no verified result';
    return new SwarmError(
      ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      `the task deadline passed with ${what} of ${replicas} replicas; redundancy needs two that agree${tail}.${last}`,
      NOT_AGAIN,
    );
  }
  if (verdicts.verified === 1) {
    const code = lastError && KEPT_CODES.has(lastError.code) ? lastError.code : ErrorCode.ERROR_CODE_VERIFICATION_FAILED;
    return new SwarmError(code, `only one verified result of ${replicas} replicas; redundancy needs two that agree${tail}.${last}`, true, {
      retryAfterMs: lastError?.retryAfterMs,
    });
  }
  // An error that says the task itself is at fault (every provider would repeat it) keeps its code.
  if (results.length === 0 && lastError && !lastError.retryable) return lastError;
  if (results.length > 0) {
    return new SwarmError(ErrorCode.ERROR_CODE_VERIFICATION_FAILED, `no verified result from ${replicas} replicas: every result returned failed verification${tail}.${last}`, true);
  }
  if (lastError && KEPT_CODES.has(lastError.code)) {
    return new SwarmError(lastError.code, `no replica of ${replicas} took the task${tail}.${last}`, true, { retryAfterMs: lastError.retryAfterMs });
  }
  return new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, `no replica of ${replicas} returned a result${tail}.${last}`);
}

/**
 * How a dispatch attempt's end is judged and told: a result's verdict, what an error says about the
 * candidate, and the observer that learns from both (shared by run-task.ts, run-replicated.ts and
 * run-sharded.ts).
 */
import type { Tensor } from '@swarm/contracts';
import { ErrorCode, fromTensor, isSwarmError } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import type { AttemptObserver, AttemptOutcome, AttemptReport, Candidate } from '@swarm/scoring';
import { IGNORE_ATTEMPTS } from '@swarm/scoring';
import type { Verdict } from '@swarm/skills';
import { getSkill } from '@swarm/skills';
import type { DecodedInputs, ExecutionResult, ResultVerifier } from './task-types';

/** What the router saw of one attempt's time (its own stopwatch; never what the candidate says). */
export interface AttemptTime {
  /** From dispatch to the end of the attempt. */
  readonly elapsedMs: number;
  /** The time the attempt was given (the task's deadline may leave less than `fairMs`). */
  readonly allowedMs: number;
  /** The per-attempt time for its work (attemptTimeoutMs): what an honest node is expected to need at most. */
  readonly fairMs: number;
  /** The task's own signal had aborted: its deadline passed ('deadline'), or it was cancelled (a stopping router). */
  readonly taskEnded: TaskEnd | undefined;
}

export type TaskEnd = 'deadline' | 'cancelled';

/** Why the task's signal aborted, if it did: its deadline (a TimeoutError reason) or a cancellation. */
export function taskEndOf(signal: AbortSignal): TaskEnd | undefined {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError' ? 'deadline' : 'cancelled';
}

/** The router's and the executor's clocks start an attempt a few ms apart. */
const RAN_OUT_SLACK_MS = 10;

/**
 * What a failed dispatch says about its candidate (see AttemptOutcome), judged by the time the
 * router saw it take, so a candidate cannot choose its verdict by its answer: an attempt the task's
 * deadline ended before its fair time is 'cut-short' (also one that answered DEADLINE_EXCEEDED once
 * the shortened time it was given had really run out); one the deadline ended after its fair time
 * and the whole of its given time is a 'timeout'; a DEADLINE_EXCEEDED the candidate sent early is a
 * 'timeout' too. One the task's cancellation ended (a stopping router) is 'unjudged': the router's
 * doing, not the node's.
 */
export function failedAttemptOutcome(err: unknown, time: AttemptTime): AttemptOutcome {
  const { elapsedMs, allowedMs, fairMs, taskEnded } = time;
  const ranOut = elapsedMs >= allowedMs - RAN_OUT_SLACK_MS;
  if (taskEnded === 'cancelled') return 'unjudged';
  if (taskEnded === 'deadline') return elapsedMs >= fairMs && ranOut ? 'timeout' : 'cut-short';
  if (allowedMs < fairMs && ranOut && isSwarmError(err, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED)) return 'cut-short';
  return outcomeOfError(err);
}

/** What a failed dispatch's error says about its candidate, time aside (see failedAttemptOutcome). */
function outcomeOfError(err: unknown): AttemptOutcome {
  if (isSwarmError(err, ErrorCode.ERROR_CODE_OVERLOADED)) return 'overloaded';
  if (isSwarmError(err, ErrorCode.ERROR_CODE_VERIFICATION_FAILED)) return 'rejected-by-verification';
  if (isSwarmError(err, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED)) return 'timeout';
  return 'failed';
}

/**
 * A verified result that came after the task's deadline: a 'timeout' when it took longer than its
 * fair time, else 'unjudged': the node did the work within what an honest node may take, and the
 * task's deadline (its requester's choice) was shorter.
 */
export function lateOutcome(elapsedMs: number, fairMs: number): AttemptOutcome {
  return elapsedMs < fairMs ? 'unjudged' : 'timeout';
}

/** The task's outcome never depends on its observer: a throwing observer is ignored. */
export function notify(observer: AttemptObserver, report: AttemptReport): void {
  try {
    observer.onAttempt(report);
  } catch {
    // Learning is advisory; a bug there must not fail or refund a task.
  }
}

/** A task's attempts: in order for its selector, each told to its observer as it ends. */
export interface AttemptLog {
  readonly reports: AttemptReport[];
  readonly report: (candidate: Candidate, outcome: AttemptOutcome, ms: number, errorCode: ErrorCode | undefined) => void;
}

export function attemptLog(observer: AttemptObserver | undefined, task: { readonly taskId: string; readonly skill: string }): AttemptLog {
  const reports: AttemptReport[] = [];
  return {
    reports,
    report: (candidate, outcome, ms, errorCode) => {
      const r: AttemptReport = { taskId: task.taskId, skill: task.skill, candidate, outcome, ms, errorCode };
      reports.push(r);
      notify(observer ?? IGNORE_ATTEMPTS, r);
    },
  };
}

/** A skill's verdict on a result; a result that cannot even be decoded is a refuted result, not a fault. */
export function verifyResult(skillName: string, inputs: DecodedInputs, outputs: Tensor[], random: Random): Verdict {
  const skill = getSkill(skillName);
  try {
    return skill.verify(inputs, outputs.map(fromTensor), random);
  } catch (err) {
    return { ok: false, refuted: true, method: skill.verification, detail: (err as Error).message };
  }
}

/**
 * The verdict on an attempt's result: refuted when another node than the chosen candidate answered
 * (it would be paid in the candidate's place), else the skill's, on the router's verifier if it has one.
 */
export async function judgeResult(
  c: { readonly verifier?: ResultVerifier; readonly random: Random },
  skillName: string,
  candidate: Candidate,
  inputs: DecodedInputs,
  exec: ExecutionResult,
): Promise<Verdict> {
  if (exec.providerId !== candidate.nodeId) {
    return { ok: false, refuted: true, method: getSkill(skillName).verification, detail: `answered by ${exec.providerId}, not the chosen provider ${candidate.nodeId}` };
  }
  return c.verifier ? c.verifier.verify(skillName, inputs, exec.outputs) : verifyResult(skillName, inputs, exec.outputs, c.random);
}

/**
 * What a result that failed verification says about its provider: 'rejected-by-verification' when
 * proven wrong (Verdict.refuted), else 'failed': crafted inputs can put an honest result where it
 * failed, so not the rejection's blame, but not nothing either: a node that keeps failing so (a
 * cheat within the worst case, such as reduced-precision arithmetic on deep products) loses trust a
 * failure at a time and becomes a suspect as a stalling node does (trust-book.ts).
 */
export function failedVerdictOutcome(verdict: Verdict): AttemptOutcome {
  return verdict.refuted ? 'rejected-by-verification' : 'failed';
}

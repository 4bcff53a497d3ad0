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
import type { DecodedInputs } from './task-types';

/**
 * What a failed dispatch says about its candidate (see AttemptOutcome). `taskEnded`: the task's own
 * signal had aborted (its deadline passed, or the router is stopping); `shortened`: the task's
 * deadline left the attempt less than its fair time. Either way an attempt that ran out of time
 * was cut short, which is no fault of the candidate's.
 */
export function outcomeOfError(err: unknown, taskEnded = false, shortened = false): AttemptOutcome {
  if (taskEnded || (shortened && isSwarmError(err, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED))) return 'cut-short';
  if (isSwarmError(err, ErrorCode.ERROR_CODE_OVERLOADED)) return 'overloaded';
  if (isSwarmError(err, ErrorCode.ERROR_CODE_VERIFICATION_FAILED)) return 'rejected-by-verification';
  if (isSwarmError(err, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED)) return 'timeout';
  return 'failed';
}

/**
 * A verified result that came after the task's deadline: a 'timeout' when the attempt had its fair
 * time (`allowedMs` at least the per-attempt time for its work, `fairMs`), else 'cut-short': the
 * task's deadline, chosen by its requester, left it less, which is no fault of the candidate's.
 */
export function lateOutcome(allowedMs: number, fairMs: number): AttemptOutcome {
  return allowedMs < fairMs ? 'cut-short' : 'timeout';
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

/** A skill's verdict on a result; a result that cannot even be decoded is a failed result, not a fault. */
export function verifyResult(skillName: string, inputs: DecodedInputs, outputs: Tensor[], random: Random): Verdict {
  const skill = getSkill(skillName);
  try {
    return skill.verify(inputs, outputs.map(fromTensor), random);
  } catch (err) {
    return { ok: false, method: skill.verification, detail: (err as Error).message };
  }
}

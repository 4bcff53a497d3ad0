import type { ErrorCode } from '@swarm/contracts';
import type { Candidate } from './candidate';

/**
 * How one dispatch attempt ended, from the candidate's side: 'ok' is a verified result in time;
 * 'rejected-by-verification' a result proven wrong by its check (Verdict.refuted), or that came
 * from another node than the one chosen; 'timeout' no result within the attempt's time; 'overloaded' the candidate refused
 * for lack of capacity; 'cut-short' no result before the task's own deadline (or a stopping router)
 * ended the attempt, before its fair time for the work had passed; 'unjudged' a verified result that
 * could not count, and says nothing either way (it came after the deadline yet within its fair
 * time, or no two replicas agreed); 'failed' any other error, and a result that failed its check
 * without proof it is wrong (which crafted inputs can make of an honest one).
 */
export type AttemptOutcome = 'ok' | 'failed' | 'timeout' | 'overloaded' | 'cut-short' | 'unjudged' | 'rejected-by-verification';

export interface AttemptReport {
  readonly taskId: string;
  readonly skill: string;
  readonly candidate: Candidate;
  readonly outcome: AttemptOutcome;
  /** From dispatch to verdict, measured on the pipeline's stopwatch. */
  readonly ms: number;
  /** The error that ended the attempt; undefined when 'ok'. */
  readonly errorCode: ErrorCode | undefined;
}

/** Told about every dispatch attempt as it ends: the hook for trust and pheromone learning. */
export interface AttemptObserver {
  /** Called synchronously by the pipeline; whatever it throws is ignored, so keep it cheap. */
  onAttempt(report: AttemptReport): void;
}

export const IGNORE_ATTEMPTS: AttemptObserver = Object.freeze({ onAttempt: () => undefined });

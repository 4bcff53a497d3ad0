export { createDefaultSelector, scoreCandidate, compareScores, UNKNOWN_RTT_MS } from './default-selector';
export type { CandidateScore } from './default-selector';
export type { Candidate, CandidateSelector, SelectionTask } from './candidate';
export { IGNORE_ATTEMPTS } from './attempt-report';
export type { AttemptObserver, AttemptOutcome, AttemptReport } from './attempt-report';

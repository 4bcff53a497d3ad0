export { createDefaultSelector, scoreCandidate, compareScores, UNKNOWN_RTT_MS, TRUST_WAIT_DISCOUNT } from './default-selector';
export type { CandidateScore } from './default-selector';
export type { Candidate, CandidateSelector, SelectionTask, TrustReader } from './candidate';
export { createTrustBook, trustObserver, trustReader, DEFAULT_TRUST_RULES } from './trust-book';
export type { NodeTrustView, TrustBook, TrustRules, TrustSnapshotEntry } from './trust-book';
export { IGNORE_ATTEMPTS } from './attempt-report';
export type { AttemptObserver, AttemptOutcome, AttemptReport } from './attempt-report';

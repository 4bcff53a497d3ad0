export { runTask, admitTask, DEFAULT_ROUTER_LIMITS, SETTLE_GRACE_MS } from './run-task';
export type { RouterComponents, RouterLimits } from './run-task';
export type { Candidate, ExecutionResult, TaskPorts, TaskRequest, TaskOutcome, AttemptRecord } from './task-types';

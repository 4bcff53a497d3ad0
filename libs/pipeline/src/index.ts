export {
  runTask,
  admitTask,
  attemptTimeoutMs,
  DEFAULT_ROUTER_LIMITS,
  SETTLE_GRACE_MS,
  MAX_SKILL_NAME_CHARS,
  ATTEMPT_MIN_MS,
  ATTEMPT_WORK_PER_MS,
  SETTLE_BACKOFF_MS,
  SETTLE_BACKOFF_MAX_MS,
  SETTLE_MARGIN_MS,
  FOLD_MAX_WORK,
} from './run-task';
export { createChargeGate, CHARGE_HOLD_MS, CHARGE_GATE_MAX_ACCOUNTS } from './charge-gate';
export type { ChargeGate } from './charge-gate';
export type { RouterComponents, RouterLimits } from './run-task';
export { verifyResult } from './attempt-checks';
export { replicasOf } from './run-replicated';
export { shardsOf, splitShardPool, SHARDABLE_SKILL } from './shard-split';
export type { BlockResult, ShardSplit } from './shard-split';
export { createAdmission, submitBytes, INITIAL_TASK_MS_ESTIMATE, MIN_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS } from './admission';
export type { Admission, AdmissionLimits, AdmissionStats, AdmissionTicket } from './admission';
export { createTaskTable, keyedTaskId, REJECTED_SHARE } from './task-table';
export { submitFingerprint, keyReusedError } from './keyed-submit';
export { payeesOf, payableCandidates, ESCROW_MAX_PAYEES } from './payees';
export type { NodePaid, TaskRecord, TaskRecordState, TaskTable, TaskTableLimits, TaskEnd } from './task-table';
export type {
  Contribution,
  EscrowView,
  ExecutionResult,
  Payout,
  ResultVerifier,
  SettleFacts,
  ShardRecord,
  Sleep,
  TaskPorts,
  TaskRequest,
  TaskOutcome,
  AttemptRecord,
} from './task-types';
export { ChargeNotServed, payeeKeysOf } from './task-types';

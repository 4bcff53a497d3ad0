/**
 * What `swarm submit` accepts, stated in `--help` and checked before anything is sent. Plain
 * numbers, so `swarm --help` loads no library; submit-limits.spec.ts holds them against the node's
 * limits (TASK_MAX_ELEMENTS, TASK_MAX_TIMEOUT_MS). The per-skill `--size` limits are demo-sizes.ts.
 */

/** A task's inputs hold at most this many values together (TASK_MAX_ELEMENTS). */
export const MAX_TASK_VALUES = 2_000_000;

/** Longest task deadline (TASK_MAX_TIMEOUT_MS). */
export const MAX_TIMEOUT_MS = 120_000;

/** Most providers one task runs on (SubmitTaskRequest.redundancy, TASK_MAX_REDUNDANCY). */
export const MAX_REDUNDANCY = 5;

/** Most row blocks one matmul is split into (SubmitTaskRequest.shards, TASK_MAX_SHARDS). */
export const MAX_SHARDS = 16;

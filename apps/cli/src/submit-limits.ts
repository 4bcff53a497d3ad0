/**
 * What `swarm submit` (and `swarm agent`'s names) accept, stated in `--help` and checked before
 * anything is sent. Plain values, so `swarm --help` loads no library; submit-limits.spec.ts holds
 * them against the node's (TASK_MAX_ELEMENTS, TASK_MAX_TIMEOUT_MS, AGENT_NAME_PATTERN, …). The per-skill `--size` limits are demo-sizes.ts.
 */

/** A task's inputs hold at most this many values together (TASK_MAX_ELEMENTS). */
export const MAX_TASK_VALUES = 2_000_000;

/** Longest task deadline (TASK_MAX_TIMEOUT_MS). */
export const MAX_TIMEOUT_MS = 120_000;

/** Most providers one task runs on (SubmitTaskRequest.redundancy, TASK_MAX_REDUNDANCY). */
export const MAX_REDUNDANCY = 5;

/** Most row blocks one matmul is split into (SubmitTaskRequest.shards, TASK_MAX_SHARDS). */
export const MAX_SHARDS = 16;

/** An agent's name, as api-svc takes it (AGENT_NAME_PATTERN). */
export const AGENT_NAME = /^[a-z0-9-]{1,32}$/;
export const AGENT_NAME_TEXT = '1-32 of a-z, 0-9 and -';

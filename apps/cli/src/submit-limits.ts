/**
 * What `swarm submit` accepts, stated in `--help` and checked before anything is sent. Plain
 * numbers, so `swarm --help` loads no library; submit-limits.spec.ts holds them against the node's
 * limits (TASK_MAX_ELEMENTS, TASK_MAX_TIMEOUT_MS) and each skill's own input validation.
 */

/** A task's inputs hold at most this many values together (TASK_MAX_ELEMENTS). */
export const MAX_TASK_VALUES = 2_000_000;

/**
 * Largest `--size` per skill within MAX_TASK_VALUES: matmul n takes 2n² values, vecadd 2n,
 * mlp 2n² + 11n + 10 (x and w1 n×n, b1 n, w2 n×10, b2 10).
 */
export const MAX_DEMO_SIZE: Readonly<Record<string, number>> = Object.freeze({ matmul: 1_000, mlp: 997, vecadd: 1_000_000 });

/** Longest task deadline (TASK_MAX_TIMEOUT_MS). */
export const MAX_TIMEOUT_MS = 120_000;

export function sizeLimitsText(): string {
  return Object.entries(MAX_DEMO_SIZE)
    .map(([skill, max]) => `${skill} ≤ ${max}`)
    .join(', ');
}

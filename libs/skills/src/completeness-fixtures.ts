/**
 * The shared part of the completeness suites (completeness*.trials.spec.ts): honest f32 results are
 * never rejected. 10,000 random honest tasks per skill, most small and a few at the node's limit,
 * computed by the plain-JS reference and in every summation order of f32-orders.ts, on every value
 * distribution. The suites are split so the test runner spreads their minutes over its workers.
 */
import type { DenseTensor } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import { getSkill } from './catalog';
import type { SummationOrder } from './f32-orders';
import { SUMMATION_ORDERS } from './f32-orders';
import { checkProduct } from './freivalds';
import type { ValueDistribution } from './value-distributions';
import { VALUE_DISTRIBUTIONS } from './value-distributions';

export const TASKS = 10_000;
export const TIMEOUT_MS = 120_000;
/** matmul at the limit: six 1000×1000·1000×1000 products in plain JS, seconds each on a busy box. */
export const MATMUL_TIMEOUT_MS = 300_000;
/** The plain-JS reference first, then every order of f32-orders.ts. */
export const PRODUCERS: ReadonlyArray<'reference' | SummationOrder> = ['reference', ...SUMMATION_ORDERS];

/** Tasks at the node's limit: the last ones, one per value distribution. */
const LIMIT_TASKS = VALUE_DISTRIBUTIONS.length;
/** The node's limit on k (2M input values: a and b of a 1000×1000 product, README). */
export const MAX_K = 1_000;

/** Size class of task i of TASKS: 90% tiny, 9% medium, 0.9% large, then one per distribution at the limit. */
export function sizeClass(i: number): 0 | 1 | 2 | 3 | 4 {
  if (i < 9_000) return 0;
  if (i < 9_900) return 1;
  if (i < 9_990) return 2;
  if (i < TASKS - LIMIT_TASKS) return 3;
  return 4;
}

export function between(lo: number, hi: number, random: Random): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

export function distribution(i: number): ValueDistribution {
  return VALUE_DISTRIBUTIONS[i % VALUE_DISTRIBUTIONS.length];
}

/**
 * b for a of `dist`: the same distribution, except under sign-sorted rows of a, where b is positive
 * (every row's products sorted by sign) or, when `mixedSigns`, sign-sorted itself (columns of either
 * sign: every row's products sorted, half of them the other way round).
 */
export function secondFactor(dist: ValueDistribution, mixedSigns: boolean): ValueDistribution {
  if (dist !== 'sorted') return dist;
  return mixedSigns ? 'sorted' : 'positive';
}

/** verify's verdict and the forced projections' on one product; a message when either rejects. */
export function checkHonest(a: Float32Array, b: Float32Array, c: Float32Array, [n, k, m]: readonly number[], random: Random): string | undefined {
  const inputs: DenseTensor[] = [
    { name: 'a', shape: [n, k], data: a },
    { name: 'b', shape: [k, m], data: b },
  ];
  const verdict = getSkill('matmul').verify(inputs, [{ name: 'c', shape: [n, m], data: c }], random);
  // Small and thin products are recomputed by verify; the projections must accept them too.
  const projected = checkProduct({ rows: n, cols: k, data: a }, { rows: k, cols: m, data: b }, { rows: n, cols: m, data: c }, random, { mode: 'freivalds' });
  if (!verdict.ok) return verdict.detail;
  if (!projected.ok) return projected.detail;
  return undefined;
}

/**
 * Monte-Carlo Shapley values by permutation sampling (Castro, Gómez & Tejada 2009): φ_i is the mean
 * of i's marginal contribution v(P ∪ {i}) − v(P) over uniformly random orders, P the players
 * before i. Variance reduction: antithetic pairs (each sampled order and its reverse; a player early
 * in one is late in the other, so their marginals are negatively correlated). A pair's mean is one
 * independent sample, from which the standard errors come. Every order's marginals sum to
 * v(N) − v(∅), so the estimates are efficient whatever the sample.
 */
import type { Random } from '@swarm/determinism';
import type { CoalitionWalk, MembershipValue } from './game';
import { MAX_PLAYERS, checkPlayers, invalid, membershipWalk, quote } from './game';

export const DEFAULT_PERMUTATIONS = 1024;
/** Two antithetic pairs: the fewest that give a sample variance. */
export const MIN_PERMUTATIONS = 4;
export const MAX_PERMUTATIONS = 1 << 20;
/** With a target standard error, never stop before this many pairs: a tiny sample can look certain. */
export const MIN_PAIRS_FOR_TARGET = 16;

export interface ApproxShapleyOptions {
  random: Random;
  /** Sample budget in orders (each pair counts 2; an odd count is rounded up); default 1,024. */
  permutations?: number;
  /** Stop early once every player's standard error is at most this (value units). */
  targetStdErr?: number;
}

export interface ShapleyEstimate {
  /** Estimated φ_i. */
  values: number[];
  /** Standard error of each estimate (of the mean over antithetic pairs). */
  stdErrs: number[];
  /** Orders sampled (pairs × 2). */
  permutations: number;
}

function checkOptions(options: ApproxShapleyOptions): { pairs: number; target: number } {
  if (typeof options?.random !== 'function') throw invalid('approxShapley: options.random must be a Random function');
  const permutations = options.permutations ?? DEFAULT_PERMUTATIONS;
  if (!Number.isInteger(permutations) || permutations < MIN_PERMUTATIONS || permutations > MAX_PERMUTATIONS) {
    throw invalid(`approxShapley: permutations must be an integer in [${MIN_PERMUTATIONS}, ${MAX_PERMUTATIONS}], got ${quote(permutations)}`);
  }
  const target = options.targetStdErr ?? 0;
  if (typeof target !== 'number' || !Number.isFinite(target) || target < 0) throw invalid(`approxShapley: targetStdErr must be a finite number >= 0, got ${quote(target)}`);
  return { pairs: Math.ceil(permutations / 2), target };
}

/**
 * Shapley estimates of players 0..n-1 (n ≤ MAX_PLAYERS). `v` is a membership value function
 * (coalitions as membership vectors) or a game's incremental walk (`game.walk()`), which is faster.
 */
export function approxShapley(n: number, v: MembershipValue | CoalitionWalk, options: ApproxShapleyOptions): ShapleyEstimate {
  checkPlayers(n, MAX_PLAYERS, 'approxShapley');
  const { pairs: maxPairs, target } = checkOptions(options);
  const { random } = options;
  const coalition = typeof v === 'function' ? membershipWalk(n, v) : v;
  if (typeof coalition?.reset !== 'function' || typeof coalition.add !== 'function') throw invalid('approxShapley: v must be a membership value function or a CoalitionWalk');
  const finite = (value: number): number => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`approxShapley: v must return a finite number, got ${quote(value)}`);
    return value;
  };

  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const forward = new Float64Array(n);
  const backward = new Float64Array(n);
  // Welford's running mean and squared deviations of each player's pair means: stable for any scale.
  const mean = new Float64Array(n);
  const m2 = new Float64Array(n);

  // Marginals along `order` read forwards (step +1) or backwards (step −1).
  const walk = (out: Float64Array, step: 1 | -1): void => {
    let previous = finite(coalition.reset());
    for (let k = 0; k < n; k++) {
      const player = order[step === 1 ? k : n - 1 - k];
      const current = finite(coalition.add(player));
      out[player] = current - previous;
      previous = current;
    }
  };

  let pairs = 0;
  while (pairs < maxPairs) {
    // Fisher–Yates from the previous order: uniform whatever the start. min() guards a Random that returns 1.
    for (let k = n - 1; k > 0; k--) {
      const j = Math.min(k, Math.floor(random() * (k + 1)));
      const t = order[k];
      order[k] = order[j];
      order[j] = t;
    }
    walk(forward, 1);
    walk(backward, -1);
    pairs++;
    for (let i = 0; i < n; i++) {
      const x = (forward[i] + backward[i]) / 2;
      const delta = x - mean[i];
      mean[i] += delta / pairs;
      m2[i] += delta * (x - mean[i]);
    }
    if (target > 0 && pairs >= MIN_PAIRS_FOR_TARGET && maxStdErr(m2, pairs) <= target) break;
  }
  return { values: Array.from(mean), stdErrs: Array.from(m2, (s) => stdErr(s, pairs)), permutations: pairs * 2 };
}

function stdErr(m2: number, pairs: number): number {
  return Math.sqrt(Math.max(0, m2) / (pairs - 1) / pairs);
}

function maxStdErr(m2: Float64Array, pairs: number): number {
  let worst = 0;
  for (const s of m2) worst = Math.max(worst, stdErr(s, pairs));
  return worst;
}

/**
 * The worst an honest f32 dot product can be off, whatever the data: what proves a result wrong.
 *
 * The verifiers' tolerance (f32-error.ts) is probabilistic: it holds for every summation order on
 * all but crafted inputs, and inputs crafted so that one order rounds every step the same way
 * (rows [1, s, s, …] with s² under half an ulp of 1: each small term is lost) put an honest result
 * past it from k ≈ 200. So a result outside that tolerance is not paid, but it is only PROVEN wrong
 * when a value recomputed exactly (f64) is further off than any f32 dot product can be: γ_terms·
 * Σ_p |a_ip·b_pj| (any order, FMA or not: Higham, Accuracy and Stability of Numerical Algorithms,
 * §3.1), plus subnormal flushing (of products and partial sums, and of inputs, which WGSL and GLSL
 * ES let a GPU read as 0), plus the f64 computation's own rounding. Refutations (a failed check's,
 * freivalds.ts; a dispute's, the referees) use this bound, so a result of a classical dot-product
 * kernel (each cell a sum of its k products, in whatever order) is never refuted, whatever the data.
 * Fast algorithms that compute cells from sums of other inputs (Strassen) are not such kernels and
 * can be refuted.
 */
import { F32_MIN_NORMAL, F32_UNIT_ROUNDOFF } from './f32-error';

// Bound once: called per cell, and under jest's vm sandbox every global lookup is slow.
const { abs } = Math;

/** A GPU may flush each product and partial sum of a cell to zero when subnormal. */
export function dotFlushFloor(terms: number): number {
  return 2 * (terms + 1) * F32_MIN_NORMAL;
}

/**
 * What the f64 computations of a refutation (the exact row, the magnitudes, the carried bound) may be
 * off by, relative to what they summed: far above 2^-53 times any term count a task has (2^21).
 */
export const F64_SLACK = 2 ** -30;

/** γ_n = n·u / (1 − n·u): the most an f32 dot product of n terms can be off, relative to Σ|x_p·w_p|, in any order, FMA or not. */
export function worstDotError(terms: number): number {
  const nu = terms * F32_UNIT_ROUNDOFF;
  return nu / (1 - nu);
}

/** One row recomputed exactly (exactDotRow), with what bounds an honest f32 computation's distance from it. */
export interface ExactRow {
  readonly exact: Float64Array;
  /** Σ_p |x_ip·w_pj| (+ |bias_j|): γ_terms times it bounds the rounding. */
  readonly magnitude: Float64Array;
  /**
   * The part of magnitude whose terms have a subnormal input (x_ip, w_pj or bias_j): a GPU may read
   * such an input as 0 (WGSL and GLSL ES allow it), so an honest result may lack those terms whole.
   */
  readonly flushable?: Float64Array;
}

/** Row `i` of x·w (+ bias) in f64 (ExactRow): x is rows×terms (row-major, f32 or f64), w is terms×cols. */
export function exactDotRow(x: ArrayLike<number>, terms: number, i: number, w: Float32Array, cols: number, bias?: Float32Array): Required<ExactRow> {
  const exact = new Float64Array(cols);
  const magnitude = new Float64Array(cols);
  const flushable = new Float64Array(cols);
  if (bias) {
    for (let j = 0; j < cols; j++) {
      exact[j] = bias[j];
      magnitude[j] = abs(bias[j]);
      if (magnitude[j] < F32_MIN_NORMAL) flushable[j] = magnitude[j];
    }
  }
  for (let p = 0; p < terms; p++) {
    const xp = x[i * terms + p];
    if (xp === 0) continue;
    const size = abs(xp);
    const xFlushable = size < F32_MIN_NORMAL;
    for (let j = 0, at = p * cols; j < cols; j++, at++) {
      const wp = abs(w[at]);
      exact[j] += xp * w[at];
      magnitude[j] += size * wp;
      // Rarely taken (a subnormal input), and only on a refutation's few rows.
      if (xFlushable || wp < F32_MIN_NORMAL) flushable[j] += size * wp;
    }
  }
  return { exact, magnitude, flushable };
}

/**
 * Row `i` of one result's c (f32) against the exact row: within the worst an honest f32 dot product
 * of `terms` terms can be off, γ_terms·magnitude[j] (exactDotRow), plus subnormal flushing (of
 * products and sums, and of inputs: flushable[j]), plus
 * carry·carriedCols[j] (what the result's own inputs to this layer carry in, mlp's z). A message
 * naming the first cell outside it, or undefined; NaN is never within.
 */
export function compareRowToExact(
  what: string,
  c: Float32Array,
  i: number,
  row: ExactRow,
  bound: { readonly terms: number; readonly carry?: number; readonly carriedCols?: Float64Array },
): string | undefined {
  const { terms, carry = 0, carriedCols } = bound;
  const { exact, magnitude, flushable } = row;
  const gamma = worstDotError(terms);
  const floor = dotFlushFloor(terms);
  for (let j = 0, at = i * exact.length; j < exact.length; j++, at++) {
    const carried = carriedCols ? carry * carriedCols[j] : 0;
    // The exact row is f64, so itself a hair off: F64_SLACK of everything it summed.
    const tol = gamma * magnitude[j] + (flushable ? flushable[j] : 0) + carried + floor + F64_SLACK * (magnitude[j] + abs(exact[j]) + carried);
    const diff = abs(c[at] - exact[j]);
    if (!(diff <= tol)) return `${what}[${i},${j}] is ${c[at]}, ${diff} from the exact ${exact[j]}: more than the ${tol} any honest f32 result can be`;
  }
  return undefined;
}

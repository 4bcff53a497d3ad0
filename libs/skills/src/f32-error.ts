/**
 * Rounding-error bounds for f32 arithmetic, so verifiers accept any correct f32 result (any
 * summation order, FMA or not, on any backend) and reject anything clearly off.
 */

/** Unit roundoff of IEEE-754 binary32. */
export const F32_UNIT_ROUNDOFF = 2 ** -24;
/** Smallest normal f32: GPU backends may flush anything below it to zero. */
export const F32_MIN_NORMAL = 2 ** -126;

/**
 * γ(n) = n·u / (1 − n·u): a dot product of n terms computed in f32, in any order, differs from the
 * exact one by at most γ(n)·Σ|aᵢ·bᵢ| (Higham, Accuracy and Stability of Numerical Algorithms, §3.1).
 */
export function f32Gamma(terms: number): number {
  const nu = terms * F32_UNIT_ROUNDOFF;
  // Past n·u ≈ 1 the bound says nothing; a relative error of 1 still rejects garbage.
  return nu < 0.5 ? nu / (1 - nu) : 1;
}

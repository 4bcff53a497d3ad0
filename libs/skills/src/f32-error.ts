/**
 * How far an honest f32 result may be from the exact one, so verifiers accept every correct f32
 * result (any summation order, FMA or not, any backend) and reject anything measurably off.
 * The numbers behind each constant are in docs/verification.md.
 */

/** Unit roundoff of IEEE-754 binary32. */
export const F32_UNIT_ROUNDOFF = 2 ** -24;
/** Unit roundoff of binary64: the verifiers' own arithmetic. */
export const F64_UNIT_ROUNDOFF = 2 ** -53;
/** Smallest normal f32: GPU backends may flush anything below it to zero. */
export const F32_MIN_NORMAL = 2 ** -126;

/**
 * λ of the dot-product error model below. Probabilistic rounding error analysis (Higham & Mary,
 * SIAM J. Sci. Comput. 41(5), 2019; and their 2020 sharper bounds for random data): the error of
 * recursive summation is Σ δ_p·s_p over partial sums s_p with independent-ish roundings |δ_p| ≤ u,
 * so it grows like u·√k·‖s‖ rather than the worst case k·u·Σ|terms|. For partial sums that drift
 * towards the result and wander like a random walk, ‖s‖ ≲ √k·(|c| + ‖terms‖₂), which the model
 * σ = u·√k·√(c² + Σ_p (a_p·b_p)²) captures; the Σ(a_p·b_p)² part also covers the rounding of each
 * product when there is no FMA.
 *
 * Calibration (docs/verification.md, `npm run bench -- --verify --calibrate`, k up to 700): over the
 * gpu.js webasm and cpu kernels and plain-JS i-k-j, i-j-k, reversed, blocked, pairwise and strided
 * orders, on uniform, positive, mixed-magnitude, nearly-constant and cancelling data, the largest
 * observed ‖error‖₂/σ of a row block was 0.79 (0.33 without cancelling data), of one cell 2.5. A
 * block check sums ±1-weighted errors, sub-Gaussian with variance ‖error‖₂² (Hoeffding), so
 * λ = 10 sits 12.5 of those standard deviations out (false reject ≤ 2e^-78 per check), and a cell
 * 4 times its largest error; still, a 0.1% error of one element of a 700×700 product stays at least
 * 1.9 times above λσ (≤ 5.3e-4 of the output's rms).
 * Known limit: inputs whose products are sorted by sign along k (partial sums far larger than the
 * result) carry honest errors ~√k/8 times σ; past k ≈ 128 such a result may be rejected (and refunded).
 */
export const DOT_ERROR_LAMBDA = 10;

/** γ(n) = n·u/(1 − n·u) for binary64 (Higham, Accuracy and Stability of Numerical Algorithms, §3.1). */
export function f64Gamma(terms: number): number {
  const nu = terms * F64_UNIT_ROUNDOFF;
  return nu / (1 - nu);
}

/**
 * Largest accepted |Σ_{j∈block} (c_j − exact_j)·r_j| for r_j = ±1, where each c_j is an honest f32
 * dot product of `terms` terms: λ·σ over the block, plus the check's own f64 rounding and subnormal
 * flushing. `cSq` = Σ_j c_j², `termSq` = Σ_j Σ_p (a_p·b_pj)²; a block of width 1 is a single cell.
 */
export function dotTolerance(terms: number, width: number, cSq: number, termSq: number): number {
  // `** 0.5` rather than Math.sqrt: called per cell by a recompute, and a global lookup is slow under jest.
  const model = DOT_ERROR_LAMBDA * F32_UNIT_ROUNDOFF * (terms * (cSq + termSq)) ** 0.5;
  // The check sums terms·width products and width values of c in f64; by Cauchy–Schwarz their
  // absolute sums are at most √(terms·width·termSq) and √(width·cSq).
  const f64 = f64Gamma(terms + width + 2) * ((terms * width * termSq) ** 0.5 + (width * cSq) ** 0.5);
  // A GPU may flush each subnormal product and partial sum of every cell to zero.
  const flushed = 2 * width * (terms + 1) * F32_MIN_NORMAL;
  return model + f64 + flushed;
}

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
 * Drift: when the products are sorted by sign along k (partial sums climbing far above the result,
 * then cancelling), ‖s‖ is far above √k·|c| and the error grows with it (~√k/8 times the σ above at
 * k = 700). The model therefore also takes Σ_p (s_p·v)² over each row block's partial sums measured
 * along one direction v of the block's columns (partialSumDrift below), and uses the larger of that
 * and k·Σc² (the drift towards the result it replaces): σ² = u²·(k·Σ(a·b)² + max(k·Σc², drift)).
 * Σ_p (s_p·v)² ≤ Σ_p ‖s_p‖², so the tolerance grows only where the partial sums really are large.
 *
 * Calibration (docs/verification.md, `npm run bench -- --verify --calibrate`, k up to 1000): over
 * the gpu.js webasm and cpu kernels and plain-JS i-k-j, i-j-k, reversed, blocked, pairwise and
 * strided orders, on uniform, positive, mixed-magnitude, nearly-constant, cancelling and sign-sorted
 * data, the largest observed ‖error‖₂/σ of a row block and |error|/σ of one cell are listed there. A
 * block check sums ±1-weighted errors, sub-Gaussian with variance ‖error‖₂² (Hoeffding), so with
 * block ratios ≤ 0.8, λ = 10 sits ≥ 12.5 of those standard deviations out (false reject ≤ 2e^-78
 * per check); still, a 0.1% error of one element of a 700×700 product stays at least 1.9 times above
 * λσ (≤ 5.3e-4 of the output's rms) on all but cancelling and sign-sorted data.
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
 * flushing. `cSq` = Σ_j c_j², `termSq` = Σ_j Σ_p (a_p·b_pj)², `driftSq` = partialSumDrift (0 when
 * unknown); a block of width 1 is a single cell.
 */
export function dotTolerance(terms: number, width: number, cSq: number, termSq: number, driftSq = 0): number {
  const drift = terms * cSq > driftSq ? terms * cSq : driftSq;
  // `** 0.5` rather than Math.sqrt: called per cell by a recompute, and a global lookup is slow under jest.
  const model = DOT_ERROR_LAMBDA * F32_UNIT_ROUNDOFF * (terms * termSq + drift) ** 0.5;
  // The check sums terms·width products and width values of c in f64; by Cauchy–Schwarz their
  // absolute sums are at most √(terms·width·termSq) and √(width·cSq).
  const f64 = f64Gamma(terms + width + 2) * ((terms * width * termSq) ** 0.5 + (width * cSq) ** 0.5);
  // A GPU may flush each subnormal product and partial sum of every cell to zero.
  const flushed = 2 * width * (terms + 1) * F32_MIN_NORMAL;
  return model + f64 + flushed;
}

/**
 * Σ of the squared partial sums of a sequential dot product, summed forwards or backwards, whichever
 * is larger. The running sums M_0..M_{steps−1} before each of `steps` terms (M_0 = `first`: the
 * bias, or 0) come as their `sum` and `sumSq`; `last` is M_steps, the result. Forwards the partial
 * sums are M_1..M_steps; backwards (the bias last) M_steps − M_p for p < steps, whose squares sum to
 * steps·last² − 2·last·Σ M_p + Σ M_p². Forwards is never negative, so neither is the result.
 */
export function partialSumDrift(steps: number, first: number, sum: number, sumSq: number, last: number): number {
  const forwards = sumSq - first * first + last * last;
  const backwards = steps * last * last - 2 * last * sum + sumSq;
  return forwards > backwards ? forwards : backwards;
}

/** Power-iteration steps of driftDirections: one already turns noise into a dominant direction. */
export const DRIFT_POWER_STEPS = 1;
/** Multiply-adds per element of B spent by driftDirections (column sums, then 2 per power step and β). */
export const DRIFT_PASSES = 2 + 2 * DRIFT_POWER_STEPS;

export interface DriftDirections {
  /** Per column block (columns up to colEnd), a unit vector v_b (all 0 when B_b is 0); length m. */
  readonly v: Float64Array;
  /** β[blk·k + p] = b_p,b·v_b: the drift of each term along v, block-major like the check's B·r. */
  readonly beta: Float64Array;
}

/**
 * The direction of each column block of B (k×m, row-major) along which partial sums of a·B drift
 * when the products are sorted by sign: the rows b_p are what a row of A sums, so a drift far above
 * a random walk needs many of them to share a direction. The block's column sums find a shared part
 * (b > 0, or every row with the same sign pattern); a power step (BᵀB) also finds one shared up to
 * each row's sign. Deterministic: the tolerance must not depend on the check's random vectors.
 */
export function driftDirections(b: Float32Array, k: number, m: number, colEnd: Int32Array): DriftDirections {
  const v = new Float64Array(m);
  const beta = new Float64Array(k * colEnd.length);
  for (let blk = 0, j0 = 0; blk < colEnd.length; j0 = colEnd[blk], blk++) blockDriftDirection(b, k, m, j0, colEnd[blk], v, beta.subarray(blk * k, (blk + 1) * k));
  return { v, beta };
}

/**
 * driftDirections for the one column block [j0, e): writes v_b into v[j0..e) and b_p,b·v_b into
 * `along` (length k). A check needs it only for a block that fails its plain bound, so it costs
 * DRIFT_PASSES·k·(e − j0) then, and nothing for the other blocks.
 */
export function blockDriftDirection(b: Float32Array, k: number, m: number, j0: number, e: number, v: Float64Array, along: Float64Array): void {
  for (let p = 0; p < k; p++) for (let j = j0; j < e; j++) v[j] += b[p * m + j];
  // Column sums that cancel exactly (rows of alternating sign): start from a nonzero row instead.
  let started = normalize(v, j0, e);
  for (let p = 0; !started && p < k; p++) {
    for (let j = j0; j < e; j++) v[j] = b[p * m + j];
    started = normalize(v, j0, e);
  }
  const next = new Float64Array(e - j0);
  for (let step = 0; step < DRIFT_POWER_STEPS; step++) {
    projectRows(b, m, v, j0, e, along);
    next.fill(0);
    for (let p = 0; p < k; p++) {
      const t = along[p];
      for (let j = j0; j < e; j++) next[j - j0] += t * b[p * m + j];
    }
    v.set(next, j0);
    normalize(v, j0, e);
  }
  projectRows(b, m, v, j0, e, along);
}

/** along[p] = Σ_{j0≤j<e} b_pj·v_j. */
function projectRows(b: Float32Array, m: number, v: Float64Array, j0: number, e: number, along: Float64Array): void {
  for (let p = 0; p < along.length; p++) {
    let t = 0;
    for (let j = j0; j < e; j++) t += b[p * m + j] * v[j];
    along[p] = t;
  }
}

/** Scales v[j0..e) to unit length; false (and untouched) when it is 0. */
function normalize(v: Float64Array, j0: number, e: number): boolean {
  let sq = 0;
  for (let j = j0; j < e; j++) sq += v[j] * v[j];
  if (!(sq > 0)) return false;
  const inv = 1 / sq ** 0.5;
  for (let j = j0; j < e; j++) v[j] *= inv;
  return true;
}

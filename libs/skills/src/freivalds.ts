/**
 * Freivalds' algorithm (1977): checks a claimed product C = A·B in O(n²) per round instead of
 * recomputing it in O(n³). Each round draws r ∈ {0,1}^m and compares A·(B·r) with C·r; a wrong C
 * survives a round with probability at most 1/2, so 20 rounds accept a wrong product < 1e-6 of the time.
 * Exact equality is meaningless in f32, so each row is compared within the rigorous rounding
 * bound γ(k)·(|A|·|B|·r)ᵢ of a correct f32 product (see f32-error.ts).
 */
import type { Random } from '@swarm/determinism';
import { F32_MIN_NORMAL, f32Gamma } from './f32-error';

/** A row-major f32 matrix. */
export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

export const FREIVALDS_ROUNDS = 20;
/** Slack over the f32 bound for the f64 arithmetic of the check itself. */
const TOLERANCE_SAFETY = 2;

/** True when C passes `rounds` rounds; throws RangeError when the shapes do not chain. */
export function freivalds(a: Mat, b: Mat, c: Mat, rounds: number, random: Random): boolean {
  const n = a.rows;
  const k = a.cols;
  const m = b.cols;
  if (b.rows !== k || c.rows !== n || c.cols !== m) {
    throw new RangeError(`freivalds: shapes [${n},${k}]·[${b.rows},${m}] do not give [${c.rows},${c.cols}]`);
  }
  if (a.data.length !== n * k || b.data.length !== k * m || c.data.length !== n * m) {
    throw new RangeError('freivalds: data length does not match the shape');
  }
  const tol = TOLERANCE_SAFETY * f32Gamma(k);
  // A GPU may flush each of the k partial products of a cell to zero.
  const floor = k * m * F32_MIN_NORMAL;
  const r = new Float64Array(m);
  const br = new Float64Array(k);
  const brAbs = new Float64Array(k);
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < m; j++) r[j] = random() < 0.5 ? 0 : 1;
    mulVec(b.data, k, m, r, br, brAbs);
    for (let i = 0; i < n; i++) {
      let x = 0;
      let bound = 0;
      const ai = i * k;
      for (let p = 0; p < k; p++) {
        const av = a.data[ai + p];
        x += av * br[p];
        bound += Math.abs(av) * brAbs[p];
      }
      let y = 0;
      const ci = i * m;
      for (let j = 0; j < m; j++) y += c.data[ci + j] * r[j];
      // Written so that NaN or Infinity in C fails the comparison.
      if (!(Math.abs(x - y) <= tol * bound + floor)) return false;
    }
  }
  return true;
}

/** out = M·v and outAbs = |M|·v for a non-negative v. */
function mulVec(mat: Float32Array, rows: number, cols: number, v: Float64Array, out: Float64Array, outAbs: Float64Array): void {
  for (let p = 0; p < rows; p++) {
    let s = 0;
    let sa = 0;
    const row = p * cols;
    for (let j = 0; j < cols; j++) {
      const x = mat[row + j] * v[j];
      s += x;
      sa += Math.abs(x);
    }
    out[p] = s;
    outAbs[p] = sa;
  }
}

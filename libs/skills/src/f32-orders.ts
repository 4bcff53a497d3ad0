/**
 * Honest f32 matrix products in the summation orders real backends use, for calibrating and testing
 * the verifiers (the reference's i-k-j order with one rounding per step is in matmul.ts):
 *  - 'ijk': one thread per cell summing p = 0..k-1, every product and sum rounded (a GPU without FMA);
 *  - 'reversed': the same from p = k-1 down to 0;
 *  - 'blocked': tiles of TILE terms summed separately, then the tile sums (a tiled GPU kernel);
 *  - 'pairwise': a balanced tree of sums (a reduction);
 *  - 'strided': LANES interleaved partial sums combined by a tree (a warp reduction).
 */
import type { DenseTensor } from '@swarm/contracts';
import type { MatmulDims } from './matmul';
import { mlpDims } from './mlp';

export type SummationOrder = 'ijk' | 'reversed' | 'blocked' | 'pairwise' | 'strided';
export const SUMMATION_ORDERS: readonly SummationOrder[] = Object.freeze(['ijk', 'reversed', 'blocked', 'pairwise', 'strided']);
const TILE = 16;
const LANES = 32;
// Bound once: per-term calls, and under jest's vm sandbox every lookup of a global costs ~0.5 µs.
const { exp, fround, log } = Math;

export function orderedMatmul(a: Float32Array, b: Float32Array, dims: MatmulDims, order: SummationOrder): Float32Array {
  const { n, k, m } = dims;
  const c = new Float32Array(n * m);
  const terms = new Float32Array(k);
  const lanes = new Float32Array(LANES);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      for (let p = 0; p < k; p++) terms[p] = a[i * k + p] * b[p * m + j];
      c[i * m + j] = sum(terms, order, lanes);
    }
  }
  return c;
}

/**
 * The mlp forward pass as a GPU computes it: every dot product (bias first, as the kernels add it)
 * in `order` with f32 products and sums, relu read from u, and an f32 softmax via log-sum-exp.
 * Returns y, u, z as the executor does.
 */
export function orderedMlp(inputs: readonly DenseTensor[], order: SummationOrder): DenseTensor[] {
  const [x, w1, b1, w2, b2] = inputs.map((t) => t.data);
  const { batch, inputs: I, hidden: H, outputs: O } = mlpDims(inputs);
  const u = new Float32Array(batch * H);
  const z = new Float32Array(batch * O);
  const y = new Float32Array(batch * O);
  const lanes = new Float32Array(LANES);
  const t1 = new Float32Array(I + 1);
  const t2 = new Float32Array(H + 1);
  for (let r = 0; r < batch; r++) {
    for (let j = 0; j < H; j++) {
      t1[0] = b1[j];
      for (let p = 0; p < I; p++) t1[p + 1] = x[r * I + p] * w1[p * H + j];
      u[r * H + j] = sum(t1, order, lanes);
    }
    for (let o = 0; o < O; o++) {
      t2[0] = b2[o];
      for (let j = 0; j < H; j++) t2[j + 1] = (u[r * H + j] > 0 ? u[r * H + j] : 0) * w2[j * O + o];
      z[r * O + o] = sum(t2, order, lanes);
    }
    let top = z[r * O];
    for (let o = 1; o < O; o++) if (z[r * O + o] > top) top = z[r * O + o];
    let s = 0;
    for (let o = 0; o < O; o++) s = fround(s + fround(exp(fround(z[r * O + o] - top))));
    const lse = fround(top + fround(log(s)));
    for (let o = 0; o < O; o++) y[r * O + o] = exp(fround(z[r * O + o] - lse));
  }
  return [
    { name: 'y', shape: [batch, O], data: y },
    { name: 'u', shape: [batch, H], data: u },
    { name: 'z', shape: [batch, O], data: z },
  ];
}

/** Σ terms in f32 in the given order; `terms` is overwritten by pairwise. */
function sum(terms: Float32Array, order: SummationOrder, lanes: Float32Array): number {
  const k = terms.length;
  let s = 0;
  switch (order) {
    case 'ijk':
      for (let p = 0; p < k; p++) s = fround(s + terms[p]);
      return s;
    case 'reversed':
      for (let p = k - 1; p >= 0; p--) s = fround(s + terms[p]);
      return s;
    case 'blocked':
      for (let p0 = 0; p0 < k; p0 += TILE) {
        let t = 0;
        for (let p = p0; p < p0 + TILE && p < k; p++) t = fround(t + terms[p]);
        s = fround(s + t);
      }
      return s;
    case 'pairwise': {
      let len = k;
      while (len > 1) {
        const half = len >> 1;
        for (let q = 0; q < half; q++) terms[q] = terms[2 * q] + terms[2 * q + 1];
        if (len & 1) terms[half] = terms[len - 1];
        len = half + (len & 1);
      }
      return terms[0];
    }
    case 'strided': {
      lanes.fill(0);
      for (let p = 0; p < k; p++) lanes[p % LANES] += terms[p];
      for (let len = LANES; len > 1; len >>= 1) for (let q = 0; q < len >> 1; q++) lanes[q] += lanes[q + (len >> 1)];
      return lanes[0];
    }
  }
}

/**
 * Agreement of two verified mlp results (agreement.ts), layer by layer, each layer against what two
 * honest forward passes can differ by there:
 *  - u = x·w1 + b1 shares its inputs: a product of in + 1 terms, bounded as matmul's;
 *  - z = relu(u)·w2 + b2 is computed by each replica from its own u: each one's rounding (from the
 *    norms of its own relu(u) rows), plus what the two u's differ by carried through w2, exactly
 *    bounded by ‖relu(u1)_r − relu(u2)_r‖₂·‖w2_o‖₂ (relu is 1-Lipschitz, Cauchy–Schwarz);
 *  - y: each verified y is within the softmax tolerance of softmax(its own z) (the verifier checks
 *    every element), and softmax moves each output by at most ½·max_o |Δz_o|: its Jacobian's row o
 *    sums to 2·y_o·(1 − y_o) ≤ ½ in absolute value, along any path between the two z's.
 */
import type { DenseTensor } from '@swarm/contracts';
import type { Agreement } from './agreement';
import type { DisputedRow, RowGap } from './agreement';
import { columnNorms, compareDots, disputedDotRows, mostDisputedRows, rowNorms, sameShapes } from './agreement';
import { compareRowToExact, exactDotRow } from './worst-case';
import type { SoftmaxRow } from './softmax-error';
import { softmaxRow, softmaxTolerance } from './softmax-error';

// Bound once: called per element, and under jest's vm sandbox every global lookup is slow.
const { abs, exp, max, sqrt } = Math;

/** relu of a row-major activation, as the verifier applies it ((v + |v|)/2 is exact). */
function relu(u: Float32Array): Float32Array {
  const h = new Float32Array(u.length);
  for (let i = 0; i < u.length; i++) h[i] = (u[i] + abs(u[i])) * 0.5;
  return h;
}

/** ‖h1_r − h2_r‖₂ per row. */
function rowDistances(h1: Float32Array, h2: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sq = 0;
    for (let i = r * cols, end = i + cols; i < end; i++) sq += (h1[i] - h2[i]) * (h1[i] - h2[i]);
    out[r] = sqrt(sq);
  }
  return out;
}

function compareSoftmax(y1: Float32Array, y2: Float32Array, z1: Float32Array, z2: Float32Array, batch: number, outputs: number): string | undefined {
  for (let r = 0; r < batch; r++) {
    const { past } = softmaxRowGap(y1, y2, z1, z2, r, outputs);
    if (past) {
      const at = r * outputs + past.col;
      return `y[${r},${past.col}] is ${y1[at]} against ${y2[at]}: ${past.diff} apart, more than the ${past.tol} two honest softmaxes can differ`;
    }
  }
  return undefined;
}

/** How far an honest softmax output may be from softmax of its own logit `z` in a row described by `row` (what the verifier checks). */
function honestSoftmaxError(row: SoftmaxRow, z: number): number {
  const arg = z - row.lse;
  return softmaxTolerance(row, arg, exp(arg));
}

/** Row `r` of y1 and y2 against what two honest softmaxes of z1 and z2 can differ by (RowGap, agreement.ts). */
function softmaxRowGap(y1: Float32Array, y2: Float32Array, z1: Float32Array, z2: Float32Array, r: number, outputs: number): RowGap {
  const z1r = z1.subarray(r * outputs, (r + 1) * outputs);
  const z2r = z2.subarray(r * outputs, (r + 1) * outputs);
  const row1 = softmaxRow(z1r);
  const row2 = softmaxRow(z2r);
  let zGap = 0;
  for (let o = 0; o < outputs; o++) zGap = max(zGap, abs(z1r[o] - z2r[o]));
  let excess = 0;
  let past: RowGap['past'];
  for (let o = 0; o < outputs; o++) {
    const tol = 0.5 * zGap + honestSoftmaxError(row1, z1r[o]) + honestSoftmaxError(row2, z2r[o]);
    const at = r * outputs + o;
    const diff = abs(y1[at] - y2[at]);
    if (!(diff <= tol)) past ??= { col: o, diff, tol };
    const ratio = diff / tol;
    if (!(ratio <= excess)) excess = Number.isNaN(ratio) ? Infinity : ratio;
  }
  return past ? { excess, past } : { excess };
}

/** `first` and `second`: y, u, z of two results that each passed verification. */
export function mlpAgreement(inputs: readonly DenseTensor[], first: readonly DenseTensor[], second: readonly DenseTensor[]): Agreement {
  const shapes = sameShapes(first, second);
  if (shapes) return { ok: false, detail: shapes };
  const [x, w1, b1, w2, b2] = inputs;
  const [batch, width] = x.shape;
  const [hidden, outputs] = w2.shape;
  const [y1, u1, z1] = first.map((t) => t.data);
  const [y2, u2, z2] = second.map((t) => t.data);
  const xNorms = rowNorms(x.data, batch, width, 1);
  const far =
    compareDots('u', u1, u2, { rows: batch, cols: hidden, terms: width + 1 }, { rows1: xNorms, rows2: xNorms, cols: columnNorms(w1.data, width, hidden, b1.data) }) ??
    compareLogits(u1, u2, z1, z2, w2.data, b2.data, batch, hidden, outputs) ??
    compareSoftmax(y1, y2, z1, z2, batch, outputs);
  if (far) return { ok: false, detail: far };
  return { ok: true, detail: `u, z and y agree within two honest f32 forward passes (${batch} row(s))` };
}

function compareLogits(u1: Float32Array, u2: Float32Array, z1: Float32Array, z2: Float32Array, w2: Float32Array, b2: Float32Array, batch: number, hidden: number, outputs: number) {
  const h1 = relu(u1);
  const h2 = relu(u2);
  return compareDots(
    'z',
    z1,
    z2,
    { rows: batch, cols: outputs, terms: hidden + 1 },
    {
      rows1: rowNorms(h1, batch, hidden, 1),
      rows2: rowNorms(h2, batch, hidden, 1),
      cols: columnNorms(w2, hidden, outputs, b2),
      carried: rowDistances(h1, h2, batch, hidden),
      carriedCols: columnNorms(w2, hidden, outputs),
    },
  );
}

/**
 * mlp's referee (SkillSpec.referee): the first rows where `first` and `second` disagree in u, z or y
 * (at most REFEREE_ROWS), computed exactly (f64) from x, and each result's row held to the worst an
 * honest forward pass can be off there: u as a product (agreement.ts); z its own worst rounding
 * (from its own relu(u) row) plus that row's distance from the exact one carried through w2; y its
 * softmax tolerance plus half its z row's largest gap from the exact z. A dispute may leave both
 * sides within their bounds, and then neither is refuted.
 */
export function mlpReferee(inputs: readonly DenseTensor[], first: readonly DenseTensor[], second: readonly DenseTensor[], results: readonly (readonly DenseTensor[])[]): string[] {
  const [x, w1, b1, w2, b2] = inputs;
  const [batch, width] = x.shape;
  const [hidden, outputs] = w2.shape;
  const xNorms = rowNorms(x.data, batch, width, 1);
  const w1Cols = columnNorms(w1.data, width, hidden, b1.data);
  const w2Cols = columnNorms(w2.data, hidden, outputs, b2.data);
  const w2Carried = columnNorms(w2.data, hidden, outputs);
  const rows = sameShapes(first, second) === undefined ? disputedMlpRows(first, second, { batch, width, hidden, outputs, xNorms, w1Cols, w2Cols, w2Carried }) : [];
  const exact = rows.map((r) => {
    const u = exactDotRow(x.data, width, r, w1.data, hidden, b1.data);
    const h = u.exact.map((v) => max(v, 0));
    const z = exactDotRow(h, hidden, 0, w2.data, outputs, b2.data).exact;
    let top = -Infinity;
    for (const v of z) top = max(top, v);
    let sum = 0;
    for (const v of z) sum += exp(v - top);
    return { r, u, h, z, y: z.map((v) => exp(v - top) / sum) };
  });
  return results.map((result) => {
    const shapes = sameShapes(first, result);
    if (shapes) return shapes;
    const [y, u, z] = result.map((t) => t.data);
    for (const e of exact) {
      const far = compareRowToExact('u', u, e.r, e.u, { terms: width + 1 });
      if (far) return far;
      // z: its own worst rounding (from its own relu(u) row), plus what its u's error carries through w2.
      const h = relu(u.subarray(e.r * hidden, (e.r + 1) * hidden));
      let carry = 0;
      for (let i = 0; i < hidden; i++) carry += (h[i] - e.h[i]) * (h[i] - e.h[i]);
      const { magnitude, flushable } = exactDotRow(h, hidden, 0, w2.data, outputs, b2.data);
      const farZ = compareRowToExact('z', z, e.r, { exact: e.z, magnitude, flushable }, { terms: hidden + 1, carry: sqrt(carry), carriedCols: w2Carried });
      if (farZ) return farZ;
      const zr = z.subarray(e.r * outputs, (e.r + 1) * outputs);
      const row = softmaxRow(zr);
      let zGap = 0;
      for (let o = 0; o < outputs; o++) zGap = max(zGap, abs(zr[o] - e.z[o]));
      for (let o = 0; o < outputs; o++) {
        const tol = 0.5 * zGap + honestSoftmaxError(row, zr[o]);
        const got = y[e.r * outputs + o];
        if (!(abs(got - e.y[o]) <= tol)) return `y[${e.r},${o}] is ${got}, ${abs(got - e.y[o])} from the exact ${e.y[o]}: more than the ${tol} one honest softmax can be`;
      }
    }
    return '';
  });
}

/** Rows where two results disagree in u, z or y, the most disputed first, at most REFEREE_ROWS (mostDisputedRows). */
function disputedMlpRows(
  first: readonly DenseTensor[],
  second: readonly DenseTensor[],
  d: { batch: number; width: number; hidden: number; outputs: number; xNorms: Float64Array; w1Cols: Float64Array; w2Cols: Float64Array; w2Carried: Float64Array },
): number[] {
  const [y1, u1, z1] = first.map((t) => t.data);
  const [y2, u2, z2] = second.map((t) => t.data);
  const h1 = relu(u1);
  const h2 = relu(u2);
  const uRows = disputedDotRows(u1, u2, { rows: d.batch, cols: d.hidden, terms: d.width + 1 }, { rows1: d.xNorms, rows2: d.xNorms, cols: d.w1Cols });
  const zRows = disputedDotRows(
    z1,
    z2,
    { rows: d.batch, cols: d.outputs, terms: d.hidden + 1 },
    {
      rows1: rowNorms(h1, d.batch, d.hidden, 1),
      rows2: rowNorms(h2, d.batch, d.hidden, 1),
      cols: d.w2Cols,
      carried: rowDistances(h1, h2, d.batch, d.hidden),
      carriedCols: d.w2Carried,
    },
  );
  const yRows: DisputedRow[] = [];
  for (let r = 0; r < d.batch; r++) {
    const { excess, past } = softmaxRowGap(y1, y2, z1, z2, r, d.outputs);
    if (past) yRows.push({ row: r, excess });
  }
  return mostDisputedRows(uRows, zRows, yRows);
}

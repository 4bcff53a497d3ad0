/** matmul: c = a·b for dense f32 matrices, verified by Freivalds' algorithm per row block (freivalds.ts). */
import type { DenseTensor } from '@swarm/contracts';
import { columnNorms, compareDots, disputedDotRows, mostDisputedRows, rowNorms, sameShapes } from './agreement';
import { compareRowToExact, exactDotRow } from './worst-case';
import { checkProduct, FREIVALDS_MAX_BLOCK, FREIVALDS_ROUNDS } from './freivalds';
import type { InputDecl } from './input-checks';
import { checkElementLimit, checkFinite, checkInputs, checkMagnitude, checkOutputShapes, F32_SAFE_MAX, invalid, productBound, rowAbsMax } from './input-checks';
import type { SkillKernel } from './skill-kernel';
import type { SkillDemo, SkillSpec } from './skill-spec';

const NAME = 'matmul';
const INPUTS: readonly InputDecl[] = [
  { name: 'a', rank: 2 },
  { name: 'b', rank: 2 },
];
const INPUT_SIGNATURE = 'a:[n,k] b:[k,m]';
const METHOD = 'freivalds';
/** 1 credit per million multiply-adds' worth of flops: the unit the other prices are set against. */
export const MATMUL_PRICE_PER_MWORK = 1n;

export interface MatmulDims {
  readonly n: number;
  readonly k: number;
  readonly m: number;
}

export function matmulDims(inputs: readonly DenseTensor[]): MatmulDims {
  const [a, b] = inputs;
  return { n: a.shape[0], k: a.shape[1], m: b.shape[1] };
}

/**
 * Plain-JS c = a·b in i-k-j order: the inner loop walks a row of b and a row of c contiguously,
 * which is several times faster than the textbook i-j-k order (column walks of b miss the cache).
 */
export function referenceMatmul(a: Float32Array, b: Float32Array, dims: MatmulDims): Float32Array {
  const { n, k, m } = dims;
  const c = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    const ci = i * m;
    const ai = i * k;
    for (let p = 0; p < k; p++) {
      const av = a[ai + p];
      const bp = p * m;
      for (let j = 0; j < m; j++) c[ci + j] += av * b[bp + j];
    }
  }
  return c;
}

function outputShapes(inputs: readonly DenseTensor[]) {
  const { n, m } = matmulDims(inputs);
  return [{ name: 'c', shape: [n, m] }];
}

/** c[i][j] = Σ_p a[i][p]·b[p][j]; threads run along j, so b is read row-wise (SIMD-friendly). */
const MATMUL_SOURCE = `function matmul(a, b) {
  let sum = 0;
  for (let p = 0; p < this.constants.k; p++) {
    sum += a[this.thread.y * this.constants.k + p] * b[p * this.constants.m + this.thread.x];
  }
  return sum;
}`;

const kernel: SkillKernel = {
  compile(kernels, [[n, k], [, m]]) {
    const mm = kernels.kernel(MATMUL_SOURCE, { output: [m, n], constants: { k, m }, loopMaxIterations: k });
    return async ([a, b]) => [{ name: 'c', shape: [n, m], data: await kernels.read(await mm(a, b), n * m) }];
  },
};

const demo: SkillDemo = {
  sizeMeaning: 'n×n matrices',
  exampleSize: 256,
  tensors: (n) => [
    { name: 'a', shape: [n, n], scale: 1 },
    { name: 'b', shape: [n, n], scale: 1 },
  ],
  testShapes: [
    [
      [1, 1],
      [1, 1],
    ],
    [
      [3, 5],
      [5, 7],
    ],
    [
      [16, 16],
      [16, 16],
    ],
    [
      [64, 33],
      [33, 50],
    ],
    [
      [200, 128],
      [128, 96],
    ],
    [
      [700, 700],
      [700, 700],
    ],
  ],
};

export const matmul: SkillSpec<typeof NAME> = Object.freeze({
  name: NAME,
  description: 'Dense f32 matrix product c = a·b (row-major).',
  inputSignature: INPUT_SIGNATURE,
  outputSignature: 'c:[n,m]',
  verification: METHOD,
  verificationBound:
    `a result c with any element off by more than τ is accepted with probability ≤ 2^-${FREIVALDS_ROUNDS}; ` +
    `τ = 10·u·√(k·‖a·b‖₂² + max(k·‖c‖₂², Σ_p (s_p·v)²)) over the element's row block of ≤ ${FREIVALDS_MAX_BLOCK} columns, ` +
    "s_p its partial sums along k (≤ 5.3e-4 of c's rms at 700×700; 3.8e-3 when each row's products are sorted by sign)",
  verificationCost:
    `${FREIVALDS_ROUNDS} rounds of ±1 projections, ${FREIVALDS_ROUNDS + 1}·(2 + blocks)/n of the product's multiply-adds ` +
    '(12% at 700×700, 8% at 1000×1000; inputs whose partial sums drift add (4 + blocks)/n); products below ~60 wide are recomputed instead',
  pricePerMWork: MATMUL_PRICE_PER_MWORK,

  validate(inputs, limits) {
    checkInputs(NAME, INPUT_SIGNATURE, INPUTS, inputs, limits);
    const [a, b] = inputs;
    if (a.shape[1] !== b.shape[0]) {
      throw invalid(`matmul needs ${INPUT_SIGNATURE} with the same k, got a:[${a.shape.join(',')}] b:[${b.shape.join(',')}]`);
    }
    const { n, k, m } = matmulDims(inputs);
    checkElementLimit(NAME, 'output c', n * m, limits);
    const [maxA, maxB] = checkFinite(NAME, inputs);
    // Every partial sum of c's elements, in any order, is at most k·max|a|·max|b|; only past that is
    // the tighter bound, Σ_p |a_ip|·max_j |b_pj| of the worst row, worth its pass over a and b.
    if (!(k * maxA * maxB <= F32_SAFE_MAX)) checkMagnitude(NAME, 'max over rows of Σ_p |a_ip|·max_j |b_pj|', productBound(a.data, n, k, rowAbsMax(b.data, k, m)));
  },

  outputShapes,

  work(inputs) {
    const { n, k, m } = matmulDims(inputs);
    return 2 * n * k * m;
  },

  verify(inputs, outputs, random, options) {
    // checkProduct rejects NaN and ±Infinity in c as it reads it.
    const bad = checkOutputShapes(METHOD, outputShapes(inputs), outputs);
    if (bad) return bad;
    const { n, k, m } = matmulDims(inputs);
    const check = checkProduct(
      { rows: n, cols: k, data: inputs[0].data },
      { rows: k, cols: m, data: inputs[1].data },
      { rows: n, cols: m, data: outputs[0].data },
      random,
      options,
    );
    return {
      ok: check.ok,
      refuted: check.refuted,
      method: METHOD,
      detail: check.ok ? check.detail : `c differs from a·b by more than the verifier's f32 tolerance τ: ${check.detail}`,
    };
  },

  agree(inputs, first, second) {
    const bad = checkOutputShapes(METHOD, outputShapes(inputs), first)?.detail ?? sameShapes(first, second);
    if (bad) return { ok: false, detail: bad };
    const { n, k, m } = matmulDims(inputs);
    // Both results multiply the same a and b: one set of norms bounds both (agreement.ts).
    const aRows = rowNorms(inputs[0].data, n, k);
    const far = compareDots('c', first[0].data, second[0].data, { rows: n, cols: m, terms: k }, { rows1: aRows, rows2: aRows, cols: columnNorms(inputs[1].data, k, m) });
    return far ? { ok: false, detail: far } : { ok: true, detail: `all ${n * m} element(s) of c within two honest f32 products` };
  },

  referee(inputs, first, second, results) {
    const shapes = outputShapes(inputs);
    const badOf = (r: readonly DenseTensor[]) => checkOutputShapes(METHOD, shapes, r)?.detail;
    const { n, k, m } = matmulDims(inputs);
    const [a, b] = [inputs[0].data, inputs[1].data];
    const aRows = rowNorms(a, n, k);
    const bCols = columnNorms(b, k, m);
    const rows =
      badOf(first) || badOf(second)
        ? []
        : mostDisputedRows(disputedDotRows(first[0].data, second[0].data, { rows: n, cols: m, terms: k }, { rows1: aRows, rows2: aRows, cols: bCols }));
    const exact = rows.map((i) => exactDotRow(a, k, i, b, m));
    return results.map((r) => {
      const bad = badOf(r);
      if (bad) return bad;
      for (let at = 0; at < rows.length; at++) {
        const far = compareRowToExact('c', r[0].data, rows[at], exact[at], { terms: k });
        if (far) return far;
      }
      return '';
    });
  },

  reference(inputs) {
    const dims = matmulDims(inputs);
    return [{ name: 'c', shape: [dims.n, dims.m], data: referenceMatmul(inputs[0].data, inputs[1].data, dims) }];
  },

  kernel,
  demo,
} satisfies SkillSpec<typeof NAME>);

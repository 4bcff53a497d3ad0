/** matmul: c = a·b for dense f32 matrices, verified by Freivalds' algorithm. */
import type { DenseTensor } from '@swarm/contracts';
import { freivalds, FREIVALDS_ROUNDS } from './freivalds';
import { checkElementLimit, checkFinite, checkInputs, checkOutputShapes, InputDecl, invalid } from './input-checks';
import type { SkillSpec } from './skill-spec';

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

export const matmul: SkillSpec = Object.freeze({
  name: NAME,
  description: 'Dense f32 matrix product c = a·b (row-major).',
  inputSignature: INPUT_SIGNATURE,
  outputSignature: 'c:[n,m]',
  verification: METHOD,
  pricePerMWork: MATMUL_PRICE_PER_MWORK,

  validate(inputs, limits) {
    checkInputs(NAME, INPUT_SIGNATURE, INPUTS, inputs, limits);
    const [a, b] = inputs;
    if (a.shape[1] !== b.shape[0]) {
      throw invalid(`matmul needs ${INPUT_SIGNATURE} with the same k, got a:[${a.shape.join(',')}] b:[${b.shape.join(',')}]`);
    }
    const { n, m } = matmulDims(inputs);
    checkElementLimit(NAME, 'output c', n * m, limits);
    checkFinite(NAME, inputs);
  },

  outputShapes,

  work(inputs) {
    const { n, k, m } = matmulDims(inputs);
    return 2 * n * k * m;
  },

  verify(inputs, outputs, random) {
    const bad = checkOutputShapes(METHOD, outputShapes(inputs), outputs);
    if (bad) return bad;
    const { n, k, m } = matmulDims(inputs);
    const ok = freivalds(
      { rows: n, cols: k, data: inputs[0].data },
      { rows: k, cols: m, data: inputs[1].data },
      { rows: n, cols: m, data: outputs[0].data },
      FREIVALDS_ROUNDS,
      random,
    );
    return ok
      ? { ok, method: METHOD, detail: `${FREIVALDS_ROUNDS} rounds passed (a wrong product passes with probability < 2^-${FREIVALDS_ROUNDS})` }
      : { ok, method: METHOD, detail: `c differs from a·b beyond f32 rounding in at least one row` };
  },

  reference(inputs) {
    const dims = matmulDims(inputs);
    return [{ name: 'c', shape: [dims.n, dims.m], data: referenceMatmul(inputs[0].data, inputs[1].data, dims) }];
  },
} satisfies SkillSpec);

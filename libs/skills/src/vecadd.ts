/** vecadd: c = a + b elementwise, verified by recomputing a random sample of positions. */
import type { DenseTensor } from '@swarm/contracts';
import { F32_MIN_NORMAL, F32_UNIT_ROUNDOFF } from './f32-error';
import { checkFinite, checkInputs, checkOutputShapes, InputDecl, invalid } from './input-checks';
import { sampleIndices } from './sample-indices';
import type { SkillSpec } from './skill-spec';

const NAME = 'vecadd';
const INPUTS: readonly InputDecl[] = [
  { name: 'a', rank: 1 },
  { name: 'b', rank: 1 },
];
const INPUT_SIGNATURE = 'a:[n] b:[n]';
const METHOD = 'sampled-recompute';
/** Positions recomputed per check; vectors this short or shorter are checked in full. */
export const VECADD_SAMPLES = 256;
/** Memory-bound: one flop per element moves 12 bytes, so each unit is priced above a matmul flop. */
export const VECADD_PRICE_PER_MWORK = 4n;

export function referenceVecadd(a: Float32Array, b: Float32Array): Float32Array {
  const c = new Float32Array(a.length);
  for (let i = 0; i < c.length; i++) c[i] = a[i] + b[i];
  return c;
}

function outputShapes(inputs: readonly DenseTensor[]) {
  return [{ name: 'c', shape: [inputs[0].shape[0]] }];
}

export const vecadd: SkillSpec = Object.freeze({
  name: NAME,
  description: 'Elementwise f32 vector sum c = a + b.',
  inputSignature: INPUT_SIGNATURE,
  outputSignature: 'c:[n]',
  verification: METHOD,
  pricePerMWork: VECADD_PRICE_PER_MWORK,

  validate(inputs, limits) {
    checkInputs(NAME, INPUT_SIGNATURE, INPUTS, inputs, limits);
    const [a, b] = inputs;
    if (a.shape[0] !== b.shape[0]) throw invalid(`vecadd needs ${INPUT_SIGNATURE} of one length, got a:[${a.shape[0]}] b:[${b.shape[0]}]`);
    checkFinite(NAME, inputs);
  },

  outputShapes,

  work(inputs) {
    return inputs[0].shape[0];
  },

  verify(inputs, outputs, random) {
    const bad = checkOutputShapes(METHOD, outputShapes(inputs), outputs);
    if (bad) return bad;
    const [a, b] = [inputs[0].data, inputs[1].data];
    const c = outputs[0].data;
    const positions = sampleIndices(c.length, VECADD_SAMPLES, random);
    for (const i of positions) {
      // a[i] + b[i] is exact in f64; a correct f32 sum is within one rounding of it.
      const exact = a[i] + b[i];
      if (!(Math.abs(c[i] - exact) <= F32_UNIT_ROUNDOFF * Math.abs(exact) + F32_MIN_NORMAL)) {
        return { ok: false, method: METHOD, detail: `c[${i}] = ${c[i]} but a[${i}] + b[${i}] = ${exact}` };
      }
    }
    return { ok: true, method: METHOD, detail: `recomputed ${positions.length} of ${c.length} positions` };
  },

  reference(inputs) {
    return [{ name: 'c', shape: [inputs[0].shape[0]], data: referenceVecadd(inputs[0].data, inputs[1].data) }];
  },
} satisfies SkillSpec);

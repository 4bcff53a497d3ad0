/**
 * vecadd: c = a + b elementwise, verified in full. A memory-bound skill: checking every element is
 * one add and compare per value, about what computing it costs (`npm run bench -- --verify`). Any
 * sound check must read every element of c; sampling (which let 18 of 40 wrong results through)
 * does not, and a hash-committed redundant execution runs the whole task again on a second executor
 * and still compares, so the full check is both the cheapest sound option and exact.
 */
import type { DenseTensor } from '@swarm/contracts';
import { F32_MIN_NORMAL, F32_UNIT_ROUNDOFF } from './f32-error';
import type { InputDecl } from './input-checks';
import { checkFinite, checkInputs, checkMagnitude, checkOutputShapes, F32_SAFE_MAX, invalid } from './input-checks';
import { REFEREE_ROWS, sameShapes } from './agreement';
import type { SkillKernel } from './skill-kernel';
import type { SkillDemo, SkillSpec } from './skill-spec';

const NAME = 'vecadd';
const INPUTS: readonly InputDecl[] = [
  { name: 'a', rank: 1 },
  { name: 'b', rank: 1 },
];
const INPUT_SIGNATURE = 'a:[n] b:[n]';
const METHOD = 'full-check';
/**
 * A correctly rounded f32 sum is within u·|a + b| of the exact one; twice that leaves room for a
 * backend that does not round to nearest, and is still 10^4 times below a 0.1% error.
 */
const VECADD_ROUNDINGS = 2;
/** Subnormal inputs or sums may be flushed to zero by a GPU: each of a, b and c once. */
const VECADD_FLUSH_FLOOR = 3 * F32_MIN_NORMAL;

/** How far one honest f32 sum may be from the exact one, `exact` (verify's bound; agree allows it twice). */
function honestSumError(exact: number): number {
  return VECADD_ROUNDINGS * F32_UNIT_ROUNDOFF * abs(exact) + VECADD_FLUSH_FLOOR;
}
// Bound once: abs is branch-free where `x < 0 ? -x : x` mispredicts on random signs (3× slower over
// a vector), and looking Math up per element is slow under jest's vm sandbox.
const { abs } = Math;
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

const VECADD_SOURCE = `function vecadd(a, b) {
  return a[this.thread.x] + b[this.thread.x];
}`;

const kernel: SkillKernel = {
  compile(kernels, [[n]]) {
    const add = kernels.kernel(VECADD_SOURCE, { output: [n] });
    return async ([a, b]) => [{ name: 'c', shape: [n], data: await kernels.read(await add(a, b), n) }];
  },
};

const demo: SkillDemo = {
  sizeMeaning: 'vectors of length n',
  exampleSize: 100_000,
  tensors: (n) => [
    { name: 'a', shape: [n], scale: 1 },
    { name: 'b', shape: [n], scale: 1 },
  ],
  testShapes: [
    [[1], [1]],
    [[33], [33]],
    [[4_096], [4_096]],
    [[100_000], [100_000]],
    [[1_000_000], [1_000_000]],
  ],
};

export const vecadd: SkillSpec<typeof NAME> = Object.freeze({
  name: NAME,
  description: 'Elementwise f32 vector sum c = a + b.',
  inputSignature: INPUT_SIGNATURE,
  outputSignature: 'c:[n]',
  verification: METHOD,
  verificationBound: 'a result c with any element off by more than 2u·|a + b| is never accepted (every element is recomputed)',
  verificationCost: 'one add and compare per element: about what computing the sum costs (5–10 ms per million elements), the least a sound check can read',
  pricePerMWork: VECADD_PRICE_PER_MWORK,

  validate(inputs, limits) {
    checkInputs(NAME, INPUT_SIGNATURE, INPUTS, inputs, limits);
    const [a, b] = inputs;
    if (a.shape[0] !== b.shape[0]) throw invalid(`vecadd needs ${INPUT_SIGNATURE} of one length, got a:[${a.shape[0]}] b:[${b.shape[0]}]`);
    const [maxA, maxB] = checkFinite(NAME, inputs);
    // Only past the cheap bound is the exact one, max |a_i + b_i| in f64, worth its pass.
    if (!(maxA + maxB <= F32_SAFE_MAX)) checkMagnitude(NAME, 'max |a_i + b_i|', largestSum(a.data, b.data));
  },

  outputShapes,

  work(inputs) {
    return inputs[0].shape[0];
  },

  verify(inputs, outputs) {
    const bad = checkOutputShapes(METHOD, outputShapes(inputs), outputs);
    if (bad) return bad;
    const a = inputs[0].data;
    const b = inputs[1].data;
    const c = outputs[0].data;
    for (let i = 0; i < c.length; i++) {
      // a[i] + b[i] in f64 is exact, or within 2^-53 of it when the exponents are far apart; NaN and
      // ±Infinity in c fail the comparison.
      const exact = a[i] + b[i];
      if (!(abs(c[i] - exact) <= honestSumError(exact))) {
        return { ok: false, refuted: true, method: METHOD, detail: `c[${i}] = ${c[i]} but a[${i}] + b[${i}] = ${exact}` };
      }
    }
    return { ok: true, refuted: false, method: METHOD, detail: `checked all ${c.length} element(s)` };
  },

  agree(inputs, first, second) {
    const bad = checkOutputShapes(METHOD, outputShapes(inputs), first)?.detail ?? sameShapes(first, second);
    if (bad) return { ok: false, detail: bad };
    const a = inputs[0].data;
    const b = inputs[1].data;
    const c1 = first[0].data;
    const c2 = second[0].data;
    for (let i = 0; i < c1.length; i++) {
      // Each honest sum is within the verifier's bound of the exact a + b, so two are within twice it.
      const tol = 2 * honestSumError(a[i] + b[i]);
      if (!(abs(c1[i] - c2[i]) <= tol)) return { ok: false, detail: `c[${i}] is ${c1[i]} against ${c2[i]}, more than the ${tol} two honest f32 sums can differ` };
    }
    return { ok: true, detail: `all ${c1.length} element(s) of c within two honest f32 sums` };
  },

  referee(inputs, first, second, results) {
    // Verification already holds every element to one honest sum's bound of the exact a + b, so two
    // verified results always agree; a dispute is judged all the same, element by element.
    const shapes = outputShapes(inputs);
    const badOf = (r: readonly DenseTensor[]) => checkOutputShapes(METHOD, shapes, r)?.detail;
    const a = inputs[0].data;
    const b = inputs[1].data;
    const tolAt = (i: number) => honestSumError(a[i] + b[i]);
    const disputed: number[] = [];
    if (!badOf(first) && !badOf(second)) {
      const [c1, c2] = [first[0].data, second[0].data];
      for (let i = 0; i < c1.length && disputed.length < REFEREE_ROWS; i++) if (!(abs(c1[i] - c2[i]) <= 2 * tolAt(i))) disputed.push(i);
    }
    return results.map((r) => {
      const bad = badOf(r);
      if (bad) return bad;
      const i = disputed.find((at) => !(abs(r[0].data[at] - (a[at] + b[at])) <= tolAt(at)));
      return i === undefined ? '' : `c[${i}] is ${r[0].data[i]}, more than one honest f32 sum from the exact ${a[i] + b[i]}`;
    });
  },

  reference(inputs) {
    return [{ name: 'c', shape: [inputs[0].shape[0]], data: referenceVecadd(inputs[0].data, inputs[1].data) }];
  },

  kernel,
  demo,
} satisfies SkillSpec<typeof NAME>);

function largestSum(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i] + b[i];
    const abs = v < 0 ? -v : v;
    if (abs > max) max = abs;
  }
  return max;
}

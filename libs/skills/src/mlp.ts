/**
 * mlp: an inference-shaped skill, the forward pass of a 2-layer perceptron classifier,
 * y = softmax(relu(x·w1 + b1)·w2 + b2) per row. Verified by the softmax invariants on every row
 * (each in [0,1], each row sums to 1) plus an f64 recomputation of a random sample of rows.
 */
import type { DenseTensor } from '@swarm/contracts';
import { F32_UNIT_ROUNDOFF, f32Gamma } from './f32-error';
import { checkElementLimit, checkFinite, checkInputs, checkOutputShapes, InputDecl, invalid } from './input-checks';
import { sampleIndices } from './sample-indices';
import type { SkillSpec } from './skill-spec';

const NAME = 'mlp';
const INPUTS: readonly InputDecl[] = [
  { name: 'x', rank: 2 },
  { name: 'w1', rank: 2 },
  { name: 'b1', rank: 1 },
  { name: 'w2', rank: 2 },
  { name: 'b2', rank: 1 },
];
const INPUT_SIGNATURE = 'x:[batch,in] w1:[in,hidden] b1:[hidden] w2:[hidden,out] b2:[out]';
const METHOD = 'softmax-invariants+sampled-rows';
/** Rows recomputed per check; batches this small or smaller are recomputed in full. */
export const MLP_SAMPLE_ROWS = 8;
/** Priced above matmul: three dependent kernels and an exp per output. */
export const MLP_PRICE_PER_MWORK = 2n;
/**
 * exp and the division in f32 on GPU backends are a few ulp, not correctly rounded; probabilities
 * are ≤ 1, so this absolute slack covers them with room to spare.
 */
const SOFTMAX_ROUNDING = 1e-5;
/** Slack over the f32 logit bound for the f64 arithmetic of the check itself. */
const TOLERANCE_SAFETY = 2;

export interface MlpDims {
  readonly batch: number;
  readonly inputs: number;
  readonly hidden: number;
  readonly outputs: number;
}

export function mlpDims(inputs: readonly DenseTensor[]): MlpDims {
  const [x, w1, , w2] = inputs;
  return { batch: x.shape[0], inputs: x.shape[1], hidden: w1.shape[1], outputs: w2.shape[1] };
}

/**
 * Forward pass of one row in f64 into `probs`. With `withBound` it also returns the largest error a
 * correct f32 implementation could have in any logit: γ(in+1) on each hidden pre-activation
 * (relu is 1-Lipschitz) carried through |w2|, plus γ(hidden+1) on the second layer.
 */
type RowForward = (row: number, probs: Float64Array, withBound: boolean) => number;

function rowForward(inputs: readonly DenseTensor[]): RowForward {
  const [x, w1, b1, w2, b2] = inputs.map((t) => t.data);
  const { inputs: I, hidden: H, outputs: O } = mlpDims(inputs);
  const h = new Float64Array(H);
  const hAbs = new Float64Array(H);
  const z = new Float64Array(O);
  const zAbs = new Float64Array(O);
  const zProp = new Float64Array(O);
  const gammaIn = f32Gamma(I + 1);
  const gammaHidden = f32Gamma(H + 1);
  return (row, probs, withBound) => {
    const xi = row * I;
    for (let j = 0; j < H; j++) {
      h[j] = b1[j];
      hAbs[j] = Math.abs(b1[j]);
    }
    // i-k-j order: the inner loops walk rows of w1 and w2 contiguously.
    for (let p = 0; p < I; p++) {
      const xv = x[xi + p];
      const base = p * H;
      for (let j = 0; j < H; j++) h[j] += xv * w1[base + j];
      if (withBound) {
        const ax = Math.abs(xv);
        for (let j = 0; j < H; j++) hAbs[j] += ax * Math.abs(w1[base + j]);
      }
    }
    for (let o = 0; o < O; o++) {
      z[o] = b2[o];
      zAbs[o] = Math.abs(b2[o]);
      zProp[o] = 0;
    }
    for (let j = 0; j < H; j++) {
      const hv = h[j] > 0 ? h[j] : 0;
      const base = j * O;
      if (hv !== 0) for (let o = 0; o < O; o++) z[o] += hv * w2[base + o];
      if (withBound) {
        const ha = hAbs[j];
        for (let o = 0; o < O; o++) {
          const aw = Math.abs(w2[base + o]);
          zAbs[o] += hv * aw;
          zProp[o] += ha * aw;
        }
      }
    }
    softmaxInto(z, probs);
    if (!withBound) return 0;
    let worst = 0;
    for (let o = 0; o < O; o++) {
      const err = gammaHidden * (zAbs[o] + gammaIn * zProp[o]) + gammaIn * zProp[o];
      if (err > worst) worst = err;
    }
    return worst;
  };
}

function softmaxInto(z: Float64Array, probs: Float64Array): void {
  let max = -Infinity;
  for (let o = 0; o < z.length; o++) if (z[o] > max) max = z[o];
  let sum = 0;
  for (let o = 0; o < z.length; o++) {
    probs[o] = Math.exp(z[o] - max);
    sum += probs[o];
  }
  for (let o = 0; o < z.length; o++) probs[o] /= sum;
}

export function referenceMlp(inputs: readonly DenseTensor[]): Float32Array {
  const { batch, outputs } = mlpDims(inputs);
  const y = new Float32Array(batch * outputs);
  const forward = rowForward(inputs);
  const probs = new Float64Array(outputs);
  for (let row = 0; row < batch; row++) {
    forward(row, probs, false);
    y.set(probs, row * outputs);
  }
  return y;
}

function outputShapes(inputs: readonly DenseTensor[]) {
  const { batch, outputs } = mlpDims(inputs);
  return [{ name: 'y', shape: [batch, outputs] }];
}

function checkSoftmaxRows(y: Float32Array, d: MlpDims): string | undefined {
  // Each y is rounded to f32 once after a normalisation that makes the row sum 1 exactly in real arithmetic.
  const sumTolerance = 1e-4 + 4 * d.outputs * F32_UNIT_ROUNDOFF;
  for (let row = 0; row < d.batch; row++) {
    let sum = 0;
    for (let o = 0; o < d.outputs; o++) {
      const v = y[row * d.outputs + o];
      if (!(v >= 0 && v <= 1)) return `y[${row},${o}] = ${v} is not a probability`;
      sum += v;
    }
    if (!(Math.abs(sum - 1) <= sumTolerance)) return `row ${row} sums to ${sum}, not 1`;
  }
  return undefined;
}

export const mlp: SkillSpec = Object.freeze({
  name: NAME,
  description: '2-layer perceptron forward pass: softmax(relu(x·w1 + b1)·w2 + b2), one distribution per row of x.',
  inputSignature: INPUT_SIGNATURE,
  outputSignature: 'y:[batch,out]',
  verification: METHOD,
  pricePerMWork: MLP_PRICE_PER_MWORK,

  validate(inputs, limits) {
    checkInputs(NAME, INPUT_SIGNATURE, INPUTS, inputs, limits);
    const [x, w1, b1, w2, b2] = inputs.map((t) => t.shape);
    const mismatch =
      (x[1] !== w1[0] && `x:[batch,${x[1]}] and w1:[${w1[0]},hidden] disagree on in`) ||
      (b1[0] !== w1[1] && `b1:[${b1[0]}] and w1:[in,${w1[1]}] disagree on hidden`) ||
      (w2[0] !== w1[1] && `w2:[${w2[0]},out] and w1:[in,${w1[1]}] disagree on hidden`) ||
      (b2[0] !== w2[1] && `b2:[${b2[0]}] and w2:[hidden,${w2[1]}] disagree on out`);
    if (mismatch) throw invalid(`mlp needs ${INPUT_SIGNATURE}: ${mismatch}`);
    const d = mlpDims(inputs);
    checkElementLimit(NAME, 'hidden activations', d.batch * d.hidden, limits);
    checkElementLimit(NAME, 'output y', d.batch * d.outputs, limits);
    checkFinite(NAME, inputs);
  },

  outputShapes,

  work(inputs) {
    const { batch, inputs: I, hidden: H, outputs: O } = mlpDims(inputs);
    // Two multiply-add layers, plus relu per hidden unit and max/exp/sum/divide per output.
    return 2 * batch * (I * H + H * O) + batch * (H + 4 * O);
  },

  verify(inputs, outputs, random) {
    const bad = checkOutputShapes(METHOD, outputShapes(inputs), outputs);
    if (bad) return bad;
    const d = mlpDims(inputs);
    const y = outputs[0].data;
    const invariant = checkSoftmaxRows(y, d);
    if (invariant) return { ok: false, method: METHOD, detail: invariant };
    const forward = rowForward(inputs);
    const probs = new Float64Array(d.outputs);
    const rows = sampleIndices(d.batch, MLP_SAMPLE_ROWS, random);
    for (const row of rows) {
      const logitError = forward(row, probs, true);
      // Softmax ignores a common shift, so logit errors ≤ δ move each probability by a factor ≤ e^(2δ).
      const tol = TOLERANCE_SAFETY * Math.expm1(2 * logitError) + SOFTMAX_ROUNDING;
      for (let o = 0; o < d.outputs; o++) {
        const got = y[row * d.outputs + o];
        if (!(Math.abs(got - probs[o]) <= tol)) {
          return { ok: false, method: METHOD, detail: `y[${row},${o}] = ${got} but recomputing gives ${probs[o]}` };
        }
      }
    }
    return { ok: true, method: METHOD, detail: `all ${d.batch} rows are distributions; recomputed ${rows.length} row(s)` };
  },

  reference(inputs) {
    const { batch, outputs } = mlpDims(inputs);
    return [{ name: 'y', shape: [batch, outputs], data: referenceMlp(inputs) }];
  },
} satisfies SkillSpec);

/**
 * mlp: an inference-shaped skill, the forward pass of a 2-layer perceptron classifier,
 * y = softmax(relu(x·w1 + b1)·w2 + b2) per row. Verified by activation commitments (the idea of
 * TOPLOC and of verifiable inference: checking ≪ inferring): the executor returns, with y, the
 * activations it computed on the way, u = x·w1 + b1 and z = relu(u)·w2 + b2, and the verifier checks
 * each layer on its own committed input: u by Freivalds projections (freivalds.ts), z against relu(u)
 * by projections or, when cheaper (few classes), exact recomputation, and y = softmax(z) element by
 * element. A wrong u, z or y anywhere fails its layer's check; errors cannot hide in a later layer
 * because each layer is checked against the executor's own earlier output, never a recomputed one.
 */
import type { DenseTensor } from '@swarm/contracts';
import { checkProduct, FREIVALDS_ROUNDS } from './freivalds';
import type { InputDecl } from './input-checks';
import { checkElementLimit, checkFinite, checkInputs, checkMagnitude, checkOutputShapes, F32_SAFE_MAX, invalid, productBound, rowAbsMax } from './input-checks';
import { mlpAgreement, mlpReferee } from './mlp-agreement';
import type { SkillKernel } from './skill-kernel';
import { logSumExp, softmaxRow, softmaxTolerance } from './softmax-error';
import type { SkillDemo, SkillSpec, Verdict } from './skill-spec';

const NAME = 'mlp';
const INPUTS: readonly InputDecl[] = [
  { name: 'x', rank: 2 },
  { name: 'w1', rank: 2 },
  { name: 'b1', rank: 1 },
  { name: 'w2', rank: 2 },
  { name: 'b2', rank: 1 },
];
const INPUT_SIGNATURE = 'x:[batch,in] w1:[in,hidden] b1:[hidden] w2:[hidden,out] b2:[out]';
const METHOD = 'activation-commitments';
/** Priced above matmul: three dependent kernels and an exp per output. */
export const MLP_PRICE_PER_MWORK = 2n;
// Bound once: the loops below call them per element, and under jest's vm sandbox every lookup of a
// global such as Math costs ~0.5 µs, more than the exp itself. abs is also branch-free where
// `x < 0 ? -x : x` mispredicts on random signs.
const { abs, exp } = Math;

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

/** The activations of a forward pass, each rounded to f32 as an executor would return them. */
export interface MlpActivations {
  /** [batch, out] probabilities. */
  readonly y: Float32Array;
  /** [batch, hidden] hidden pre-activations x·w1 + b1. */
  readonly u: Float32Array;
  /** [batch, out] logits relu(u)·w2 + b2. */
  readonly z: Float32Array;
}

/**
 * Plain-JS forward pass: each layer in f64 from the previous layer's f32 values, rounded to f32,
 * exactly the commitments an honest executor returns (z is computed from the u it returns).
 */
export function referenceMlp(inputs: readonly DenseTensor[]): MlpActivations {
  const [x, w1, b1, w2, b2] = inputs.map((t) => t.data);
  const { batch, inputs: I, hidden: H, outputs: O } = mlpDims(inputs);
  const u = new Float32Array(batch * H);
  const z = new Float32Array(batch * O);
  const y = new Float32Array(batch * O);
  const acc = new Float64Array(Math.max(H, O));
  for (let row = 0; row < batch; row++) {
    // i-k-j order: the inner loops walk rows of w1 and w2 contiguously.
    for (let j = 0; j < H; j++) acc[j] = b1[j];
    for (let p = 0; p < I; p++) {
      const xv = x[row * I + p];
      const base = p * H;
      for (let j = 0; j < H; j++) acc[j] += xv * w1[base + j];
    }
    for (let j = 0; j < H; j++) u[row * H + j] = acc[j];
    for (let o = 0; o < O; o++) acc[o] = b2[o];
    for (let j = 0; j < H; j++) {
      const hv = u[row * H + j];
      if (!(hv > 0)) continue;
      const base = j * O;
      for (let o = 0; o < O; o++) acc[o] += hv * w2[base + o];
    }
    for (let o = 0; o < O; o++) z[row * O + o] = acc[o];
    const zr = z.subarray(row * O, (row + 1) * O);
    const lse = logSumExp(zr);
    for (let o = 0; o < O; o++) y[row * O + o] = exp(zr[o] - lse);
  }
  return { y, u, z };
}

function outputShapes(inputs: readonly DenseTensor[]) {
  const { batch, hidden, outputs } = mlpDims(inputs);
  return [
    { name: 'y', shape: [batch, outputs] },
    { name: 'u', shape: [batch, hidden] },
    { name: 'z', shape: [batch, outputs] },
  ];
}

/** y against softmax(z) at every element, within the honest f32 error (softmax-error.ts). */
function checkSoftmax(z: Float32Array, y: Float32Array, d: MlpDims): string | undefined {
  const O = d.outputs;
  for (let row = 0; row < d.batch; row++) {
    const zr = z.subarray(row * O, (row + 1) * O);
    const bounds = softmaxRow(zr);
    for (let o = 0; o < O; o++) {
      const arg = zr[o] - bounds.lse;
      const p = exp(arg);
      const got = y[row * O + o];
      // Written so that NaN fails.
      if (!(abs(got - p) <= softmaxTolerance(bounds, arg, p))) return `y[${row},${o}] = ${got} but softmax(z) gives ${p}`;
    }
  }
  return undefined;
}

/** A failed verdict; `refuted`: proven wrong (a layer's check may find it only outside its probabilistic τ: freivalds.ts). */
function fail(detail: string, refuted: boolean): Verdict {
  return { ok: false, refuted, method: METHOD, detail };
}

/**
 * u[r][j] = b1[j] + Σ_p x[r][p]·w1[p][j], the hidden pre-activation: returned with y as a commitment
 * the verifier checks, so relu is applied where u is read, not here.
 */
const MLP_HIDDEN_SOURCE = `function mlpHidden(x, w1, b1) {
  let sum = b1[this.thread.x];
  for (let p = 0; p < this.constants.inputs; p++) {
    sum += x[this.thread.y * this.constants.inputs + p] * w1[p * this.constants.hidden + this.thread.x];
  }
  return sum;
}`;

/** z[r][o] = b2[o] + Σ_j relu(u[r][j])·w2[j][o] */
const MLP_LOGITS_SOURCE = `function mlpLogits(u, w2, b2) {
  let sum = b2[this.thread.x];
  for (let j = 0; j < this.constants.hidden; j++) {
    sum += Math.max(u[this.thread.y][j], 0) * w2[j * this.constants.outputs + this.thread.x];
  }
  return sum;
}`;

/** lse[r] = log Σ_o exp(z[r][o]), shifted by the row max so exp never overflows. */
const MLP_LOG_SUM_EXP_SOURCE = `function mlpLogSumExp(z) {
  let top = z[this.thread.x][0];
  for (let o = 1; o < this.constants.outputs; o++) {
    top = Math.max(top, z[this.thread.x][o]);
  }
  let sum = 0;
  for (let o = 0; o < this.constants.outputs; o++) {
    sum += Math.exp(z[this.thread.x][o] - top);
  }
  return top + Math.log(sum);
}`;

/** y[r][o] = exp(z[r][o] - lse[r]): one pass per cell instead of a row reduction per cell. */
const MLP_SOFTMAX_SOURCE = `function mlpSoftmax(z, lse) {
  return Math.exp(z[this.thread.y][this.thread.x] - lse[this.thread.y]);
}`;

const kernel: SkillKernel = {
  compile(kernels, [[batch, inputs], [, hidden], , [, outputs]]) {
    const constants = { inputs, hidden, outputs };
    // Intermediate results stay on the device on GPU backends (`pipeline`). The activations u and z
    // are also read back: they travel with y as the commitments it is verified by.
    const layer1 = kernels.kernel(MLP_HIDDEN_SOURCE, { output: [hidden, batch], constants, loopMaxIterations: inputs, pipeline: true });
    const layer2 = kernels.kernel(MLP_LOGITS_SOURCE, { output: [outputs, batch], constants, loopMaxIterations: hidden, pipeline: true });
    const lse = kernels.kernel(MLP_LOG_SUM_EXP_SOURCE, { output: [batch], constants, loopMaxIterations: outputs, pipeline: true });
    const softmax = kernels.kernel(MLP_SOFTMAX_SOURCE, { output: [outputs, batch] });
    return async ([x, w1, b1, w2, b2]) => {
      const u = await layer1(x, w1, b1);
      const z = await layer2(u, w2, b2);
      const y = await softmax(z, await lse(z));
      return [
        { name: 'y', shape: [batch, outputs], data: await kernels.read(y, batch * outputs) },
        { name: 'u', shape: [batch, hidden], data: await kernels.read(u, batch * hidden) },
        { name: 'z', shape: [batch, outputs], data: await kernels.read(z, batch * outputs) },
      ];
    };
  },
};

/** Classes of the example classifier: few, as in a real one, so layer 2 is cheap next to layer 1. */
export const DEMO_MLP_CLASSES = 10;

const demo: SkillDemo = {
  sizeMeaning: `batch = in = hidden = n, ${DEMO_MLP_CLASSES} classes`,
  exampleSize: 64,
  tensors(n) {
    // 1/√fan-in weights keep activations O(1) whatever the size, so the softmax stays informative.
    const inScale = 1 / Math.sqrt(n);
    return [
      { name: 'x', shape: [n, n], scale: 1 },
      { name: 'w1', shape: [n, n], scale: inScale },
      { name: 'b1', shape: [n], scale: 0.1 },
      { name: 'w2', shape: [n, DEMO_MLP_CLASSES], scale: inScale },
      { name: 'b2', shape: [DEMO_MLP_CLASSES], scale: 0.1 },
    ];
  },
  testShapes: [
    [[1, 1], [1, 1], [1], [1, 1], [1]],
    [[5, 7], [7, 9], [9], [9, 3], [3]],
    [[32, 48], [48, 40], [40], [40, 10], [10]],
    [[128, 160], [160, 96], [96], [96, 16], [16]],
    [[700, 700], [700, 700], [700], [700, 10], [10]],
  ],
};

export const mlp: SkillSpec<typeof NAME> = Object.freeze({
  name: NAME,
  description:
    '2-layer perceptron forward pass: softmax(relu(x·w1 + b1)·w2 + b2), one distribution per row of x; ' +
    'also returns the activations u = x·w1 + b1 and z = relu(u)·w2 + b2 it is verified by.',
  inputSignature: INPUT_SIGNATURE,
  outputSignature: 'y:[batch,out] u:[batch,hidden] z:[batch,out]',
  verification: METHOD,
  verificationBound:
    `a result with any element of u off by more than τ (as matmul's) is accepted with probability ≤ 2^-${FREIVALDS_ROUNDS}; ` +
    'with z off by more than τ or y off by more than f32 softmax rounding (~1e-5 relative), never',
  verificationCost:
    `layer 1 by ${FREIVALDS_ROUNDS} rounds of ±1 projections, layer 2 (few classes) and softmax recomputed: ` + '10–20% of the forward pass at 700 and 999 wide (the limit)',
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
    // The activations travel back with y in one reply, so the limit holds for all three together.
    checkElementLimit(NAME, 'outputs (y, u, z together)', d.batch * (d.hidden + 2 * d.outputs), limits);
    const [maxX, maxW1, maxB1, maxW2, maxB2] = checkFinite(NAME, inputs);
    // |u| ≤ in·max|x|·max|w1| + max|b1| bounds relu(u) too, and |z| ≤ hidden·that·max|w2| + max|b2|;
    // only past these are the tighter bounds (matmul's, per layer) worth their passes.
    const roughU = d.inputs * maxX * maxW1 + maxB1;
    if (!(roughU <= F32_SAFE_MAX && d.hidden * roughU * maxW2 + maxB2 <= F32_SAFE_MAX)) {
      const [x, w1, , w2] = inputs;
      const maxU = productBound(x.data, d.batch, d.inputs, rowAbsMax(w1.data, d.inputs, d.hidden)) + maxB1;
      checkMagnitude(NAME, 'max over rows of Σ_p |x_ip|·max_h |w1_ph| + max|b1| (the bound of u)', maxU);
      checkMagnitude(NAME, 'max|u|·max_o Σ_h |w2_ho| + max|b2| (the bound of z)', maxU * largestColumnSum(w2.data, d.hidden, d.outputs) + maxB2);
    }
  },

  outputShapes,

  work(inputs) {
    const { batch, inputs: I, hidden: H, outputs: O } = mlpDims(inputs);
    // Two multiply-add layers, plus relu per hidden unit and max/exp/sum/divide per output.
    return 2 * batch * (I * H + H * O) + batch * (H + 4 * O);
  },

  verify(inputs, outputs, random, options) {
    const bad = checkOutputShapes(METHOD, outputShapes(inputs), outputs);
    if (bad) return bad;
    const d = mlpDims(inputs);
    const [x, w1, b1, w2, b2] = inputs.map((t) => t.data);
    const [y, u, z] = outputs.map((t) => t.data);
    // Each check stands alone, so the order only decides how soon a wrong result is caught: softmax
    // O(batch·out) first, then layer 1, whose projections stop at the first bad row (a stale or
    // wrong u is caught in microseconds), then layer 2 in full. Non-finite values fail the check
    // that reads them: y and z the softmax, u layer 1, before relu(u) is used.
    const softmax = checkSoftmax(z, y, d);
    if (softmax) return fail(softmax, true);
    const layer1 = checkProduct({ rows: d.batch, cols: d.inputs, data: x }, { rows: d.inputs, cols: d.hidden, data: w1 }, { rows: d.batch, cols: d.hidden, data: u }, random, {
      bias: b1,
      refute: options?.refute,
    });
    if (!layer1.ok) return fail(`u differs from x·w1 + b1 by more than the verifier's f32 tolerance τ: ${layer1.detail}`, layer1.refuted);
    // relu is exact in f32: the verifier applies it to the committed u itself ((v + |v|)/2 is exact
    // in f64 and branch-free: u has random signs).
    const h = new Float32Array(u.length);
    for (let i = 0; i < u.length; i++) h[i] = (u[i] + abs(u[i])) * 0.5;
    const layer2 = checkProduct({ rows: d.batch, cols: d.hidden, data: h }, { rows: d.hidden, cols: d.outputs, data: w2 }, { rows: d.batch, cols: d.outputs, data: z }, random, {
      bias: b2,
      refute: options?.refute,
    });
    if (!layer2.ok) return fail(`z differs from relu(u)·w2 + b2 by more than the verifier's f32 tolerance τ: ${layer2.detail}`, layer2.refuted);
    return { ok: true, refuted: false, method: METHOD, detail: `u: ${layer1.detail}; z: ${layer2.detail}; y: all ${y.length} checked against softmax(z)` };
  },

  agree(inputs, first, second) {
    const bad = checkOutputShapes(METHOD, outputShapes(inputs), first)?.detail;
    return bad ? { ok: false, detail: bad } : mlpAgreement(inputs, first, second);
  },

  referee(inputs, first, second, results) {
    const shapes = outputShapes(inputs);
    const badOf = (r: readonly DenseTensor[]) => checkOutputShapes(METHOD, shapes, r)?.detail;
    const bad = badOf(first) ?? badOf(second);
    if (bad) return results.map((r) => badOf(r) ?? '');
    return mlpReferee(inputs, first, second, results);
  },

  reference(inputs) {
    const [y, u, z] = outputShapes(inputs);
    const act = referenceMlp(inputs);
    return [
      { ...y, data: act.y },
      { ...u, data: act.u },
      { ...z, data: act.z },
    ];
  },

  kernel,
  demo,
} satisfies SkillSpec<typeof NAME>);

/** max_o Σ_h |w_ho| of the row-major [rows, cols] matrix `w`. */
function largestColumnSum(w: Float32Array, rows: number, cols: number): number {
  const sums = new Float64Array(cols);
  for (let h = 0; h < rows; h++) for (let o = 0, at = h * cols; o < cols; o++, at++) sums[o] += abs(w[at]);
  let max = 0;
  for (const v of sums) if (v > max) max = v;
  return max;
}

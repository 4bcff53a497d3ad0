/**
 * gpu.js kernel bodies, kept as source strings: gpu.js parses the text of a kernel, so it must be
 * exactly this JavaScript, untouched by whatever transpiler (swc, esbuild, coverage) loaded the module.
 * Dimensions arrive as constants (one compiled kernel per shape) so loop bounds are static.
 * Flat row-major Float32Array inputs are indexed by hand; earlier kernel outputs arrive as rows.
 */

/** c[i][j] = Σ_p a[i][p]·b[p][j]; threads run along j, so b is read row-wise (SIMD-friendly). */
export const MATMUL = `function matmul(a, b) {
  let sum = 0;
  for (let p = 0; p < this.constants.k; p++) {
    sum += a[this.thread.y * this.constants.k + p] * b[p * this.constants.m + this.thread.x];
  }
  return sum;
}`;

export const VECADD = `function vecadd(a, b) {
  return a[this.thread.x] + b[this.thread.x];
}`;

/**
 * u[r][j] = b1[j] + Σ_p x[r][p]·w1[p][j], the hidden pre-activation: returned with y as a commitment
 * the verifier checks (libs/skills mlp.ts), so relu is applied where u is read, not here.
 */
export const MLP_HIDDEN = `function mlpHidden(x, w1, b1) {
  let sum = b1[this.thread.x];
  for (let p = 0; p < this.constants.inputs; p++) {
    sum += x[this.thread.y * this.constants.inputs + p] * w1[p * this.constants.hidden + this.thread.x];
  }
  return sum;
}`;

/** z[r][o] = b2[o] + Σ_j relu(u[r][j])·w2[j][o] */
export const MLP_LOGITS = `function mlpLogits(u, w2, b2) {
  let sum = b2[this.thread.x];
  for (let j = 0; j < this.constants.hidden; j++) {
    sum += Math.max(u[this.thread.y][j], 0) * w2[j * this.constants.outputs + this.thread.x];
  }
  return sum;
}`;

/** lse[r] = log Σ_o exp(z[r][o]), shifted by the row max so exp never overflows. */
export const MLP_LOG_SUM_EXP = `function mlpLogSumExp(z) {
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
export const MLP_SOFTMAX = `function mlpSoftmax(z, lse) {
  return Math.exp(z[this.thread.y][this.thread.x] - lse[this.thread.y]);
}`;

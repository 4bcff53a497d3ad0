/**
 * How far an honest f32 softmax y_o = exp(z_o − lse), lse = top + log Σ exp(z − top), may be from
 * the exact one: mlp's verifier checks every y within it, and its agreement check allows it twice.
 * WGSL allows exp 3 + 2|x| ulp and log 3 ulp (2^-21 absolute near 1), one ulp ≤ 2u; the sum of `out`
 * terms adds γ(out) and each subtraction one rounding. Summed to first order:
 *   u·(out + 20 + 6·ln(out) + |lse| + 5·|z_o − lse| + 5·(top − min z)),
 * bounded here with 2·out for out + 6·ln(out), and doubled for margin (SOFTMAX_SAFETY).
 */
import { F32_MIN_NORMAL, F32_UNIT_ROUNDOFF } from './f32-error';

const SOFTMAX_SAFETY = 2;
const SOFTMAX_FIXED_ULPS = 20;
/** exp below −87.3 is subnormal in f32 and may be flushed to zero: an absolute slack. */
const SOFTMAX_FLUSH_FLOOR = 2 * F32_MIN_NORMAL;
// Bound once: called per element, and under jest's vm sandbox every lookup of a global such as
// Math costs ~0.5 µs, more than the exp itself.
const { abs, exp, log } = Math;
const INF = Infinity;

/** log Σ exp(z), shifted by the max so exp never overflows. */
export function logSumExp(z: Float32Array): number {
  let top = -INF;
  for (let o = 0; o < z.length; o++) if (z[o] > top) top = z[o];
  let sum = 0;
  for (let o = 0; o < z.length; o++) sum += exp(z[o] - top);
  return top + log(sum);
}

/** One row of logits: its log-sum-exp and the part of the error bound every element of it shares. */
export interface SoftmaxRow {
  readonly lse: number;
  readonly fixed: number;
}

export function softmaxRow(zr: Float32Array): SoftmaxRow {
  let top = -INF;
  let bottom = INF;
  for (let o = 0; o < zr.length; o++) {
    if (zr[o] > top) top = zr[o];
    if (zr[o] < bottom) bottom = zr[o];
  }
  const lse = logSumExp(zr);
  return { lse, fixed: 2 * zr.length + SOFTMAX_FIXED_ULPS + abs(lse) + 5 * (top - bottom) };
}

/** Largest honest |y_o − p| for p = exp(arg), arg = z_o − lse, in a row described by `row`. */
export function softmaxTolerance(row: SoftmaxRow, arg: number, p: number): number {
  return SOFTMAX_SAFETY * F32_UNIT_ROUNDOFF * (row.fixed + 5 * abs(arg)) * p + SOFTMAX_FLUSH_FLOOR;
}

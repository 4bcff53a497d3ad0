/**
 * Validation shared by every skill: the declared inputs in order, well-formed shapes, the element
 * limit, and finite values. Throws the SwarmError a caller can act on; never a plain Error.
 */
import type { DenseTensor } from '@swarm/contracts';
import { elementCount, ErrorCode, SwarmError } from '@swarm/contracts';
import type { InputLimits, Verdict } from './skill-spec';

export interface InputDecl {
  readonly name: string;
  readonly rank: number;
}

export function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message);
}

export function signatureOf(decls: readonly InputDecl[], dims: readonly string[][]): string {
  return decls.map((d, i) => `${d.name}:[${dims[i].join(',')}]`).join(' ');
}

/** Count, names, ranks, dimensions, data length and the input element limit; then dims() checks consistency. */
export function checkInputs(skill: string, signature: string, decls: readonly InputDecl[], inputs: readonly DenseTensor[], limits: InputLimits): void {
  if (inputs.length !== decls.length) {
    throw invalid(`${skill} expects ${decls.length} inputs (${signature}), got ${inputs.length}`);
  }
  let total = 0;
  decls.forEach((decl, i) => {
    const t = inputs[i];
    if (t.name !== decl.name) throw invalid(`${skill} input ${i} must be named '${decl.name}' (${signature}), got '${t.name}'`);
    if (t.shape.length !== decl.rank) {
      throw invalid(`${skill} input '${decl.name}' must have rank ${decl.rank} (${signature}), got shape [${t.shape.join(',')}]`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
      throw invalid(`${skill} input '${decl.name}' has shape [${t.shape.join(',')}]; every dimension must be a positive integer`);
    }
    const count = elementCount(t.shape);
    if (t.data.length !== count) {
      throw invalid(`${skill} input '${decl.name}' has ${t.data.length} values but shape [${t.shape.join(',')}] needs ${count}`);
    }
    total += count;
  });
  checkElementLimit(skill, 'inputs', total, limits);
}

export function checkElementLimit(skill: string, what: string, count: number, limits: InputLimits): void {
  if (count > limits.maxElements) {
    throw new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `${skill} ${what} hold ${count} elements; this node accepts at most ${limits.maxElements}`);
  }
}

/**
 * Half the largest f32. A skill refuses inputs whose result could be larger (by a bound from the
 * largest input values): its kernel would answer ±Infinity, which no verifier can tell from a wrong
 * result, so the task would fail verification (unpaid) and blame an honest provider. The half
 * leaves room for the kernel's own rounding.
 */
export const F32_SAFE_MAX = 1.7e38;

/**
 * Runs last, after the cheap shape checks: it reads every value. Each input's largest magnitude,
 * for the skill's overflow bound (checkMagnitude; productBound where a product is formed).
 */
export function checkFinite(skill: string, inputs: readonly DenseTensor[]): number[] {
  return inputs.map((t) => {
    const max = maxAbsOrNonFinite(t.data);
    if (max < 0) {
      const i = -1 - max;
      throw invalid(`${skill} input '${t.name}' holds a non-finite value (${t.data[i]}) at index ${i}; f32 values are finite, at most 3.4e38 in size`);
    }
    return max;
  });
}

/** Refuses inputs whose result could overflow f32: `bound` (of |result|) is above F32_SAFE_MAX. */
export function checkMagnitude(skill: string, what: string, bound: number): void {
  if (!(bound <= F32_SAFE_MAX)) {
    throw invalid(`${skill} inputs this large could overflow f32: ${what} is ${bound.toPrecision(3)}, above ${F32_SAFE_MAX.toPrecision(2)}; scale them down`);
  }
}

/**
 * The largest Σ_p |x_ip|·m_p over the rows i of the row-major [rows, cols] matrix `x`: with m_p the
 * largest |y_pj| of row p of y, a bound of every element of x·y and of each of its partial sums, in
 * any order, at the cost of one pass over x (and one over y for m).
 */
export function productBound(x: Float32Array, rows: number, cols: number, m: Float64Array): number {
  let max = 0;
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let p = 0, at = i * cols; p < cols; p++, at++) {
      const v = x[at];
      sum += (v < 0 ? -v : v) * m[p];
    }
    if (sum > max) max = sum;
  }
  return max;
}

/** The largest |y_pj| of each row p of the row-major [rows, cols] matrix `y`. */
export function rowAbsMax(y: Float32Array, rows: number, cols: number): Float64Array {
  const m = new Float64Array(rows);
  for (let p = 0; p < rows; p++) {
    let max = 0;
    for (let j = 0, at = p * cols; j < cols; j++, at++) {
      const v = y[at];
      const a = v < 0 ? -v : v;
      if (a > max) max = a;
    }
    m[p] = max;
  }
  return m;
}

/** max |v|, or -1 - i for the first non-finite value at index i. */
function maxAbsOrNonFinite(data: Float32Array): number {
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is NaN exactly for NaN and ±Infinity, and cheaper than Number.isFinite in this loop.
    if (v - v !== 0) return -1 - i;
    const a = v < 0 ? -v : v;
    if (a > max) max = a;
  }
  return max;
}

/** Checks the claimed outputs against the expected names and shapes; a failed verdict (refuted: no honest result has another shape) says why. */
export function checkOutputShapes(
  method: string,
  expected: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>,
  outputs: readonly DenseTensor[],
): Verdict | undefined {
  if (outputs.length !== expected.length) {
    return { ok: false, refuted: true, method, detail: `expected ${expected.length} output(s), got ${outputs.length}` };
  }
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i];
    const got = outputs[i];
    const sameShape = got.shape.length === want.shape.length && got.shape.every((d, j) => d === want.shape[j]);
    if (got.name !== want.name || !sameShape || got.data.length !== elementCount(want.shape)) {
      return {
        ok: false,
        refuted: true,
        method,
        detail: `output ${i} should be ${want.name}:[${want.shape.join(',')}], got ${got.name}:[${got.shape.join(',')}] with ${got.data.length} values`,
      };
    }
  }
  return undefined;
}

/**
 * Whether two verified results of one task agree: a redundant task (K providers run it) counts the
 * replicas whose results agree, so an honest replica must always agree with another honest one,
 * whatever backend, summation order or FMA each used (completeness), while results that differ by
 * more than rounding do not. Each skill's `agree` states its bound; the shared parts are here.
 *
 * Products (matmul, mlp's layers): the verifiers' model (f32-error.ts, docs/verification.md) puts an
 * honest f32 dot product of `terms` terms t_p within λσ of the exact one, with
 *   σ² = u²·(terms·Σ t_p² + max(terms·c², Σ s_p²))
 * over the partial sums s_p of whatever order the backend used. Every t_p, c and s_p is at most
 * T = Σ|t_p| in magnitude, in any order, and T ≤ ‖a_i‖₂·‖b_j‖₂ (Cauchy–Schwarz), so
 *   σ ≤ u·√(2·terms)·‖a_i‖₂·‖b_j‖₂,
 * a bound that needs no partial sums (it holds for sign-sorted data, where they drift) and costs
 * O(n·k + k·m) for the norms plus one compare per cell, far below the product itself. Two honest
 * results are each within λ times it of the exact value, so they differ by at most twice that, plus
 * subnormal flushing in both. On uniform data at 700×700 the bound is about 0.1% of the output's
 * rms: agreement is a coarser test than verification (whose τ is ≤ 5.3e-4 of it), and what it adds
 * is independence: a result that passed its probabilistic check by chance (≤ 2^-20) or sits inside
 * τ on purpose must also match results computed by other providers.
 *
 * Agreement is no referee: on non-negative data verification's τ (over row blocks) lets one cell of
 * c stray 3-5 times further than agreement allows, so two verified results can disagree and a
 * majority of colluders outvote an honest replica; and agreement's bound is the probabilistic one,
 * which inputs crafted to make one summation order lose every small term (rows [1, s, s, …] with
 * s² under half an ulp of 1) exceed by far, so two honest backends can disagree. A dispute is
 * settled by the skill's `referee`: it recomputes exactly (f64) the first rows where two results
 * disagree (REFEREE_ROWS) and holds each result to the WORST-CASE bound of one f32 dot product there,
 * γ_terms·Σ_p |a_ip|·|b_pj| (any order, FMA or not: Higham, Accuracy and Stability of Numerical
 * Algorithms, §3.1) plus subnormal flushing. An honest result is always within it, whatever the
 * data; on most data it is tighter than agreement's half (uniform [0, 1] at k = 128: about 0.6 of
 * it), so of two results that disagree one is outside it. Where it is not (crafted or wide data),
 * the referee refutes neither, and the pipeline blames nobody for that disagreement.
 */
import type { DenseTensor } from '@swarm/contracts';
import { DOT_ERROR_LAMBDA, F32_UNIT_ROUNDOFF } from './f32-error';
import { dotFlushFloor } from './worst-case';

/** Rows a referee recomputes exactly at most, per dispute, and a failed check (freivalds.ts) per result: each costs one row of the product (k·m multiply-adds). */
export const REFEREE_ROWS = 4;

/** Two verified results of one task compared (SkillSpec.agree). */
export interface Agreement {
  readonly ok: boolean;
  /** One line for people: what was compared, or the first place they differ. */
  readonly detail: string;
}

// Bound once: called per cell, and under jest's vm sandbox every global lookup is slow.
const { abs, sqrt } = Math;

/** Same output names and shapes (verified results always have them; anything else disagrees). */
export function sameShapes(first: readonly DenseTensor[], second: readonly DenseTensor[]): string | undefined {
  if (first.length !== second.length) return `${first.length} output(s) against ${second.length}`;
  for (let i = 0; i < first.length; i++) {
    const a = first[i];
    const b = second[i];
    if (a.name !== b.name || a.data.length !== b.data.length || a.shape.length !== b.shape.length || a.shape.some((d, j) => d !== b.shape[j])) {
      return `output ${i} is ${a.name}:[${a.shape.join(',')}] against ${b.name}:[${b.shape.join(',')}]`;
    }
  }
  return undefined;
}

/** ‖row i‖₂ of a rows×cols matrix, with `extra` (a bias term's factor, or 0) counted in each row. */
export function rowNorms(data: Float32Array, rows: number, cols: number, extra = 0): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sq = extra * extra;
    for (let p = i * cols, end = p + cols; p < end; p++) sq += data[p] * data[p];
    out[i] = sqrt(sq);
  }
  return out;
}

/** ‖column j‖₂ of a rows×cols matrix, with `bias[j]` counted in it when given (one more term). */
export function columnNorms(data: Float32Array, rows: number, cols: number, bias?: Float32Array): Float64Array {
  const sq = new Float64Array(cols);
  if (bias) for (let j = 0; j < cols; j++) sq[j] = bias[j] * bias[j];
  for (let p = 0; p < rows; p++) {
    const row = p * cols;
    for (let j = 0; j < cols; j++) sq[j] += data[row + j] * data[row + j];
  }
  for (let j = 0; j < cols; j++) sq[j] = sqrt(sq[j]);
  return sq;
}

/** λ·u·√(2·terms): one honest dot product's error per unit of ‖a_i‖·‖b_j‖ (see the top of this file). */
export function dotErrorScale(terms: number): number {
  return DOT_ERROR_LAMBDA * F32_UNIT_ROUNDOFF * sqrt(2 * terms);
}

/**
 * Two results c1, c2 (rows×cols) of dot products of `terms` terms each, cell (i, j) against
 *   scale·(rows1[i] + rows2[i])·cols[j] + carried[i]·carriedCols[j] + 2·floor:
 * each result's own rounding from the norms of the rows it multiplied (the same for both when they
 * share their inputs) and, for a layer whose inputs came from each replica's own earlier layer, the
 * difference those inputs carry in (‖Δh_i‖₂·‖w_j‖₂ bounds it exactly, by Cauchy–Schwarz).
 * A message naming the first cell outside it, or undefined; NaN never agrees.
 */
export function compareDots(what: string, c1: Float32Array, c2: Float32Array, shape: DotShape, norms: DotNorms): string | undefined {
  for (let i = 0; i < shape.rows; i++) {
    const { past } = dotRowGap(c1, c2, shape, norms, i);
    if (past) {
      const at = i * shape.cols + past.col;
      return `${what}[${i},${past.col}] is ${c1[at]} against ${c2[at]}: ${past.diff} apart, more than the ${past.tol} two honest f32 results can differ`;
    }
  }
  return undefined;
}

export interface DotShape {
  readonly rows: number;
  readonly cols: number;
  readonly terms: number;
}

export interface DotNorms {
  readonly rows1: Float64Array;
  readonly rows2: Float64Array;
  readonly cols: Float64Array;
  readonly carried?: Float64Array;
  readonly carriedCols?: Float64Array;
}

/**
 * How far apart two results are in one row, against what agreement allows there: `excess`, the
 * largest distance over bound of its cells (above 1: they disagree; NaN: Infinity), and `past`, the
 * first cell past its bound. What compareDots and the referee's choice of rows both measure.
 */
export interface RowGap {
  readonly excess: number;
  readonly past?: { readonly col: number; readonly diff: number; readonly tol: number };
}

/** Row `i` of c1 and c2 against compareDots' bound. */
function dotRowGap(c1: Float32Array, c2: Float32Array, shape: DotShape, norms: DotNorms, i: number): RowGap {
  const { cols, terms } = shape;
  const floor = 2 * dotFlushFloor(terms);
  const { rows1, rows2, cols: colNorm, carried, carriedCols } = norms;
  const own = dotErrorScale(terms) * (rows1[i] + rows2[i]);
  const carry = carried ? carried[i] : 0;
  let excess = 0;
  let past: RowGap['past'];
  for (let j = 0, at = i * cols; j < cols; j++, at++) {
    const tol = own * colNorm[j] + (carriedCols ? carry * carriedCols[j] : 0) + floor;
    const diff = abs(c1[at] - c2[at]);
    if (!(diff <= tol)) past ??= { col: j, diff, tol };
    const ratio = diff / tol;
    if (!(ratio <= excess)) excess = Number.isNaN(ratio) ? Infinity : ratio;
  }
  return past ? { excess, past } : { excess };
}

/** A row where two results disagree, and by how much: the largest of its cells' distance over what agreement allows there (above 1; NaN: Infinity). */
export interface DisputedRow {
  readonly row: number;
  readonly excess: number;
}

/** The rows where compareDots finds c1 and c2 apart, each with its excess. */
export function disputedDotRows(c1: Float32Array, c2: Float32Array, shape: DotShape, norms: DotNorms): DisputedRow[] {
  const out: DisputedRow[] = [];
  for (let i = 0; i < shape.rows; i++) {
    const { excess, past } = dotRowGap(c1, c2, shape, norms, i);
    if (past) out.push({ row: i, excess });
  }
  return out;
}

/**
 * The rows a referee (or a failed check) recomputes: the REFEREE_ROWS most disputed (by excess, the
 * largest first). Where the excess is a cell's own (a referee's, the recompute mode's), rows barely
 * past agreement, which no bound can settle, cannot crowd out a row a result is provably wrong in
 * (which is past the worst case, further than any decoy within it).
 */
export function mostDisputedRows(...disputes: ReadonlyArray<readonly DisputedRow[]>): number[] {
  const worst = new Map<number, number>();
  for (const list of disputes) for (const { row, excess } of list) worst.set(row, Math.max(worst.get(row) ?? 0, excess));
  return [...worst]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, REFEREE_ROWS)
    .map(([row]) => row);
}

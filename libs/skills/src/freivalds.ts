/**
 * Checks a claimed product C = A·B (+ a bias added to every row) without trusting whoever computed
 * it, accepting honest f32 rounding (f32-error.ts) and little more.
 *
 * Freivalds (1977), per row and column block: each round draws r ∈ {−1,+1}^m from the verifier's
 * Random and compares, for every row i and block b of at most FREIVALDS_MAX_BLOCK columns,
 *   x_ib = Σ_p a_ip·(B_b·r_b)_p + bias_b·r_b   with   y_ib = Σ_{j∈b} c_ij·r_j,
 * accepting |x_ib − y_ib| ≤ τ_ib (dotTolerance). Soundness, whatever the other errors (swaps,
 * cancelling pairs): if some c_ij is off by more than τ_ib, fix every r but r_j; the two values of
 * x_ib − y_ib for r_j = ±1 are more than 2τ_ib apart (less the check's own f64 rounding, < 1e-6 of
 * τ), so at most one passes. τ depends on A, B and C but not on r. Each round passes such a C with
 * probability ≤ 1/2, and FREIVALDS_ROUNDS independent rounds with probability ≤ 2^-20.
 * ±1 rather than {0,1} entries: the error enters every projection at full size, never multiplied by 0.
 * Blocks keep τ small (it grows with √width): a 0.1% error of one element of a 1000×1000 product
 * (the node's limit) would sit at τ over a whole row, and 1.3 times above it over blocks of 500
 * (docs/verification.md). A round costs k·m + n·k·blocks + n·m multiply-adds, the product n·k·m.
 * τ also grows with the partial sums' drift along one direction per block (f32-error.ts), from A
 * and B alone, never from r. It costs DRIFT_PASSES·k·w for each column block (w wide) with a row
 * that fails the τ without it (sign-sorted data, or a wrong result), and k per such row block; τ with drift is never
 * smaller, so the verdict is exactly that of τ with drift everywhere. Before paying for a block's
 * direction, a row that fails is checked against τ with rowDriftBound, an upper bound of its drift that
 * costs k: a result far off (zeros, another task's result) is rejected there, at no pass over B.
 *
 * The rounds after the first run four at a time (ROUNDS_AT_ONCE): the same sums, in the same order,
 * as one at a time, and so the same verdict, for about 1.3–2× less time on an honest result.
 *
 * When recomputing every cell is cheaper than the rounds (small or thin products), it recomputes:
 * each cell against its own τ, deterministic, nothing to predict.
 *
 * τ is probabilistic, and inputs crafted so that one summation order rounds every step the same way
 * put an honest result past it (worst-case.ts). So a failed check is not paid, but it REFUTES the
 * result (proof its maker misbehaved, which costs it trust) only when the row it failed in, or one
 * of the rows furthest off on one more projection, recomputed exactly, holds a value past the worst
 * case of any f32 computation: REFEREE_ROWS rows at most, k·m multiply-adds each, paid only by a
 * result that failed.
 */
import type { Random } from '@swarm/determinism';
import { blockDriftDirection, dotTolerance, partialSumDrift } from './f32-error';
import type { DisputedRow } from './agreement';
import { mostDisputedRows, REFEREE_ROWS } from './agreement';
import { compareRowToExact, exactDotRow } from './worst-case';

/** A row-major f32 matrix. */
export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/** Each round passes a C with an element off by more than τ with probability ≤ 1/2: 20 rounds ≤ 2^-20. */
export const FREIVALDS_ROUNDS = 20;
/** Widest column block of one projection (see the file comment). */
export const FREIVALDS_MAX_BLOCK = 512;
/** r_j comes 32 at a time out of one draw: floor(random·2^32) is 32 uniform bits. */
const BITS_PER_DRAW = 32;
const TWO_POW_32 = 2 ** 32;
/** Largest finite double, as a local constant (a global such as Number is slow to look up under jest). */
const MAX_F64 = Number.MAX_VALUE;
// Bound once, for the same reason; per cell it is also branch-free, unlike `x < 0 ? -x : x` on random signs.
const { abs } = Math;

export type ProductCheckMode = 'freivalds' | 'recompute';

export interface ProductCheckOptions {
  /** Default FREIVALDS_ROUNDS. */
  readonly rounds?: number;
  /** Added to every row of A·B: C = A·B + 1·biasᵀ; length B.cols. */
  readonly bias?: Float32Array;
  /** Default: whichever costs less for these shapes (productCheckMode). */
  readonly mode?: ProductCheckMode;
  /** Default true; false: a failed check looks for no proof (refuted false), for callers that only need `ok`. */
  readonly refute?: boolean;
}

export interface ProductCheck {
  readonly ok: boolean;
  readonly mode: ProductCheckMode;
  /**
   * Not ok, and proven wrong: a NaN or infinite value, or a value recomputed exactly further off than
   * any f32 computation can be (worst-case.ts). Not ok but not refuted: outside τ, which crafted
   * inputs can put an honest result past, so no proof that whoever computed it misbehaved.
   */
  readonly refuted: boolean;
  /** What was checked, or the first row/block or cell found off and by how much, and what a recompute proved. */
  readonly detail: string;
}

/** Multiply-adds of each method, the unit of productCheckMode's comparison and of the bench. */
export function productCheckCost(n: number, k: number, m: number, rounds = FREIVALDS_ROUNDS): Record<ProductCheckMode, number> {
  const blocks = Math.ceil(m / FREIVALDS_MAX_BLOCK);
  // One extra round's worth for the tolerances (|a|², |b|² and c² sums); recompute does two per term.
  // Either pays more only where partial sums drift (see project and recompute): at most
  // DRIFT_PASSES·k·m + n·k·blocks, and 2·n·k·m.
  return { freivalds: (rounds + 1) * (k * m + n * k * blocks + n * m), recompute: 2 * n * k * m };
}

export function productCheckMode(n: number, k: number, m: number, rounds = FREIVALDS_ROUNDS): ProductCheckMode {
  const cost = productCheckCost(n, k, m, rounds);
  return cost.recompute <= cost.freivalds ? 'recompute' : 'freivalds';
}

/** Throws RangeError when the shapes do not chain or `rounds` is not a whole number; otherwise a verdict, never an exception. */
export function checkProduct(a: Mat, b: Mat, c: Mat, random: Random, opts: ProductCheckOptions = {}): ProductCheck {
  const n = a.rows;
  const k = a.cols;
  const m = b.cols;
  if (b.rows !== k || c.rows !== n || c.cols !== m || (opts.bias && opts.bias.length !== m)) {
    throw new RangeError(`checkProduct: shapes [${n},${k}]·[${b.rows},${m}] (+ bias [${opts.bias?.length ?? m}]) do not give [${c.rows},${c.cols}]`);
  }
  if (a.data.length !== n * k || b.data.length !== k * m || c.data.length !== n * m) {
    throw new RangeError('checkProduct: data length does not match the shape');
  }
  const rounds = opts.rounds ?? FREIVALDS_ROUNDS;
  if (!Number.isInteger(rounds) || rounds < 0) throw new RangeError(`checkProduct: rounds must be a whole number ≥ 0, got ${rounds}`);
  const mode = opts.mode ?? productCheckMode(n, k, m, rounds);
  // Both methods reject NaN and ±Infinity in C where they read it (an infinite value would make its
  // own tolerance infinite): no separate pass over C.
  return mode === 'recompute' ? recompute(a, b, c, opts) : project(a, b, c, rounds, random, opts);
}

/** True when C passes `rounds` rounds of the projection check. */
export function freivalds(a: Mat, b: Mat, c: Mat, rounds: number, random: Random): boolean {
  return checkProduct(a, b, c, random, { rounds, mode: 'freivalds' }).ok;
}

function project(a: Mat, b: Mat, c: Mat, rounds: number, random: Random, { bias, refute: prove = true }: ProductCheckOptions): ProductCheck {
  const n = a.rows;
  const k = a.cols;
  const m = b.cols;
  const A = a.data;
  const B = b.data;
  const C = c.data;
  const terms = bias ? k + 1 : k;
  // Hot loops below look up no globals (Math, Number): under jest's vm sandbox every global lookup
  // costs ~0.5 µs, more than the arithmetic around it.
  const colEnd = columnBlockEnds(m);
  const blocks = colEnd.length;

  const first = columnProjections(k, blocks);
  // What the drift bound reads of them: Σ_{j∈b} b_pj² and ‖bias_b‖² (projectColumns).
  const { bSqT, biasSq } = first;
  const tol = new Float64Array(n * blocks);
  // τ starts without drift; a block's first failure replaces it by τ with drift (see the file comment).
  const cSqs = new Float64Array(n * blocks);
  const termSqs = new Float64Array(n * blocks);
  const withDrift = new Uint8Array(n * blocks);
  let drift: BlockDrift | undefined;

  /** Round `round`'s verdict on row i's block blk, its projections differing by d: why it fails, or undefined when it passes. */
  const judge = (d: number, i: number, blk: number, round: number): string | undefined => {
    const at = i * blocks + blk;
    const j0 = blk === 0 ? 0 : colEnd[blk - 1];
    const e = colEnd[blk];
    let t = tol[at];
    if (!(abs(d) <= t) && !withDrift[at]) {
      // τ with drift ≤ τ with the bound (dotTolerance grows with the drift): beyond the bound is a
      // rejection either way; within it, the drift decides.
      const base = blk * k;
      t = dotTolerance(terms, e - j0, cSqs[at], termSqs[at], rowDriftBound(A, i * k, k, bSqT, base, biasSq[blk]));
      if (abs(d) <= t) {
        drift ??= blockDrift(k, m, blocks);
        ensureBlockDrift(drift, B, k, m, colEnd, blk, bias);
        t = tol[at] = dotTolerance(terms, e - j0, cSqs[at], termSqs[at], rowDrift(A, i * k, k, drift, blk));
        withDrift[at] = 1;
      }
    }
    // Written so that NaN fails.
    if (abs(d) <= t) return undefined;
    return `row ${i}, columns ${j0}..${e - 1}: the ±1 projection differs by ${fmt(Math.abs(d))}, more than τ (${fmt(t)}), in round ${round + 1}`;
  };

  /**
   * A failed check, and whether the rows it recomputes exactly prove the result wrong: the row it
   * failed in first (most wrong results are refuted there, for k·m), then the rows furthest off.
   */
  const failedCheck = (row: number, detail: string): ProductCheck => {
    if (!prove) return { ok: false, mode: 'freivalds', refuted: false, detail };
    const alone = refuteRows(a, b, c, bias, 'freivalds', detail, [row]);
    if (alone.refuted) return alone;
    return refuteRows(a, b, c, bias, 'freivalds', detail, firstThenRanked(row, furthestRows(a, b, c, bias, colEnd, random)), 1);
  };

  // Round 0 alone: it also sums every τ's terms, and rejects a result far off (zeros, another task's)
  // after one pass.
  if (rounds > 0) {
    const r = new Float64Array(m);
    rademacher(r, 1, 0, m, random);
    projectColumns(B, bias, r, k, colEnd, first);
    const { brT, biasR } = first;
    // rowBlockSums, written out: the hot loop of round 0.
    for (let i = 0; i < n; i++) {
      const ai = i * k;
      const ci = i * m;
      for (let blk = 0, j = 0; blk < blocks; blk++) {
        const j0 = j;
        const e = colEnd[blk];
        const base = blk * k;
        let x = biasR[blk];
        let y = 0;
        let s = biasSq[blk];
        for (let p = 0; p < k; p++) {
          const av = A[ai + p];
          x += av * brT[base + p];
          s += av * av * bSqT[base + p];
        }
        let cs = 0;
        for (; j < e; j++) {
          const cv = C[ci + j];
          y += cv * r[j];
          cs += cv * cv;
        }
        // cs is NaN or Infinity exactly when the block holds a NaN or ±Infinity (f32 squares cannot overflow f64).
        if (!(cs <= MAX_F64)) return { ok: false, mode: 'freivalds', refuted: true, detail: `row ${i}, columns ${j0}..${e - 1} hold a NaN or infinite value` };
        tol[i * blocks + blk] = dotTolerance(terms, e - j0, cs, s);
        cSqs[i * blocks + blk] = cs;
        termSqs[i * blocks + blk] = s;
        const failed = judge(x - y, i, blk, 0);
        if (failed) return failedCheck(i, failed);
      }
    }
  }

  // The other rounds ROUNDS_AT_ONCE at a time: each value of B, A and C read once feeds that many
  // independent sums, which the CPU overlaps (one round's sum waits on its previous addition). Each
  // round's sums are the same, in the same order, as computed alone; r_t is drawn in round order,
  // and a last group short of rounds repeats its last one (the same verdict twice).
  const G = ROUNDS_AT_ONCE;
  const rG = new Float64Array(G * m);
  const brG = new Float64Array(G * k * blocks);
  const biasRG = new Float64Array(G * blocks);
  const y = new Float64Array(G);
  for (let round = 1; round < rounds; round += G) {
    const size = Math.min(G, rounds - round);
    for (let t = 0; t < G; t++) {
      if (t < size) rademacher(rG, G, t, m, random);
      else for (let j = 0; j < m; j++) rG[j * G + t] = rG[j * G + size - 1];
    }
    for (let p = 0; p < k; p++) {
      const row = p * m;
      for (let blk = 0; blk < blocks; blk++) project4(B, row, rG, blk === 0 ? 0 : colEnd[blk - 1], colEnd[blk], brG, (blk * k + p) * 4);
    }
    if (bias) for (let blk = 0; blk < blocks; blk++) project4(bias, 0, rG, blk === 0 ? 0 : colEnd[blk - 1], colEnd[blk], biasRG, blk * 4);
    for (let i = 0; i < n; i++) {
      const ai = i * k;
      const ci = i * m;
      for (let blk = 0, j = 0; blk < blocks; blk++) {
        const e = colEnd[blk];
        const qb = blk * 4;
        let x0 = biasRG[qb];
        let x1 = biasRG[qb + 1];
        let x2 = biasRG[qb + 2];
        let x3 = biasRG[qb + 3];
        for (let p = 0, q = blk * k * 4; p < k; p++, q += 4) {
          const av = A[ai + p];
          x0 += av * brG[q];
          x1 += av * brG[q + 1];
          x2 += av * brG[q + 2];
          x3 += av * brG[q + 3];
        }
        project4(C, ci, rG, j, e, y, 0);
        j = e;
        const failed = judge(x0 - y[0], i, blk, round) ?? judge(x1 - y[1], i, blk, round + 1) ?? judge(x2 - y[2], i, blk, round + 2) ?? judge(x3 - y[3], i, blk, round + 3);
        if (failed) return failedCheck(i, failed);
      }
    }
  }
  return { ok: true, mode: 'freivalds', refuted: false, detail: `${rounds} rounds of ±1 projections passed on ${n} row(s) × ${blocks} column block(s)` };
}

/** One projection of B's (and the bias's) column blocks on r: block-major, so each row's are contiguous dot products. */
interface ColumnProjections {
  /** brT[blk·k + p] = (B_b·r_b)_p. */
  readonly brT: Float64Array;
  /** bSqT[blk·k + p] = Σ_{j∈b} b_pj², the |a|²·|b|² part of each τ. */
  readonly bSqT: Float64Array;
  /** bias_b·r_b and ‖bias_b‖² (0 without a bias). */
  readonly biasR: Float64Array;
  readonly biasSq: Float64Array;
}

function columnProjections(k: number, blocks: number): ColumnProjections {
  return { brT: new Float64Array(k * blocks), bSqT: new Float64Array(k * blocks), biasR: new Float64Array(blocks), biasSq: new Float64Array(blocks) };
}

function projectColumns(B: Float32Array, bias: Float32Array | undefined, r: Float64Array, k: number, colEnd: Int32Array, out: ColumnProjections): void {
  const m = r.length;
  const { brT, bSqT, biasR, biasSq } = out;
  const blocks = colEnd.length;
  for (let p = 0; p < k; p++) {
    const row = p * m;
    for (let blk = 0, j = 0; blk < blocks; blk++) {
      const e = colEnd[blk];
      let t = 0;
      let sq = 0;
      for (; j < e; j++) {
        const v = B[row + j];
        t += v * r[j];
        sq += v * v;
      }
      bSqT[blk * k + p] = sq;
      brT[blk * k + p] = t;
    }
  }
  if (!bias) return;
  for (let blk = 0, j = 0; blk < blocks; blk++) {
    const e = colEnd[blk];
    let t = 0;
    let sq = 0;
    for (; j < e; j++) {
      t += bias[j] * r[j];
      sq += bias[j] * bias[j];
    }
    biasR[blk] = t;
    biasSq[blk] = sq;
  }
}

/** Where rowBlockSums writes each sum. */
const BLOCK_SUMS = 4;
const X = 0;
const Y = 1;
const TERM_SQ = 2;
const C_SQ = 3;

/**
 * Row i's block [j0, e) (number blk) on one projection: x = Σ_p a_ip·(B_b·r_b)_p + bias_b·r_b and
 * y = Σ_j c_ij·r_j, which an exact C makes equal, and τ's sums Σ_p a_ip²·Σ_j b_pj² (+ ‖bias_b‖²) and Σ_j c_ij².
 */
function rowBlockSums(
  A: Float32Array,
  C: Float32Array,
  k: number,
  m: number,
  i: number,
  j0: number,
  e: number,
  blk: number,
  cols: ColumnProjections,
  r: Float64Array,
  out: Float64Array,
): void {
  const ai = i * k;
  const ci = i * m;
  const base = blk * k;
  const { brT, bSqT } = cols;
  let x = cols.biasR[blk];
  let s = cols.biasSq[blk];
  for (let p = 0; p < k; p++) {
    const av = A[ai + p];
    x += av * brT[base + p];
    s += av * av * bSqT[base + p];
  }
  let y = 0;
  let cs = 0;
  for (let j = j0; j < e; j++) {
    const cv = C[ci + j];
    y += cv * r[j];
    cs += cv * cv;
  }
  out[X] = x;
  out[Y] = y;
  out[TERM_SQ] = s;
  out[C_SQ] = cs;
}

/**
 * The REFEREE_ROWS rows furthest past τ (without drift) on one more projection with a fresh Gaussian r, the
 * furthest first: rows barely off, planted early, then do not hide a row far off from a refutation.
 * Many rows planted nearly at the worst case can (over a block of w columns each projects to about
 * √w times it; docs/verification.md). Costs one round.
 */
function furthestRows(a: Mat, b: Mat, c: Mat, bias: Float32Array | undefined, colEnd: Int32Array, random: Random): number[] {
  const n = a.rows;
  const k = a.cols;
  const m = b.cols;
  const terms = bias ? k + 1 : k;
  // Gaussian, not ±1: a row's errors then project to 0 with probability 0, where with ±1 two equal and
  // opposite ones cancel half the time (and the row would not be ranked).
  const r = new Float64Array(m);
  gaussians(r, random);
  const cols = columnProjections(k, colEnd.length);
  projectColumns(b.data, bias, r, k, colEnd, cols);
  const sums = new Float64Array(BLOCK_SUMS);
  const excess: DisputedRow[] = [];
  for (let i = 0; i < n; i++) {
    let by = 0;
    for (let blk = 0, j0 = 0; blk < colEnd.length; j0 = colEnd[blk], blk++) {
      rowBlockSums(a.data, c.data, k, m, i, j0, colEnd[blk], blk, cols, r, sums);
      const ratio = abs(sums[X] - sums[Y]) / dotTolerance(terms, colEnd[blk] - j0, sums[C_SQ], sums[TERM_SQ]);
      if (!(ratio <= by)) by = Number.isNaN(ratio) ? Infinity : ratio;
    }
    if (by > 1) excess.push({ row: i, excess: by });
  }
  return mostDisputedRows(excess);
}

/** The rows a failed check recomputes: the one it failed in first (already tried alone), then the ranked ones, REFEREE_ROWS in all. */
function firstThenRanked(first: number, ranked: readonly number[]): number[] {
  return [first, ...ranked.filter((i) => i !== first)].slice(0, REFEREE_ROWS);
}

/**
 * A failed check's verdict (`detail`: why it failed): refuted when one of `rows`, recomputed exactly,
 * holds a value further off than any f32 computation can be (worst-case.ts); the detail names them all.
 */
function refuteRows(a: Mat, b: Mat, c: Mat, bias: Float32Array | undefined, mode: ProductCheckMode, detail: string, rows: readonly number[], alreadyRecomputed = 0): ProductCheck {
  const k = a.cols;
  const terms = bias ? k + 1 : k;
  // The first `alreadyRecomputed` rows proved nothing already.
  for (const i of rows.slice(alreadyRecomputed)) {
    const far = compareRowToExact('', c.data, i, exactDotRow(a.data, k, i, b.data, b.cols, bias), { terms });
    if (far) return { ok: false, mode, refuted: true, detail: `${detail}; recomputed exactly, ${far}` };
  }
  return {
    ok: false,
    mode,
    refuted: false,
    detail:
      `${detail}; not proven wrong: row(s) ${rows.join(', ')} recomputed exactly are within the worst an f32 dot product can be off. ` +
      'Inputs whose f32 sums lose their small terms (rows like [1, s, s, …] with s² under half an ulp) put honest results there, ' +
      'and fail the same way again: rescale or reorder them',
  };
}

/** Rounds projected together after the first (project): its loops are written out, and index, for exactly 4. */
const ROUNDS_AT_ONCE = 4;

/**
 * out[at + t] = Σ_{j0 ≤ j < e} v[off + j]·r_t[j] for the four rounds t of rG (r_t[j] at rG[4j + t]),
 * each sum from 0 in j order: a value read once feeds four independent sums.
 */
function project4(v: Float32Array, off: number, rG: Float64Array, j0: number, e: number, out: Float64Array, at: number): void {
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  for (let j = j0; j < e; j++) {
    const x = v[off + j];
    const q = j * 4;
    t0 += x * rG[q];
    t1 += x * rG[q + 1];
    t2 += x * rG[q + 2];
    t3 += x * rG[q + 3];
  }
  out[at] = t0;
  out[at + 1] = t1;
  out[at + 2] = t2;
  out[at + 3] = t3;
}

/** The drift directions of B's column blocks, each computed the first time a block needs it. */
interface BlockDrift {
  /** v_b in v[j0..e) of each computed block (f32-error.ts, blockDriftDirection). */
  readonly v: Float64Array;
  /** βT[blk·k + p] = b_p,b·v_b, block-major like the projections. */
  readonly betaT: Float64Array;
  /** bias_b·v_b: where each block's running sums start. */
  readonly first: Float64Array;
  readonly done: Uint8Array;
}

function blockDrift(k: number, m: number, blocks: number): BlockDrift {
  return { v: new Float64Array(m), betaT: new Float64Array(k * blocks), first: new Float64Array(blocks), done: new Uint8Array(blocks) };
}

/** Fills in block `blk`'s direction the first time it is asked for. */
function ensureBlockDrift(drift: BlockDrift, B: Float32Array, k: number, m: number, colEnd: Int32Array, blk: number, bias: Float32Array | undefined): void {
  if (drift.done[blk]) return;
  const j0 = blk === 0 ? 0 : colEnd[blk - 1];
  const e = colEnd[blk];
  blockDriftDirection(B, k, m, j0, e, drift.v, drift.betaT.subarray(blk * k, (blk + 1) * k));
  if (bias) for (let j = j0; j < e; j++) drift.first[blk] += bias[j] * drift.v[j];
  drift.done[blk] = 1;
}

/** partialSumDrift of the row of A at `ai` in column block `blk`: its running sums along v_b. */
function rowDrift(A: Float32Array, ai: number, k: number, drift: BlockDrift, blk: number): number {
  const base = blk * k;
  const first = drift.first[blk];
  let run = first;
  let sum = 0;
  let sumSq = 0;
  for (let p = 0; p < k; p++) {
    sum += run;
    sumSq += run * run;
    run += A[ai + p] * drift.betaT[base + p];
  }
  return partialSumDrift(k, first, sum, sumSq, run);
}

/** Up to this many terms, twice rowDriftBound's sums is above the f64 rounding of both computations. */
const DRIFT_BOUND_MAX_TERMS = 2 ** 20;

/**
 * An upper bound of rowDrift(A, ai, k, drift, blk) that needs no drift direction: with v_b a unit
 * vector, |b_p,b·v_b| ≤ ‖b_p,b‖ = √bSqT[base + p] and |bias_b·v_b| ≤ ‖bias_b‖ (Cauchy–Schwarz), so
 * each running sum |M_p| ≤ ‖bias_b‖ + P_p with P_p = Σ_{q<p} |a_q|·‖b_q,b‖, and each backward sum
 * |M_k − M_p| ≤ P_k − P_p (triangle inequality). Their squares summed, forwards or backwards, bound
 * partialSumDrift's two sums. Both are computed in f64: rowDrift's running sums are off by at most
 * about k·u times the bound's, and its backward sum (a difference of terms up to k·M²) by about
 * k²·u·(‖bias_b‖ + P_k)², a term of the forward bound; so twice the larger bound covers rowDrift's
 * computed value for k ≤ DRIFT_BOUND_MAX_TERMS (k²·u < 2^-13). Beyond that: Infinity, no shortcut.
 */
function rowDriftBound(A: Float32Array, ai: number, k: number, bSqT: Float64Array, base: number, biasSq: number): number {
  if (k > DRIFT_BOUND_MAX_TERMS) return Infinity;
  const first = biasSq ** 0.5;
  let total = 0;
  for (let p = 0; p < k; p++) total += abs(A[ai + p]) * bSqT[base + p] ** 0.5;
  let before = 0;
  let forwards = 0;
  let backwards = 0;
  for (let p = 0; p < k; p++) {
    const back = total - before;
    backwards += back * back;
    before += abs(A[ai + p]) * bSqT[base + p] ** 0.5;
    const fwd = first + before;
    forwards += fwd * fwd;
  }
  return 2 * (forwards > backwards ? forwards : backwards);
}

/** The column blocks of the projections: equal, at most FREIVALDS_MAX_BLOCK wide, each ending (exclusive) at its entry. */
export function columnBlockEnds(m: number): Int32Array {
  const blocks = Math.ceil(m / FREIVALDS_MAX_BLOCK);
  const width = Math.ceil(m / blocks);
  return Int32Array.from({ length: blocks }, (_, blk) => Math.min(m, (blk + 1) * width));
}

function recompute(a: Mat, b: Mat, c: Mat, { bias, refute: prove = true }: ProductCheckOptions): ProductCheck {
  const n = a.rows;
  const k = a.cols;
  const m = b.cols;
  const A = a.data;
  const B = b.data;
  const C = c.data;
  const terms = bias ? k + 1 : k;
  const exact = new Float64Array(m);
  const sq = new Float64Array(m);
  // The first failure is recomputed exactly at once (most wrong results are refuted there); when that
  // proves nothing the scan goes on, so the rows furthest off are the ones refuteRows tries next.
  let firstFailure: string | undefined;
  const excess: DisputedRow[] = [];
  for (let i = 0; i < n; i++) {
    if (bias) {
      for (let j = 0; j < m; j++) {
        exact[j] = bias[j];
        sq[j] = bias[j] * bias[j];
      }
    } else {
      exact.fill(0);
      sq.fill(0);
    }
    // i-k-j order: rows of B and of the accumulators are walked contiguously.
    for (let p = 0; p < k; p++) {
      const av = A[i * k + p];
      if (av === 0) continue;
      const av2 = av * av;
      const row = p * m;
      for (let j = 0; j < m; j++) {
        const bv = B[row + j];
        exact[j] += av * bv;
        sq[j] += av2 * bv * bv;
      }
    }
    const ci = i * m;
    let worstRatio = 0;
    for (let j = 0; j < m; j++) {
      const cv = C[ci + j];
      let t = dotTolerance(terms, 1, cv * cv, sq[j]);
      // τ with the cell's own partial-sum drift is never smaller; it costs a walk down column j, so
      // only cells outside the cheaper τ pay it (sign-sorted data: most; others: none), and only
      // until one fails: after that the cheaper τ just ranks rows for refuteRows.
      if (!(abs(cv - exact[j]) <= t) && firstFailure === undefined) t = dotTolerance(terms, 1, cv * cv, sq[j], cellDrift(A, i * k, B, m, j, k, bias ? bias[j] : 0));
      // Written so that NaN fails; an infinite cv has an infinite t, hence the second test.
      if (cv - cv !== 0) return { ok: false, mode: 'recompute', refuted: true, detail: `[${i},${j}] is ${cv}` };
      if (!(abs(cv - exact[j]) <= t)) {
        if (firstFailure === undefined) {
          firstFailure = `[${i},${j}] is ${cv} but recomputing gives ${exact[j]} (τ = ±${fmt(t)})`;
          if (!prove) return { ok: false, mode: 'recompute', refuted: false, detail: firstFailure };
          const alone = refuteRows(a, b, c, bias, 'recompute', firstFailure, [i]);
          if (alone.refuted) return alone;
        }
        const ratio = abs(cv - exact[j]) / t;
        if (ratio > worstRatio) worstRatio = ratio;
      }
    }
    if (worstRatio > 0) excess.push({ row: i, excess: worstRatio });
  }
  if (firstFailure === undefined) return { ok: true, mode: 'recompute', refuted: false, detail: `recomputed all ${n * m} value(s)` };
  const firstRow = excess[0].row;
  return refuteRows(a, b, c, bias, 'recompute', firstFailure, firstThenRanked(firstRow, mostDisputedRows(excess)), 1);
}

/** partialSumDrift of cell j of the row of A at `ai`: its exact running sums, from the bias. */
function cellDrift(A: Float32Array, ai: number, B: Float32Array, m: number, j: number, k: number, first: number): number {
  let run = first;
  let sum = 0;
  let sumSq = 0;
  for (let p = 0; p < k; p++) {
    sum += run;
    sumSq += run * run;
    run += A[ai + p] * B[p * m + j];
  }
  return partialSumDrift(k, first, sum, sumSq, run);
}

/** Fills r[j·stride + offset] for j < length with independent ±1, 32 per draw. */
function rademacher(r: Float64Array, stride: number, offset: number, length: number, random: Random): void {
  let bits = 0;
  for (let j = 0; j < length; j++) {
    if (j % BITS_PER_DRAW === 0) bits = (random() * TWO_POW_32) >>> 0;
    r[j * stride + offset] = bits & 1 ? 1 : -1;
    bits >>>= 1;
  }
}

/** Fills r with independent standard normal values (Box–Muller, two per pair of draws). */
function gaussians(r: Float64Array, random: Random): void {
  for (let j = 0; j < r.length; j += 2) {
    // 1 − random() is in (0, 1]: its log is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    r[j] = radius * Math.cos(angle);
    if (j + 1 < r.length) r[j + 1] = radius * Math.sin(angle);
  }
}

function fmt(x: number): string {
  return x.toPrecision(3);
}

/**
 * Verification cost next to execution cost, per skill and size, measured in the same run on the
 * same inputs (issue 10 §2): the gpu.js kernel through the executor's worker pool (the path tasks
 * take), the plain-JS reference, the router's verify of the kernel's result (all rounds: the honest
 * case), the time to reject a result with one element 0.1% off (verification stops at the first bad
 * row), and the time to decode the result off the bus (what the router pays anyway).
 *
 * `calibrateMatmul` measures the honest f32 error model of f32-error.ts: the largest observed
 * ‖error‖/σ of a row block and of one cell, per summation order and value distribution, with σ
 * (partial-sum drift included) as the verifier computes it.
 */
import type { DenseTensor } from '@swarm/contracts';
import { ExecuteResponse, fromTensor, toTensor } from '@swarm/contracts';
import { seededRandom, systemRandom } from '@swarm/determinism';
import { createKernelPool } from '@swarm/kernels';
import type { ValueDistribution } from '@swarm/skills';
import {
  columnBlockEnds,
  createAdversary,
  demoDenseInputs,
  driftDirections,
  F32_UNIT_ROUNDOFF,
  getSkill,
  orderedMatmul,
  partialSumDrift,
  randomValues,
  referenceMatmul,
  SUMMATION_ORDERS,
} from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import { best } from './stats';

const WARMUP_CALLS = 20;
const WARMUP_MS = 300;

export interface VerifyRow {
  skill: string;
  size: string;
  kernelMs: number;
  referenceMs: number;
  verifyMs: number;
  rejectMs: number;
  decodeMs: number;
  detail: string;
}

export interface VerifyBenchOptions {
  /** Per skill: demo sizes (matmul n, vecadd n, mlp batch = in = hidden). */
  sizes: Record<string, number[]>;
  reps: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function benchVerification(opts: VerifyBenchOptions): Promise<{ rows: VerifyRow[]; backend: string }> {
  const pool = await createKernelPool({ threads: 1, maxQueue: 4, backend: 'auto', log: silentLogger() });
  const rows: VerifyRow[] = [];
  try {
    for (const [name, sizes] of Object.entries(opts.sizes)) {
      const skill = getSkill(name);
      for (const size of sizes) {
        const inputs = demoDenseInputs(name, size, seededRandom(size));
        const run = () => pool.run(name, inputs, { timeoutMs: 120_000 });
        const { outputs } = await run(); // compiles the kernel for this shape
        const kernelMs = await best(opts.reps, async () => (await run()).executeMs);
        const referenceMs = await best(opts.reps, () => skill.reference(inputs));
        // The router's path: systemRandom (the CSPRNG) and every round, since the result is honest.
        const verifyTimes: number[] = [];
        let detail = '';
        // Untimed calls first (20, or 300 ms): the JIT optimizes the check's loops only after several
        // calls, and small shapes have loops too short for on-stack replacement.
        const warmUntil = performance.now() + WARMUP_MS;
        for (let i = 0; i < WARMUP_CALLS && performance.now() < warmUntil; i++) skill.verify(inputs, outputs, systemRandom);
        for (let i = 0; i < Math.max(5, opts.reps); i++) {
          const t0 = performance.now();
          const v = skill.verify(inputs, outputs, systemRandom);
          verifyTimes.push(performance.now() - t0);
          if (!v.ok) throw new Error(`bench: an honest ${name} result was rejected: ${v.detail}`);
          detail = v.detail;
        }
        const adversary = createAdversary(outputs);
        const rejectTimes: number[] = [];
        for (let i = 0; i < 9; i++) {
          const t0 = performance.now();
          const ok = adversary.attack('one-off', i % outputs.length, systemRandom, (wrong) => skill.verify(inputs, wrong, systemRandom).ok);
          rejectTimes.push(performance.now() - t0);
          if (ok) throw new Error(`bench: a wrong ${name} result was accepted`);
        }
        const wire = ExecuteResponse.encode({
          taskId: 't',
          outputs: outputs.map((o) => toTensor(o.name, o.shape, o.data)),
          executorId: 'e',
          providerId: 'p',
          backend: pool.backend,
          executeMs: 0,
        }).finish();
        const decodeMs = await best(opts.reps, () => ExecuteResponse.decode(wire).outputs.map(fromTensor));
        rows.push({ skill: name, size: sizeLabel(name, inputs), kernelMs, referenceMs, verifyMs: median(verifyTimes), rejectMs: median(rejectTimes), decodeMs, detail });
      }
    }
    return { rows, backend: pool.backend };
  } finally {
    await pool.stop();
  }
}

function sizeLabel(name: string, inputs: DenseTensor[]): string {
  const s = inputs.map((t) => t.shape);
  if (name === 'vecadd') return `n=${s[0][0]}`;
  if (name === 'matmul') return `${s[0][0]}×${s[0][1]}·${s[1][0]}×${s[1][1]}`;
  return `${s[0][0]}×${s[0][1]}→${s[1][1]}→${s[3][1]}`;
}

export interface CalibrationRow {
  n: number;
  dist: ValueDistribution;
  order: string;
  /** Largest ‖error‖₂/σ over all (row, column block) of the verifier. */
  block: number;
  /** Largest |error|/σ over all cells. */
  cell: number;
  /** λ·σ of the worst block, relative to the product's rms: the smallest detectable single error. */
  thresholdRel: number;
}

/**
 * Honest f32 error against the model σ = u·√(k·Σ(a·b)² + max(k·Σc², drift)) (f32-error.ts), for each
 * summation order (plain JS and the gpu.js kernels on webasm and cpu) and value distribution.
 */
export async function calibrateMatmul(sizes: number[], dists: ValueDistribution[], lambda: number): Promise<CalibrationRow[]> {
  const pools = await Promise.all((['webasm', 'cpu'] as const).map((backend) => createKernelPool({ threads: 1, maxQueue: 1, backend, log: silentLogger() })));
  const rows: CalibrationRow[] = [];
  try {
    for (const n of sizes) {
      for (const dist of dists) {
        const random = seededRandom(n * 31 + dists.indexOf(dist));
        const a = randomValues(n * n, n, dist, random);
        const b = randomValues(n * n, n, dist === 'sorted' ? 'positive' : dist, random);
        const dims = { n, k: n, m: n };
        const exact = exactProducts(a, b, n);
        const producers: Array<[string, () => Promise<Float32Array> | Float32Array]> = [
          ['reference i-k-j', () => referenceMatmul(a, b, dims)],
          ...SUMMATION_ORDERS.map((o): [string, () => Float32Array] => [o, () => orderedMatmul(a, b, dims, o)]),
          ...pools.map((pool): [string, () => Promise<Float32Array>] => [
            `gpu.js ${pool.backend}`,
            async () =>
              (
                await pool.run(
                  'matmul',
                  [
                    { name: 'a', shape: [n, n], data: a },
                    { name: 'b', shape: [n, n], data: b },
                  ],
                  { timeoutMs: 600_000 },
                )
              ).outputs[0].data,
          ]),
        ];
        for (const [order, produce] of producers) rows.push({ n, dist, order, ...errorRatios(await produce(), exact, lambda) });
      }
    }
    return rows;
  } finally {
    await Promise.all(pools.map((p) => p.stop()));
  }
}

interface ExactProducts {
  n: number;
  /** The exact product (f64, error ~1e-16 relative). */
  c: Float64Array;
  /** Σ_p (a_ip·b_pj)² of every cell. */
  sq: Float64Array;
  /** partialSumDrift of every cell: its own running sums, as a recomputing verifier takes it. */
  cellDrift: Float64Array;
  /** partialSumDrift of every row block along its drift direction, as the projections take it. */
  blockDrift: Float64Array;
}

function exactProducts(a: Float32Array, b: Float32Array, n: number): ExactProducts {
  const c = new Float64Array(n * n);
  const sq = new Float64Array(n * n);
  const sum = new Float64Array(n * n);
  const sumSq = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const av = a[i * n + p];
      for (let j = 0; j < n; j++) {
        const run = c[i * n + j];
        sum[i * n + j] += run;
        sumSq[i * n + j] += run * run;
        const t = av * b[p * n + j];
        c[i * n + j] = run + t;
        sq[i * n + j] += t * t;
      }
    }
  }
  const cellDrift = c.map((last, at) => partialSumDrift(n, 0, sum[at], sumSq[at], last));
  const colEnd = columnBlockEnds(n);
  const { beta } = driftDirections(b, n, n, colEnd);
  const blockDrift = new Float64Array(n * colEnd.length);
  for (let i = 0; i < n; i++) {
    for (let blk = 0; blk < colEnd.length; blk++) {
      let run = 0;
      let s1 = 0;
      let s2 = 0;
      for (let p = 0; p < n; p++) {
        s1 += run;
        s2 += run * run;
        run += a[i * n + p] * beta[blk * n + p];
      }
      blockDrift[i * colEnd.length + blk] = partialSumDrift(n, 0, s1, s2, run);
    }
  }
  return { n, c, sq, cellDrift, blockDrift };
}

/** σ²/u² of a row block or cell of k terms (f32-error.ts, dotTolerance). */
function modelSq(k: number, cSq: number, termSq: number, drift: number): number {
  return k * termSq + Math.max(k * cSq, drift);
}

function errorRatios(c: Float32Array, exact: ExactProducts, lambda: number) {
  const { n } = exact;
  const colEnd = columnBlockEnds(n);
  let rms = 0;
  for (let i = 0; i < n * n; i++) rms += exact.c[i] * exact.c[i];
  rms = Math.sqrt(rms / (n * n));
  let block = 0;
  let cell = 0;
  let threshold = 0;
  for (let i = 0; i < n; i++) {
    for (let blk = 0, j0 = 0; blk < colEnd.length; j0 = colEnd[blk], blk++) {
      let e2 = 0;
      let c2 = 0;
      let t2 = 0;
      for (let j = j0; j < colEnd[blk]; j++) {
        const at = i * n + j;
        const e = c[at] - exact.c[at];
        e2 += e * e;
        c2 += c[at] ** 2;
        t2 += exact.sq[at];
        // The cell's τ with its own drift (recompute mode), never smaller than without it.
        const sigmaCell = F32_UNIT_ROUNDOFF * Math.sqrt(modelSq(n, c[at] ** 2, exact.sq[at], exact.cellDrift[at]));
        if (sigmaCell > 0) cell = Math.max(cell, Math.abs(e) / sigmaCell);
      }
      const sigma = F32_UNIT_ROUNDOFF * Math.sqrt(modelSq(n, c2, t2, exact.blockDrift[i * colEnd.length + blk]));
      if (sigma > 0) block = Math.max(block, Math.sqrt(e2) / sigma);
      threshold = Math.max(threshold, (lambda * sigma) / rms);
    }
  }
  return { block, cell, thresholdRel: threshold };
}

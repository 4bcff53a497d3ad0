/**
 * Completeness (issue 10 §2): honest f32 results are never rejected. 10,000 random honest tasks per
 * skill, most small and a few at the node's limit, computed by the plain-JS reference and in every
 * summation order of f32-orders.ts, on every value distribution. The gpu.js kernels' own results
 * are checked in libs/kernels (kernel-verification.spec.ts).
 */
import type { DenseTensor } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import { seededRandom } from '@swarm/determinism';
import { getSkill } from './catalog';
import { F32_MIN_NORMAL } from './f32-error';
import type { SummationOrder } from './f32-orders';
import { orderedMatmul, orderedMlp, SUMMATION_ORDERS } from './f32-orders';
import { checkProduct } from './freivalds';
import { referenceMatmul } from './matmul';
import type { ValueDistribution } from './value-distributions';
import { randomValues, VALUE_DISTRIBUTIONS } from './value-distributions';

const TASKS = 10_000;
const TIMEOUT_MS = 120_000;
/** matmul at the limit: six 1000×1000·1000×1000 products in plain JS, seconds each on a busy box. */
const MATMUL_TIMEOUT_MS = 300_000;
/** The plain-JS reference first, then every order of f32-orders.ts. */
const PRODUCERS: ReadonlyArray<'reference' | SummationOrder> = ['reference', ...SUMMATION_ORDERS];

/** Tasks at the node's limit: the last ones, one per value distribution. */
const LIMIT_TASKS = VALUE_DISTRIBUTIONS.length;
/** The node's limit on k (2M input values: a and b of a 1000×1000 product, README). */
const MAX_K = 1_000;

/** Size class of task i of TASKS: 90% tiny, 9% medium, 0.9% large, then one per distribution at the limit. */
function sizeClass(i: number): 0 | 1 | 2 | 3 | 4 {
  if (i < 9_000) return 0;
  if (i < 9_900) return 1;
  if (i < 9_990) return 2;
  if (i < TASKS - LIMIT_TASKS) return 3;
  return 4;
}

function between(lo: number, hi: number, random: Random): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

function distribution(i: number): ValueDistribution {
  return VALUE_DISTRIBUTIONS[i % VALUE_DISTRIBUTIONS.length];
}

/**
 * b for a of `dist`: the same distribution, except under sign-sorted rows of a, where b is positive
 * (every row's products sorted by sign) or, when `mixedSigns`, sign-sorted itself (columns of either
 * sign: every row's products sorted, half of them the other way round).
 */
function secondFactor(dist: ValueDistribution, mixedSigns: boolean): ValueDistribution {
  if (dist !== 'sorted') return dist;
  return mixedSigns ? 'sorted' : 'positive';
}

/** verify's verdict and the forced projections' on one product; a message when either rejects. */
function checkHonest(a: Float32Array, b: Float32Array, c: Float32Array, [n, k, m]: readonly number[], random: Random): string | undefined {
  const inputs: DenseTensor[] = [
    { name: 'a', shape: [n, k], data: a },
    { name: 'b', shape: [k, m], data: b },
  ];
  const verdict = getSkill('matmul').verify(inputs, [{ name: 'c', shape: [n, m], data: c }], random);
  // Small and thin products are recomputed by verify; the projections must accept them too.
  const projected = checkProduct({ rows: n, cols: k, data: a }, { rows: k, cols: m, data: b }, { rows: n, cols: m, data: c }, random, { mode: 'freivalds' });
  if (!verdict.ok) return verdict.detail;
  if (!projected.ok) return projected.detail;
  return undefined;
}

describe('completeness - matmul accepts every honest product', () => {
  // [lo, hi] of each dimension per size class; the last is the node's limit.
  const DIMS: ReadonlyArray<readonly [number, number]> = [
    [1, 12],
    [13, 64],
    [65, 200],
    [201, 320],
    [MAX_K, MAX_K],
  ];

  it(
    `${TASKS} tasks, every summation order and distribution, checked by verify and by forced projections`,
    () => {
      const random = seededRandom(101);
      const rejected: string[] = [];
      for (let i = 0; i < TASKS; i++) {
        const [lo, hi] = DIMS[sizeClass(i)];
        const dims = [between(lo, hi, random), between(lo, hi, random), between(lo, hi, random)] as const;
        const [n, k, m] = dims;
        const dist = distribution(i);
        const a = randomValues(n * k, k, dist, random);
        const b = randomValues(k * m, m, secondFactor(dist, Math.floor(i / VALUE_DISTRIBUTIONS.length) % 2 === 1), random);
        // The limit is computed by the reference only: other orders take seconds there in plain JS
        // (the next test runs them all at the limit's k).
        const producer = sizeClass(i) === 4 ? 'reference' : PRODUCERS[i % PRODUCERS.length];
        const c = producer === 'reference' ? referenceMatmul(a, b, { n, k, m }) : orderedMatmul(a, b, { n, k, m }, producer);
        const problem = checkHonest(a, b, c, dims, random);
        if (problem) rejected.push(`task ${i} [${n},${k}]·[${k},${m}] ${dist} ${producer}: ${problem}`);
      }
      expect(rejected).toEqual([]);
    },
    MATMUL_TIMEOUT_MS,
  );

  // Honest error grows with k (most on sign-sorted data), so every order runs at the limit's k, on
  // few rows (projections, two column blocks) and on few columns (recomputed by verify).
  it(
    `k = ${MAX_K}: every summation order and distribution, by projections and by recomputation`,
    () => {
      const random = seededRandom(104);
      const rejected: string[] = [];
      const shapes = [
        [8, MAX_K, MAX_K],
        [MAX_K, MAX_K, 8],
      ] as const;
      for (const [s, dims] of shapes.entries()) {
        const [n, k, m] = dims;
        for (const dist of VALUE_DISTRIBUTIONS) {
          for (const [p, producer] of PRODUCERS.entries()) {
            const a = randomValues(n * k, k, dist, random);
            const b = randomValues(k * m, m, secondFactor(dist, (p + s) % 2 === 1), random);
            const c = producer === 'reference' ? referenceMatmul(a, b, { n, k, m }) : orderedMatmul(a, b, { n, k, m }, producer);
            const problem = checkHonest(a, b, c, dims, random);
            if (problem) rejected.push(`[${n},${k}]·[${k},${m}] ${dist} ${producer}: ${problem}`);
          }
        }
      }
      expect(rejected).toEqual([]);
    },
    MATMUL_TIMEOUT_MS,
  );
});

describe('completeness - vecadd accepts every honest sum', () => {
  const LENGTHS: ReadonlyArray<readonly [number, number]> = [
    [1, 64],
    [65, 4_096],
    [4_097, 65_536],
    [65_537, 262_144],
    [1_000_000, 1_000_000],
  ];

  it(
    `${TASKS} tasks, rounded to nearest or with subnormals flushed to zero`,
    () => {
      const random = seededRandom(102);
      const rejected: string[] = [];
      for (let i = 0; i < TASKS; i++) {
        const [lo, hi] = LENGTHS[sizeClass(i)];
        const n = between(lo, hi, random);
        const dist = distribution(i);
        const inputs: DenseTensor[] = [
          { name: 'a', shape: [n], data: randomValues(n, n, dist, random) },
          { name: 'b', shape: [n], data: randomValues(n, n, dist, random) },
        ];
        const [c] = getSkill('vecadd').reference(inputs);
        if (i % 2) flushSubnormals(c.data);
        const verdict = getSkill('vecadd').verify(inputs, [c], random);
        if (!verdict.ok) rejected.push(`task ${i} n=${n} ${dist}: ${verdict.detail}`);
      }
      expect(rejected).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it('accepts sums of subnormals flushed to zero by a GPU', () => {
    const tiny = Float32Array.of(1e-39, -3e-40, 2e-45, 1e-38);
    const inputs: DenseTensor[] = [
      { name: 'a', shape: [4], data: tiny },
      { name: 'b', shape: [4], data: tiny },
    ];
    expect(getSkill('vecadd').verify(inputs, [{ name: 'c', shape: [4], data: new Float32Array(4) }], seededRandom(1)).ok).toBe(true);
  });
});

describe('completeness - mlp accepts every honest forward pass', () => {
  // [lo, hi] of batch, in and hidden per size class (out ≤ 16); the limit is the 700-wide demo network.
  const DIMS: ReadonlyArray<readonly [number, number]> = [
    [1, 12],
    [13, 48],
    [49, 160],
    [161, 256],
    [700, 700],
  ];

  it(
    `${TASKS} tasks, every summation order, f32 softmax`,
    () => {
      const random = seededRandom(103);
      const rejected: string[] = [];
      for (let i = 0; i < TASKS; i++) {
        const cls = sizeClass(i);
        const [lo, hi] = DIMS[cls];
        const [batch, I, H] = [between(lo, hi, random), between(lo, hi, random), between(lo, hi, random)];
        const O = cls === 4 ? 10 : between(1, cls === 0 ? 8 : 16, random);
        const dist = distribution(i);
        // 1/√fan-in weights, as demo-inputs: activations O(1) at every size.
        const inputs: DenseTensor[] = [
          { name: 'x', shape: [batch, I], data: randomValues(batch * I, I, dist, random) },
          { name: 'w1', shape: [I, H], data: randomValues(I * H, H, 'uniform', random, 1 / Math.sqrt(I)) },
          { name: 'b1', shape: [H], data: randomValues(H, H, 'uniform', random, 0.1) },
          { name: 'w2', shape: [H, O], data: randomValues(H * O, O, 'uniform', random, 1 / Math.sqrt(H)) },
          { name: 'b2', shape: [O], data: randomValues(O, O, 'uniform', random, 0.1) },
        ];
        const producer = cls === 4 ? 'reference' : PRODUCERS[i % PRODUCERS.length];
        const outputs = producer === 'reference' ? getSkill('mlp').reference(inputs) : orderedMlp(inputs, producer);
        const verdict = getSkill('mlp').verify(inputs, outputs, random);
        if (!verdict.ok) rejected.push(`task ${i} ${batch}×${I}→${H}→${O} ${dist} ${producer}: ${verdict.detail}`);
      }
      expect(rejected).toEqual([]);
    },
    TIMEOUT_MS,
  );
});

function flushSubnormals(data: Float32Array): void {
  for (let i = 0; i < data.length; i++) if (data[i] !== 0 && data[i] < F32_MIN_NORMAL && data[i] > -F32_MIN_NORMAL) data[i] = 0;
}

/**
 * Completeness (issue 10 §2) of matmul: 10,000 random honest products, most small and a few at the
 * node's limit, in every summation order and on every value distribution, are never rejected
 * (completeness-fixtures.ts). The gpu.js kernels' own results are checked in libs/kernels
 * (kernel-verification.trials.spec.ts).
 */
import { seededRandom } from '@swarm/determinism';
import { between, checkHonest, distribution, MATMUL_TIMEOUT_MS, MAX_K, PRODUCERS, secondFactor, sizeClass, TASKS } from './completeness-fixtures';
import { orderedMatmul } from './f32-orders';
import { referenceMatmul } from './matmul';
import { randomValues, VALUE_DISTRIBUTIONS } from './value-distributions';

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
        // (completeness-matmul-limit.trials.spec.ts runs them all at the limit's k).
        const producer = sizeClass(i) === 4 ? 'reference' : PRODUCERS[i % PRODUCERS.length];
        const c = producer === 'reference' ? referenceMatmul(a, b, { n, k, m }) : orderedMatmul(a, b, { n, k, m }, producer);
        const problem = checkHonest(a, b, c, dims, random);
        if (problem) rejected.push(`task ${i} [${n},${k}]·[${k},${m}] ${dist} ${producer}: ${problem}`);
      }
      expect(rejected).toEqual([]);
    },
    MATMUL_TIMEOUT_MS,
  );
});

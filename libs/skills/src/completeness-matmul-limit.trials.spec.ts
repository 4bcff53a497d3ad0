/**
 * Completeness (issue 10 §2) of matmul at the node's limit on k: honest error grows with k, so every
 * summation order and value distribution runs there (completeness-fixtures.ts).
 */
import { seededRandom } from '@swarm/determinism';
import { checkHonest, MATMUL_TIMEOUT_MS, MAX_K, PRODUCERS, secondFactor } from './completeness-fixtures';
import { orderedMatmul } from './f32-orders';
import { referenceMatmul } from './matmul';
import { randomValues, VALUE_DISTRIBUTIONS } from './value-distributions';

describe("completeness - matmul at the limit's k accepts every honest product", () => {
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

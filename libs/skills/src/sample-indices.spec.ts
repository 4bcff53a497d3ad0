import { seededRandom } from '@swarm/determinism';
import fc from 'fast-check';
import { sampleIndices } from './sample-indices';

describe('sampleIndices - distinct sample', () => {
  it('returns min(count, n) distinct sorted indices in [0, n)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 600 }), fc.integer(), (n, count, seed) => {
        const got = sampleIndices(n, count, seededRandom(seed));
        expect(got).toHaveLength(Math.min(n, count));
        expect(new Set(got).size).toBe(got.length);
        got.forEach((v, i) => {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThan(n);
          if (i > 0) expect(v).toBeGreaterThan(got[i - 1]);
        });
      }),
      { seed: 7 },
    );
  });
});

import { seededRandom } from '@swarm/determinism';
import fc from 'fast-check';
import { freivalds, FREIVALDS_ROUNDS, Mat } from './freivalds';
import { referenceMatmul } from './matmul';

// Fixed seeds: a correct product is always accepted (the tolerance is a rigorous bound), and a wrong
// one slips through with probability 2^-20 per case, so a fixed seed keeps the suite deterministic.
const FC = { seed: 20_240_601, numRuns: 150 };

const value = fc.float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true });

/** Random a:[n,k], b:[k,m] with values spanning many magnitudes, and their f32 product. */
const product = fc
  .record({ n: fc.integer({ min: 1, max: 12 }), k: fc.integer({ min: 1, max: 12 }), m: fc.integer({ min: 1, max: 12 }) })
  .chain(({ n, k, m }) =>
    fc.record({
      a: fc.float32Array({ minLength: n * k, maxLength: n * k, min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }),
      b: fc.float32Array({ minLength: k * m, maxLength: k * m, min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }),
      seed: fc.integer(),
    }).map(({ a, b, seed }) => {
      const c = referenceMatmul(a, b, { n, k, m });
      return { a: mat(n, k, a), b: mat(k, m, b), c: mat(n, m, c), seed };
    }),
  );

/** Σ_p |a_ip| Σ_j |b_pj|: the scale of row i of a·b. */
function rowScale(a: Mat, b: Mat, i: number): number {
  let s = 0;
  for (let p = 0; p < a.cols; p++) {
    let bs = 0;
    for (let j = 0; j < b.cols; j++) bs += Math.abs(b.data[p * b.cols + j]);
    s += Math.abs(a.data[i * a.cols + p]) * bs;
  }
  return s;
}

function mat(rows: number, cols: number, data: Float32Array): Mat {
  return { rows, cols, data };
}

describe('freivalds - correct products', () => {
  it('accepts every correct f32 product, whatever the summation order', () => {
    fc.assert(
      fc.property(product, ({ a, b, c, seed }) => {
        expect(freivalds(a, b, c, FREIVALDS_ROUNDS, seededRandom(seed))).toBe(true);
        // The same product summed in reverse order (as another backend might) also passes.
        const reversed = new Float32Array(c.data.length);
        for (let i = 0; i < a.rows; i++) {
          for (let j = 0; j < b.cols; j++) {
            let s = Math.fround(0);
            for (let p = a.cols - 1; p >= 0; p--) s = Math.fround(s + Math.fround(a.data[i * a.cols + p] * b.data[p * b.cols + j]));
            reversed[i * b.cols + j] = s;
          }
        }
        expect(freivalds(a, b, mat(c.rows, c.cols, reversed), FREIVALDS_ROUNDS, seededRandom(seed))).toBe(true);
      }),
      FC,
    );
  });
});

describe('freivalds - wrong products', () => {
  it('rejects a product with one corrupted entry', () => {
    fc.assert(
      fc.property(product, fc.nat(), value, ({ a, b, c, seed }, at, noise) => {
        const bad = Float32Array.from(c.data);
        const i = at % bad.length;
        // Clearly outside f32 rounding, which scales with the row's Σ|a||b| (≤ 2γ(12) ≈ 3e-6 of it).
        const delta = 1 + 1e-3 * rowScale(a, b, Math.floor(i / c.cols)) + Math.abs(noise);
        bad[i] += noise < 0 ? -delta : delta;
        expect(freivalds(a, b, mat(c.rows, c.cols, bad), FREIVALDS_ROUNDS, seededRandom(seed))).toBe(false);
      }),
      FC,
    );
  });

  it('rejects NaN and Infinity in the claimed product', () => {
    const a = mat(2, 2, new Float32Array([1, 2, 3, 4]));
    const b = mat(2, 2, new Float32Array([5, 6, 7, 8]));
    for (const poison of [NaN, Infinity, -Infinity]) {
      const c = referenceMatmul(a.data, b.data, { n: 2, k: 2, m: 2 });
      c.fill(poison, 3, 4);
      // 40 rounds: the poisoned column is drawn with probability 1 - 2^-40.
      expect(freivalds(a, b, mat(2, 2, c), 40, seededRandom(1))).toBe(false);
    }
  });

  it('throws RangeError when the shapes do not chain', () => {
    const a = mat(2, 3, new Float32Array(6));
    expect(() => freivalds(a, mat(2, 2, new Float32Array(4)), mat(2, 2, new Float32Array(4)), 1, seededRandom(1))).toThrow(RangeError);
    expect(() => freivalds(a, mat(3, 2, new Float32Array(6)), mat(2, 3, new Float32Array(6)), 1, seededRandom(1))).toThrow(RangeError);
    expect(() => freivalds(a, mat(3, 2, new Float32Array(5)), mat(2, 2, new Float32Array(4)), 1, seededRandom(1))).toThrow(RangeError);
  });
});

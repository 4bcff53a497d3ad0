import type { DenseTensor } from '@swarm/contracts';
import { ErrorCode } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import fc from 'fast-check';
import { matmul, referenceMatmul } from './matmul';

const LIMITS = { maxElements: 1_000 };
const INVALID = ErrorCode.ERROR_CODE_INVALID_ARGUMENT;
const TOO_LARGE = ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE;

function t(name: string, shape: number[], values?: number[]): DenseTensor {
  const count = shape.reduce((n, d) => n * d, 1);
  return { name, shape, data: Float32Array.from(values ?? Array.from({ length: Math.max(0, count) }, (_, i) => (i % 7) - 3)) };
}

describe('matmul - validate', () => {
  const cases: Array<[string, DenseTensor[], ErrorCode, RegExp]> = [
    ['too few inputs', [t('a', [2, 2])], INVALID, /expects 2 inputs \(a:\[n,k\] b:\[k,m\]\), got 1/],
    ['too many inputs', [t('a', [2, 2]), t('b', [2, 2]), t('c', [2, 2])], INVALID, /expects 2 inputs/],
    ['wrong name', [t('a', [2, 2]), t('x', [2, 2])], INVALID, /input 1 must be named 'b'/],
    ['swapped names', [t('b', [2, 2]), t('a', [2, 2])], INVALID, /input 0 must be named 'a'/],
    ['rank 1', [t('a', [4]), t('b', [2, 2])], INVALID, /'a' must have rank 2/],
    ['rank 3', [t('a', [2, 2]), t('b', [2, 2, 1])], INVALID, /'b' must have rank 2/],
    ['zero dimension', [t('a', [0, 2]), t('b', [2, 2])], INVALID, /every dimension must be a positive integer/],
    ['fractional dimension', [t('a', [1.5, 2], [1, 2, 3]), t('b', [2, 2])], INVALID, /positive integer/],
    ['inner dimensions differ', [t('a', [2, 3]), t('b', [4, 2])], INVALID, /same k, got a:\[2,3\] b:\[4,2\]/],
    ['data shorter than shape', [t('a', [2, 2], [1, 2, 3]), t('b', [2, 2])], INVALID, /has 3 values but shape \[2,2\] needs 4/],
    ['NaN value', [t('a', [2, 2], [1, NaN, 3, 4]), t('b', [2, 2])], INVALID, /non-finite value \(NaN\) at index 1/],
    ['infinite value', [t('a', [2, 2]), t('b', [2, 2], [1, 2, -Infinity, 4])], INVALID, /'b' holds a non-finite value/],
    // c[0][1] = 1e20·1e20: a product past f32, whose honest answer would be Infinity.
    [
      'values whose product overflows f32',
      [t('a', [2, 2], [1e20, 1, 1, 1]), t('b', [2, 2], [1, 1e20, 1, 1])],
      INVALID,
      /could overflow f32: max over rows of Σ_p \|a_ip\|·max_j \|b_pj\| is 1\.00e\+40/,
    ],
    ['inputs over the limit', [t('a', [20, 30]), t('b', [30, 20])], TOO_LARGE, /inputs hold 1200 elements; this node accepts at most 1000/],
    ['output over the limit', [t('a', [100, 1]), t('b', [1, 100])], TOO_LARGE, /output c hold 10000 elements/],
  ];

  it('takes large values whose product stays in f32 range, where the rough bound k·max|a|·max|b| would not', () => {
    expect(() => matmul.validate([t('a', [2, 2], [1e30, 0, 0, 1]), t('b', [2, 2], [1, 0, 0, 1e30])], LIMITS)).not.toThrow();
  });

  it.each(cases)('refuses %s', (_what, inputs, code, message) => {
    let err: unknown;
    try {
      matmul.validate(inputs, LIMITS);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'SwarmError', code });
    expect((err as Error).message).toMatch(message);
  });

  it('accepts well-formed inputs', () => {
    expect(() => matmul.validate([t('a', [3, 4]), t('b', [4, 5])], LIMITS)).not.toThrow();
  });
});

describe('matmul - reference', () => {
  it('equals the textbook triple loop', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer(), (n, k, m, seed) => {
        const r = seededRandom(seed);
        const a = Float32Array.from({ length: n * k }, () => r() - 0.5);
        const b = Float32Array.from({ length: k * m }, () => r() - 0.5);
        const c = referenceMatmul(a, b, { n, k, m });
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < m; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * m + j];
            expect(c[i * m + j]).toBeCloseTo(s, 5);
          }
        }
      }),
      { seed: 3 },
    );
  });
});

describe('matmul - verify', () => {
  const inputs = [t('a', [3, 4]), t('b', [4, 5])];

  it('accepts the reference result with the freivalds method', () => {
    expect(matmul.verify(inputs, matmul.reference(inputs), seededRandom(1))).toMatchObject({ ok: true, method: 'freivalds' });
  });

  it('rejects a wrong value, a wrong shape, a wrong name and a missing output', () => {
    const [c] = matmul.reference(inputs);
    const wrong = { ...c, data: Float32Array.from(c.data, (v, i) => (i === 7 ? v + 10 : v)) };
    // 20 rounds; the corrupted column is drawn in a round with probability 1 - 2^-20 (seed fixed).
    expect(matmul.verify(inputs, [wrong], seededRandom(2)).ok).toBe(false);
    expect(matmul.verify(inputs, [{ ...c, shape: [5, 3] }], seededRandom(2))).toMatchObject({ ok: false, detail: /should be c:\[3,5\]/ });
    expect(matmul.verify(inputs, [{ ...c, name: 'z' }], seededRandom(2)).ok).toBe(false);
    expect(matmul.verify(inputs, [], seededRandom(2))).toMatchObject({ ok: false, detail: 'expected 1 output(s), got 0' });
  });

  it('counts 2·n·k·m flops of work', () => {
    expect(matmul.work(inputs)).toBe(2 * 3 * 4 * 5);
  });
});

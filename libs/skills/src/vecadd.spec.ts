import type { DenseTensor } from '@swarm/contracts';
import { ErrorCode } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import fc from 'fast-check';
import { vecadd } from './vecadd';

const LIMITS = { maxElements: 100 };

function t(name: string, shape: number[], values?: number[]): DenseTensor {
  const count = shape.reduce((n, d) => n * d, 1);
  return { name, shape, data: Float32Array.from(values ?? Array.from({ length: count }, (_, i) => i / 3)) };
}

describe('vecadd - validate', () => {
  const cases: Array<[string, DenseTensor[], ErrorCode, RegExp]> = [
    ['one input', [t('a', [3])], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /expects 2 inputs \(a:\[n\] b:\[n\]\)/],
    ['wrong name', [t('a', [3]), t('c', [3])], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /named 'b'/],
    ['a matrix', [t('a', [3, 1]), t('b', [3])], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /rank 1/],
    ['different lengths', [t('a', [3]), t('b', [4])], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /one length, got a:\[3\] b:\[4\]/],
    ['data longer than shape', [t('a', [2], [1, 2, 3]), t('b', [2])], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /3 values but shape \[2\] needs 2/],
    ['NaN', [t('a', [2]), t('b', [2], [0, NaN])], ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /non-finite/],
    [
      'values whose sum overflows f32',
      [t('a', [2], [3e38, 0]), t('b', [2], [0, 3e38])],
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      /could overflow f32: max \|a_i \+ b_i\| is 3\.00e\+38/,
    ],
    ['over the limit', [t('a', [60]), t('b', [60])], ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, /120 elements/],
  ];

  it('takes large values whose sums stay in f32 range, where the rough bound max|a| + max|b| would not', () => {
    expect(() => vecadd.validate([t('a', [2], [1.5e38, 0]), t('b', [2], [0, 1.5e38])], LIMITS)).not.toThrow();
  });

  it.each(cases)('refuses %s', (_what, inputs, code, message) => {
    expect(() => vecadd.validate(inputs, LIMITS)).toThrow(message);
    expect(() => vecadd.validate(inputs, LIMITS)).toThrow(expect.objectContaining({ code }));
  });
});

describe('vecadd - verify', () => {
  it('accepts correct sums and rejects any corrupted entry', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.integer(), (n, at, seed) => {
        const r = seededRandom(seed);
        const inputs = [
          t(
            'a',
            [n],
            Array.from({ length: n }, () => r() * 200 - 100),
          ),
          t(
            'b',
            [n],
            Array.from({ length: n }, () => r() - 0.5),
          ),
        ];
        const [c] = vecadd.reference(inputs);
        expect(vecadd.verify(inputs, [c], r).ok).toBe(true);
        const bad = Float32Array.from(c.data);
        bad[at % n] += 0.01 + Math.abs(bad[at % n]) * 1e-3;
        expect(vecadd.verify(inputs, [{ ...c, data: bad }], r)).toMatchObject({ ok: false, method: 'full-check' });
      }),
      { seed: 11 },
    );
  });

  it('checks every element of a long vector: one wrong entry anywhere is caught', () => {
    const n = 100_000;
    const inputs = [t('a', [n]), t('b', [n])];
    const [c] = vecadd.reference(inputs);
    expect(vecadd.verify(inputs, [c], seededRandom(5))).toMatchObject({ ok: true, detail: `checked all ${n} element(s)` });
    const bad = Float32Array.from(c.data);
    bad[77_777] *= 1.001;
    expect(vecadd.verify(inputs, [{ ...c, data: bad }], seededRandom(5))).toMatchObject({ ok: false, detail: /^c\[77777\] = / });
    bad[77_777] = NaN;
    expect(vecadd.verify(inputs, [{ ...c, data: bad }], seededRandom(5)).ok).toBe(false);
  });

  it('counts one flop per element', () => {
    expect(vecadd.work([t('a', [7]), t('b', [7])])).toBe(7);
  });
});

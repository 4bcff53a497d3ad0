import { ErrorCode, SwarmError } from '@swarm/contracts';
import fc from 'fast-check';
import { shapleyPayouts } from './payouts';

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SwarmError) return err.code;
    throw err;
  }
  return undefined;
}

const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

describe('attribution - payouts', () => {
  it('splits in proportion, leftovers by largest remainder, ties to the lower index', () => {
    expect(shapleyPayouts([1, 1, 1], 100n)).toEqual([34n, 33n, 33n]);
    expect(shapleyPayouts([1, 1, 2], 2n)).toEqual([1n, 0n, 1n]); // 0.5, 0.5 and 1: a tie, the lower index wins
    expect(shapleyPayouts([0.2, 0.5, 0.3], 1_000_000n)).toEqual([200_000n, 500_000n, 300_000n]);
  });

  it('pays a negative value 0 and renormalises the rest', () => {
    expect(shapleyPayouts([-5, 2, 2, 0], 9n)).toEqual([0n, 5n, 4n, 0n]);
    // Sampling noise around a free rider's 0.
    expect(shapleyPayouts([50, 50, -1e-12], 1_000n)).toEqual([500n, 500n, 0n]);
  });

  it('pays nothing from an empty pool, and refuses to split a pool nobody earned', () => {
    expect(shapleyPayouts([1, 2], 0n)).toEqual([0n, 0n]);
    expect(codeOf(() => shapleyPayouts([0, -1], 10n))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });

  it('refuses bad values and pools', () => {
    expect(codeOf(() => shapleyPayouts([], 10n))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => shapleyPayouts([1, Number.NaN], 10n))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => shapleyPayouts([1, Number.POSITIVE_INFINITY], 10n))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => shapleyPayouts([1], -1n))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => shapleyPayouts([1], 10 as unknown as bigint))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });

  it('always sums exactly to the pool, each payout within 1 of its proportional share', () => {
    const values = fc.array(fc.double({ min: -10, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }).filter((xs) => xs.some((x) => x > 0));
    fc.assert(
      fc.property(values, fc.bigInt({ min: 0n, max: 10n ** 12n }), (xs, pool) => {
        const payouts = shapleyPayouts(xs, pool);
        expect(sum(payouts)).toBe(pool);
        const positive = xs.reduce((a, x) => a + Math.max(0, x), 0);
        payouts.forEach((p, i) => {
          expect(p >= 0n).toBe(true);
          if (xs[i] <= 0) expect(p).toBe(0n);
          const share = (Number(pool) * Math.max(0, xs[i])) / positive;
          expect(Math.abs(Number(p) - share)).toBeLessThanOrEqual(1 + 1e-9 * Number(pool));
        });
      }),
    );
  });

  it('sums exactly for pools far beyond 2^53', () => {
    const pool = 10n ** 30n + 7n;
    const payouts = shapleyPayouts([1 / 3, 1 / 3, 1 / 3, 1e-9], pool);
    expect(sum(payouts)).toBe(pool);
  });
});

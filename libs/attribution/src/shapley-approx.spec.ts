import { ErrorCode, SwarmError } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { fromMaskValue } from './game';
import { MIN_PAIRS_FOR_TARGET, approxShapley } from './shapley-approx';
import { exactShapley } from './shapley-exact';

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SwarmError) return err.code;
    throw err;
  }
  return undefined;
}

/**
 * A game antithetic pairs cannot solve outright (they cancel linear and pairwise terms exactly):
 * v(S) = min(Σ_{i∈S} a_i, 5) + 5·[{0, 1, 4} ⊆ S].
 */
const A = [1, 2, 0.5, 3, 1.5, 0.25];
const lumpy = (mask: number): number => {
  let sum = 0;
  for (let i = 0; i < A.length; i++) if ((mask >>> i) & 1) sum += A[i];
  return Math.min(sum, 5) + ((mask & 0b10011) === 0b10011 ? 5 : 0);
};

const l1 = (a: number[], b: number[]) => a.reduce((s, x, i) => s + Math.abs(x - b[i]), 0);

describe('attribution - approximate Shapley', () => {
  it('is efficient for any sample: the estimates sum to v(N) - v(∅)', () => {
    const est = approxShapley(A.length, fromMaskValue(A.length, lumpy), { random: seededRandom(1), permutations: 8 });
    expect(est.values.reduce((a, b) => a + b, 0)).toBeCloseTo(lumpy(0b111111) - lumpy(0), 9);
    expect(est.permutations).toBe(8);
  });

  it('lands within 4 standard errors of the exact values, and the error shrinks with samples', () => {
    const exact = exactShapley(A.length, lumpy);
    const v = fromMaskValue(A.length, lumpy);
    let small = 0;
    let large = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const few = approxShapley(A.length, v, { random: seededRandom(seed), permutations: 32 });
      const many = approxShapley(A.length, v, { random: seededRandom(seed), permutations: 2048 });
      many.values.forEach((x, i) => expect(Math.abs(x - exact[i])).toBeLessThanOrEqual(4 * many.stdErrs[i] + 1e-9));
      small += l1(few.values, exact);
      large += l1(many.values, exact);
    }
    // 64× the samples: the error should fall by about 8×; ask for 3×.
    expect(large * 3).toBeLessThan(small);
  });

  it('gives a free rider exactly 0 with a standard error of 0', () => {
    // Player 2 never changes the value.
    const v = fromMaskValue(4, (mask) => ((mask & 0b1011) === 0b1011 ? 10 : (mask & 1) * 2));
    const est = approxShapley(4, v, { random: seededRandom(3), permutations: 64 });
    expect(est.values[2]).toBe(0);
    expect(est.stdErrs[2]).toBe(0);
  });

  it('is the same for the same seed, and rounds an odd budget up to whole antithetic pairs', () => {
    const v = fromMaskValue(A.length, lumpy);
    const a = approxShapley(A.length, v, { random: seededRandom(9), permutations: 101 });
    const b = approxShapley(A.length, v, { random: seededRandom(9), permutations: 101 });
    expect(a).toEqual(b);
    expect(a.permutations).toBe(102);
  });

  it('stops at the target standard error, before the budget', () => {
    const v = fromMaskValue(A.length, lumpy);
    const est = approxShapley(A.length, v, { random: seededRandom(5), permutations: 100_000, targetStdErr: 0.2 });
    expect(est.permutations).toBeLessThan(100_000);
    expect(est.permutations).toBeGreaterThanOrEqual(2 * MIN_PAIRS_FOR_TARGET);
    for (const s of est.stdErrs) expect(s).toBeLessThanOrEqual(0.2);
  });

  it('works on a membership vector beyond 30 players', () => {
    const n = 64;
    // Additive game: φ_i = i exactly, whatever the orders.
    const est = approxShapley(n, (members) => members.reduce((sum, m, i) => sum + m * i, 0), { random: seededRandom(2), permutations: 4 });
    est.values.forEach((x, i) => expect(x).toBeCloseTo(i, 9));
  });

  it('refuses bad options and non-finite values with INVALID_ARGUMENT', () => {
    const v = () => 1;
    const random = seededRandom(1);
    expect(codeOf(() => approxShapley(0, v, { random }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => approxShapley(3, v, { random, permutations: 2 }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => approxShapley(3, v, { random, permutations: 1e9 }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => approxShapley(3, v, { random, targetStdErr: -1 }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => approxShapley(3, v, { random: undefined as unknown as () => number }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => approxShapley(3, () => Number.NaN, { random }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });
});

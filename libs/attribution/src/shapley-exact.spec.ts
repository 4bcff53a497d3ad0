import { ErrorCode, SwarmError } from '@swarm/contracts';
import { MAX_EXACT_PLAYERS, exactShapley, shapleyWeights } from './shapley-exact';

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SwarmError) return err.code;
    throw err;
  }
  return undefined;
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

describe('attribution - exact Shapley', () => {
  it('weights s!(n-s-1)!/n! sum to 1 over all coalitions without the player, for every n up to the limit', () => {
    for (let n = 1; n <= MAX_EXACT_PLAYERS; n++) {
      const w = shapleyWeights(n);
      let total = 0;
      for (let s = 0; s < n; s++) total += binomial(n - 1, s) * w[s];
      expect(total).toBeCloseTo(1, 12);
    }
    expect(Array.from(shapleyWeights(3))).toEqual([1 / 3, 1 / 6, 1 / 3]);
  });

  it('splits a unanimity game equally among the players it needs', () => {
    const needed = 0b1011;
    const phi = exactShapley(5, (mask) => ((mask & needed) === needed ? 90 : 0));
    expect(phi.map((x) => Number(x.toFixed(9)))).toEqual([30, 30, 0, 30, 0]);
  });

  it('gives the glove game its textbook values (one left glove, two right gloves)', () => {
    // Player 0 holds the left glove; a pair is worth 1.
    const phi = exactShapley(3, (mask) => ((mask & 1) !== 0 && (mask & 0b110) !== 0 ? 1 : 0));
    expect(phi[0]).toBeCloseTo(2 / 3, 12);
    expect(phi[1]).toBeCloseTo(1 / 6, 12);
    expect(phi[2]).toBeCloseTo(1 / 6, 12);
  });

  it('gives a lone player everything above the empty coalition', () => {
    expect(exactShapley(1, (mask) => (mask === 1 ? 7 : 2))).toEqual([5]);
  });

  it('computes n = 12 well inside the settlement budget', () => {
    const weights = Array.from({ length: 12 }, (_, i) => i + 1);
    const phi = exactShapley(12, (mask) => weights.reduce((sum, w, i) => ((mask >>> i) & 1 ? sum + w : sum), 0));
    phi.forEach((x, i) => expect(x).toBeCloseTo(weights[i], 9));
  });

  it('refuses a bad player count or a value that is not a finite number', () => {
    expect(codeOf(() => exactShapley(0, () => 0))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => exactShapley(MAX_EXACT_PLAYERS + 1, () => 0))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => exactShapley(2.5, () => 0))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => exactShapley(3, (mask) => (mask === 5 ? Number.NaN : 1)))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(() => exactShapley(3, () => Number.POSITIVE_INFINITY)).toThrow(/finite number/);
  });
});

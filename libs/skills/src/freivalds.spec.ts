import { seededRandom } from '@swarm/determinism';
import fc from 'fast-check';
import { dotTolerance, driftDirections, partialSumDrift } from './f32-error';
import { orderedMatmul } from './f32-orders';
import type { Mat } from './freivalds';
import { checkProduct, columnBlockEnds, freivalds, FREIVALDS_MAX_BLOCK, FREIVALDS_ROUNDS, productCheckMode } from './freivalds';
import { referenceMatmul } from './matmul';
import { randomValues } from './value-distributions';

// Fixed seeds: a correct product is accepted (the tolerance covers honest f32 rounding with a wide
// margin), and a wrong one slips through with probability 2^-20 per case; a fixed seed keeps the
// suite deterministic.
const FC = { seed: 20_240_601, numRuns: 150 };

const value = fc.float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true });

/** Random a:[n,k], b:[k,m] with values spanning many magnitudes, and their f32 product. */
const product = fc.record({ n: fc.integer({ min: 1, max: 12 }), k: fc.integer({ min: 1, max: 12 }), m: fc.integer({ min: 1, max: 12 }) }).chain(({ n, k, m }) =>
  fc
    .record({
      a: fc.float32Array({ minLength: n * k, maxLength: n * k, min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }),
      b: fc.float32Array({ minLength: k * m, maxLength: k * m, min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }),
      seed: fc.integer(),
    })
    .map(({ a, b, seed }) => {
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

  it('rejects NaN and Infinity in the claimed product, by projections and by recomputation', () => {
    const a = mat(2, 2, new Float32Array([1, 2, 3, 4]));
    const b = mat(2, 2, new Float32Array([5, 6, 7, 8]));
    for (const poison of [NaN, Infinity, -Infinity]) {
      const c = referenceMatmul(a.data, b.data, { n: 2, k: 2, m: 2 });
      c.fill(poison, 3, 4);
      expect(freivalds(a, b, mat(2, 2, c), 1, seededRandom(1))).toBe(false);
      expect(checkProduct(a, b, mat(2, 2, c), seededRandom(1), { mode: 'recompute' })).toMatchObject({ ok: false, detail: /^\[1,1\] is -?(NaN|Infinity)/ });
    }
  });

  it.each([
    [40, 'uniform'],
    [300, 'sorted'],
  ] as const)("a single round rejects an element off by 2τ and passes one off by τ/2 (τ: its row block's tolerance; %i, %s)", (n, dist) => {
    const r = seededRandom(3);
    const a = mat(n, n, randomValues(n * n, n, dist, r));
    const b = mat(n, n, randomValues(n * n, n, dist === 'sorted' ? 'positive' : dist, r));
    const c = referenceMatmul(a.data, b.data, { n, k: n, m: n });
    const tau = rowTolerance(a, b, c, 7);
    for (const [factor, ok] of [
      [2, false],
      [0.5, true],
    ] as const) {
      // 100 elements of row 7, spread over its whole width (every third column at 300).
      for (let trial = 0; trial < 100; trial++) {
        const bad = Float32Array.from(c);
        bad[7 * n + ((trial * 3) % n)] += (trial % 2 ? -factor : factor) * tau;
        expect(freivalds(a, b, mat(n, n, bad), 1, r)).toBe(ok);
      }
    }
  });

  it('passes two cancelling errors in one block in about half the rounds: the bound per round is 1/2', () => {
    const n = 30;
    const r = seededRandom(4);
    const a = mat(
      n,
      n,
      Float32Array.from({ length: n * n }, () => r() * 2 - 1),
    );
    const b = mat(
      n,
      n,
      Float32Array.from({ length: n * n }, () => r() * 2 - 1),
    );
    const bad = referenceMatmul(a.data, b.data, { n, k: n, m: n });
    bad[5 * n + 2] += 1;
    bad[5 * n + 9] -= 1;
    let passed = 0;
    const trials = 4_000;
    for (let t = 0; t < trials; t++) if (freivalds(a, b, mat(n, n, bad), 1, r)) passed += 1;
    // Binomial(4000, 1/2): sd 32, so ±200 is six sd.
    expect(Math.abs(passed - trials / 2)).toBeLessThan(200);
    expect(freivalds(a, b, mat(n, n, bad), FREIVALDS_ROUNDS, r)).toBe(false);
  });

  it('throws RangeError when the bias does not fit the columns, or the rounds are no whole number', () => {
    const a = mat(2, 2, new Float32Array(4));
    expect(() => checkProduct(a, a, a, seededRandom(1), { bias: new Float32Array(3) })).toThrow(RangeError);
    for (const rounds of [2.5, -1, NaN]) expect(() => checkProduct(a, a, a, seededRandom(1), { rounds })).toThrow(RangeError);
  });

  it('throws RangeError when the shapes do not chain', () => {
    const a = mat(2, 3, new Float32Array(6));
    expect(() => freivalds(a, mat(2, 2, new Float32Array(4)), mat(2, 2, new Float32Array(4)), 1, seededRandom(1))).toThrow(RangeError);
    expect(() => freivalds(a, mat(3, 2, new Float32Array(6)), mat(2, 3, new Float32Array(6)), 1, seededRandom(1))).toThrow(RangeError);
    expect(() => freivalds(a, mat(3, 2, new Float32Array(5)), mat(2, 2, new Float32Array(4)), 1, seededRandom(1))).toThrow(RangeError);
  });
});

describe('freivalds - choosing the method', () => {
  it('recomputes small or thin products and projects large ones', () => {
    expect(productCheckMode(16, 16, 16)).toBe('recompute');
    expect(productCheckMode(700, 700, 10)).toBe('recompute');
    expect(productCheckMode(64, 64, 64)).toBe('freivalds');
    expect(productCheckMode(700, 700, 700)).toBe('freivalds');
  });

  it('splits wide products into column blocks of at most FREIVALDS_MAX_BLOCK', () => {
    const n = 2;
    const m = 2 * FREIVALDS_MAX_BLOCK + 1;
    const a = mat(n, 1, Float32Array.of(1, 2));
    const b = mat(
      1,
      m,
      Float32Array.from({ length: m }, (_, j) => j % 5),
    );
    const c = referenceMatmul(a.data, b.data, { n, k: 1, m });
    expect(checkProduct(a, b, mat(n, m, c), seededRandom(1), { mode: 'freivalds' })).toMatchObject({ ok: true, detail: /× 3 column block\(s\)/ });
    c[m + m - 1] += 1;
    expect(checkProduct(a, b, mat(n, m, c), seededRandom(1), { mode: 'freivalds' })).toMatchObject({ ok: false, detail: /^row 1, columns 684\.\.1024: / });
  });

  it('checks a bias added to every row', () => {
    const a = mat(2, 2, Float32Array.of(1, 2, 3, 4));
    const b = mat(2, 2, Float32Array.of(5, 6, 7, 8));
    const bias = Float32Array.of(0.5, -1);
    const c = mat(2, 2, Float32Array.of(19.5, 21, 43.5, 49));
    for (const mode of ['freivalds', 'recompute'] as const) {
      expect(checkProduct(a, b, c, seededRandom(1), { bias, mode }).ok).toBe(true);
      expect(checkProduct(a, b, c, seededRandom(1), { mode }).ok).toBe(false);
    }
  });
});

/** τ of row i as one block (n ≤ FREIVALDS_MAX_BLOCK), as freivalds.ts computes it. */
function rowTolerance(a: Mat, b: Mat, c: Float32Array, i: number): number {
  const { rows: k, cols: m } = b;
  let cSq = 0;
  let termSq = 0;
  for (let j = 0; j < m; j++) {
    cSq += c[i * m + j] ** 2;
    for (let p = 0; p < k; p++) termSq += (a.data[i * k + p] * b.data[p * m + j]) ** 2;
  }
  const { beta } = driftDirections(b.data, k, m, columnBlockEnds(m));
  const running = [0];
  for (let p = 0; p < k; p++) running.push(running[p] + a.data[i * k + p] * beta[p]);
  return dotTolerance(k, m, cSq, termSq, bruteDrift(running));
}

/** partialSumDrift from its definition: running sums M_0..M_k, summed forwards or backwards. */
function bruteDrift(running: readonly number[]): number {
  const last = running[running.length - 1];
  const forwards = running.slice(1).reduce((s, v) => s + v * v, 0);
  const backwards = running.slice(0, -1).reduce((s, v) => s + (last - v) ** 2, 0);
  return Math.max(forwards, backwards);
}

describe('freivalds - partial sums that drift (products sorted by sign along k)', () => {
  // Rows of a positive then negative, b > 0 (or b's columns of either sign): the partial sums climb
  // ~k/2 terms high, then cancel, so honest error grows ~√k/8 times the random-walk model at k = 700.
  it.each([
    ['positive', 'reference', 'freivalds'],
    ['positive', 'ijk', 'freivalds'],
    ['sorted', 'reversed', 'freivalds'],
    ['positive', 'ijk', 'recompute'],
    ['sorted', 'reversed', 'recompute'],
  ] as const)("accepts honest products at the node's k = 1000 (b %s, %s order, %s)", (bDist, order, mode) => {
    const r = seededRandom(11);
    // Enough rows that HEAD's τ (no drift) rejected every one of these cases.
    const [n, k, m] = mode === 'freivalds' ? [24, 1000, 1000] : [200, 1000, 6];
    const a = randomValues(n * k, k, 'sorted', r);
    const b = randomValues(k * m, m, bDist, r);
    const c = order === 'reference' ? referenceMatmul(a, b, { n, k, m }) : orderedMatmul(a, b, { n, k, m }, order);
    expect(checkProduct(mat(n, k, a), mat(k, m, b), mat(n, m, c), r, { mode })).toMatchObject({ ok: true, mode });
  });

  it('partialSumDrift is the larger sum of squared running sums, forwards or backwards', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 40 }), value, (terms, first) => {
        const running = [first];
        for (const t of terms) running.push(running[running.length - 1] + t);
        const before = running.slice(0, -1);
        const sum = before.reduce((s, v) => s + v, 0);
        const sumSq = before.reduce((s, v) => s + v * v, 0);
        const expected = bruteDrift(running);
        expect(partialSumDrift(terms.length, first, sum, sumSq, running[running.length - 1])).toBeCloseTo(expected, 6 - Math.log10(expected + 1));
      }),
      FC,
    );
  });

  it('finds the direction the rows of B share: positive rows, column signs, and rows of alternating sign', () => {
    const k = 50;
    const m = 20;
    const r = seededRandom(12);
    const pattern = Float32Array.from({ length: m }, (_, j) => (j < m / 2 ? 1 : -1));
    const cases: Record<string, (p: number, j: number) => number> = {
      positive: () => 0.5 + r() * 0.5,
      'column signs': (_p, j) => pattern[j] * (0.5 + r() * 0.5),
      'alternating rows': (p, j) => (p % 2 ? -1 : 1) * pattern[j] * (0.5 + r() * 0.5),
    };
    for (const [name, draw] of Object.entries(cases)) {
      const b = Float32Array.from({ length: k * m }, (_, at) => draw(Math.floor(at / m), at % m));
      const { v } = driftDirections(b, k, m, columnBlockEnds(m));
      const shared = name === 'positive' ? new Float32Array(m).fill(1) : pattern;
      const cosine = Math.abs(v.reduce((s, x, j) => s + x * shared[j], 0)) / Math.sqrt(m);
      expect({ name, cosine: cosine > 0.95 }).toEqual({ name, cosine: true });
    }
  });

  it('raises τ on sign-sorted rows and leaves it unchanged where the partial sums stay near the result', () => {
    for (const [dist, grows] of [
      ['uniform', false],
      ['positive', false],
      ['sorted', true],
    ] as const) {
      const n = 200;
      const r = seededRandom(13);
      const a = mat(n, n, randomValues(n * n, n, dist, r));
      const b = mat(n, n, randomValues(n * n, n, dist === 'sorted' ? 'positive' : dist, r));
      const c = referenceMatmul(a.data, b.data, { n, k: n, m: n });
      const withDrift = rowTolerance(a, b, c, 3);
      let cSq = 0;
      let termSq = 0;
      for (let j = 0; j < n; j++) {
        cSq += c[3 * n + j] ** 2;
        for (let p = 0; p < n; p++) termSq += (a.data[3 * n + p] * b.data[p * n + j]) ** 2;
      }
      const without = dotTolerance(n, n, cSq, termSq);
      if (grows) expect(withDrift).toBeGreaterThan(2 * without);
      else expect(withDrift).toBe(without);
    }
  });
});

describe('freivalds - rounds projected four at a time', () => {
  it('give the verdict of the same rounds checked one at a time, and name the first that fails', () => {
    const shape = fc.record({
      n: fc.integer({ min: 1, max: 6 }),
      k: fc.integer({ min: 1, max: 24 }),
      // Past FREIVALDS_MAX_BLOCK: two column blocks.
      m: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: FREIVALDS_MAX_BLOCK + 1, max: FREIVALDS_MAX_BLOCK + 9 })),
      dist: fc.constantFrom('uniform', 'mixed', 'sorted', 'cancel'),
      rounds: fc.integer({ min: 1, max: 11 }),
      // One element off by this many times its row's τ (with drift): near it, or past it.
      offBy: fc.constantFrom(0, 0.5, 0.9, 1.1, 1.5, 3),
      // A cancelling pair in the same row block, each off by this many τ: a round with r_j1 = r_j2
      // does not see it, so each round alone fails it with probability 1/2 and rounds disagree.
      pairOffBy: fc.constantFrom(0, 0, 3, 4),
      withBias: fc.boolean(),
      seed: fc.integer(),
    });
    let mixed = 0;
    fc.assert(
      fc.property(shape, ({ n, k, m, dist, rounds, offBy, pairOffBy, withBias, seed }) => {
        const inputs = seededRandom(seed);
        const a = mat(n, k, randomValues(n * k, k, dist, inputs));
        const b = mat(k, m, randomValues(k * m, m, dist === 'sorted' ? 'positive' : dist, inputs));
        const c = referenceMatmul(a.data, b.data, { n, k, m });
        const row = Math.floor(inputs() * n);
        const tau = rowTolerance(a, b, c, row);
        // Every change in one row block of one row, so the first round that fails alone is the one named.
        const ends = columnBlockEnds(m);
        const block = Math.floor(inputs() * ends.length);
        const from = block === 0 ? 0 : ends[block - 1];
        const width = ends[block] - from;
        c[row * m + from + Math.floor(inputs() * width)] += offBy * tau;
        if (width >= 2) {
          const j1 = Math.floor(inputs() * width);
          const j2 = (j1 + 1 + Math.floor(inputs() * (width - 1))) % width;
          c[row * m + from + j1] += pairOffBy * tau;
          c[row * m + from + j2] -= pairOffBy * tau;
        }
        const bias = withBias ? randomValues(m, m, 'uniform', inputs) : undefined;
        if (bias) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) c[i * m + j] += bias[j];

        // Every round's draws, from one stream: the grouped check reads a prefix of it.
        const perRound = Math.ceil(m / 32);
        const stream = seededRandom(seed + 1);
        const draws = Array.from({ length: rounds * perRound }, () => stream());
        let next = 0;
        const together = checkProduct(a, b, mat(n, m, c), () => draws[next++], { rounds, mode: 'freivalds', bias });
        const alone = Array.from({ length: rounds }, (_, t) => {
          let at = t * perRound;
          return checkProduct(a, b, mat(n, m, c), () => draws[at++], { rounds: 1, mode: 'freivalds', bias }).ok;
        });
        if (alone.includes(true) && alone.includes(false)) mixed += 1;
        expect(together.ok).toBe(alone.every(Boolean));
        if (!together.ok) expect(together.detail).toContain(`in round ${alone.indexOf(false) + 1}`);
      }),
      { seed: 20_261_204, numRuns: 300 },
    );
    // Enough cases where the rounds disagree, each lane of a group decisive in some of them.
    expect(mixed).toBeGreaterThan(30);
  });

  it('rejects when exactly one round sees the error, whichever round of 20 it is', () => {
    // Rows of 32 columns: one draw per round. An error cancelling in every round but `bad` (r_j1 = r_j2
    // exactly when bits j1 and j2 of the draw agree).
    const n = 2;
    const k = 3;
    const m = 32;
    const inputs = seededRandom(9);
    const a = mat(n, k, randomValues(n * k, k, 'uniform', inputs));
    const b = mat(k, m, randomValues(k * m, m, 'uniform', inputs));
    const c = referenceMatmul(a.data, b.data, { n, k, m });
    const tau = rowTolerance(a, b, c, 1);
    c[m + 3] += 4 * tau;
    c[m + 7] -= 4 * tau;
    const same = 0; // bits 3 and 7 both 0: r_3 = r_7 = -1
    const differ = (1 << 3) / 2 ** 32; // bit 3 set, bit 7 not
    for (let bad = 0; bad < FREIVALDS_ROUNDS; bad++) {
      let round = 0;
      const check = checkProduct(a, b, mat(n, m, c), () => (round++ === bad ? differ : same), { rounds: FREIVALDS_ROUNDS, mode: 'freivalds' });
      expect({ bad, ok: check.ok, detail: check.detail }).toMatchObject({ bad, ok: false, detail: expect.stringContaining(`in round ${bad + 1}`) });
    }
    let round = 0;
    expect(checkProduct(a, b, mat(n, m, c), () => (round++ < 0 ? differ : same), { rounds: FREIVALDS_ROUNDS, mode: 'freivalds' }).ok).toBe(true);
  });
});

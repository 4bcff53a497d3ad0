import type { DenseTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoDenseInputs } from './demo-inputs';
import { orderedMatmul, orderedMlp, SUMMATION_ORDERS } from './f32-orders';
import type { Mat } from './freivalds';
import { checkProduct, productCheckMode } from './freivalds';
import { matmul, referenceMatmul } from './matmul';
import { mlp } from './mlp';
import { createAdversary } from './mutations';
import type { SkillSpec } from './skill-spec';
import { randomValues } from './value-distributions';
import { exactDotRow, worstDotError } from './worst-case';

// A failed check is not paid; it refutes (blames) its result only with proof: a value recomputed
// exactly past the worst case of any f32 computation (worst-case.ts).

/**
 * a:[n,k] and b:[k,m] whose every row of a and column of b is [1, s, s, …] with s² just under half an
 * ulp of 1: a forward sum in f32 loses every product after the first, so an honest kernel summing
 * p = 0..k−1 returns 1 where the exact value is 1 + (k−1)·s², from k ≈ 200 outside τ.
 */
function crafted(n: number, k: number, m: number): { a: Mat; b: Mat } {
  const s = Math.fround(2 ** -12 * 0.999);
  const a = new Float32Array(n * k).fill(s);
  const b = new Float32Array(k * m).fill(s);
  for (let i = 0; i < n; i++) a[i * k] = 1;
  for (let j = 0; j < m; j++) b[j] = 1;
  return { a: { rows: n, cols: k, data: a }, b: { rows: k, cols: m, data: b } };
}

function product(a: Mat, b: Mat, data: Float32Array): Mat {
  return { rows: a.rows, cols: b.cols, data };
}

describe('refuting a failed check: crafted inputs', () => {
  it.each([
    ['freivalds', 64, 64],
    ['recompute', 2, 3],
  ] as const)('refutes no honest result when a summation order loses every small term (%s)', (mode, n, m) => {
    const k = 1000;
    const { a, b } = crafted(n, k, m);
    expect(productCheckMode(n, k, m)).toBe(mode);
    const random = seededRandom(7);
    const forward = checkProduct(a, b, product(a, b, orderedMatmul(a.data, b.data, { n, k, m }, 'ijk')), random);
    // The probabilistic τ rejects it, and the exact recompute shows it within the worst case.
    expect(forward).toMatchObject({ ok: false, refuted: false, mode });
    expect(forward.detail).toContain('not proven wrong');
    for (const order of SUMMATION_ORDERS) {
      expect(checkProduct(a, b, product(a, b, orderedMatmul(a.data, b.data, { n, k, m }, order)), random).refuted).toBe(false);
    }
    expect(checkProduct(a, b, product(a, b, referenceMatmul(a.data, b.data, { n, k, m })), random).refuted).toBe(false);
  });

  it('refutes a result off by more than the worst case there, and names the value', () => {
    const [n, k, m] = [64, 1000, 64];
    const { a, b } = crafted(n, k, m);
    const c = orderedMatmul(a.data, b.data, { n, k, m }, 'ijk');
    c[5 * m + 9] += 0.01;
    const check = checkProduct(a, b, product(a, b, c), seededRandom(8));
    expect(check).toMatchObject({ ok: false, refuted: true });
    expect(check.detail).toContain('[5,9]');
  });
});

describe('refuting a failed check: a GPU that reads subnormal inputs as 0', () => {
  it.each([
    ['freivalds', 64, 64],
    ['recompute', 2, 3],
  ] as const)('refutes no result of such a kernel (%s)', (mode, n, m) => {
    const k = 64;
    const random = seededRandom(31);
    // Row 0 of a starts with a subnormal that row 0 of b scales far above the other products.
    const a = randomValues(n * k, k, 'uniform', random).map((v) => v * 2 ** -60);
    a[0] = 2 ** -130;
    const b = randomValues(k * m, m, 'uniform', random);
    for (let j = 0; j < m; j++) b[j] = 2 ** 100;
    expect(productCheckMode(n, k, m)).toBe(mode);
    const flushed = a.map((v) => (Math.abs(v) < 2 ** -126 ? 0 : v));
    const daz = orderedMatmul(flushed, b, { n, k, m }, 'ijk');
    const A: Mat = { rows: n, cols: k, data: a };
    const B: Mat = { rows: k, cols: m, data: b };
    expect(checkProduct(A, B, product(A, B, daz), random)).toMatchObject({ ok: false, refuted: false });
    // Without the flush the same inputs give a result that passes.
    expect(checkProduct(A, B, product(A, B, orderedMatmul(a, b, { n, k, m }, 'ijk')), random)).toMatchObject({ ok: true });
  });
});

describe('refuting a failed check: rows planted to hide another', () => {
  it.each([
    ['freivalds', 64, 64],
    ['recompute', 8, 6],
  ] as const)('recomputes the rows furthest off, not the first ones that fail (%s)', (mode, n, m) => {
    const k = 256;
    const random = seededRandom(11);
    const a: Mat = { rows: n, cols: k, data: randomValues(n * k, k, 'uniform', random) };
    const b: Mat = { rows: k, cols: m, data: randomValues(k * m, m, 'uniform', random) };
    expect(productCheckMode(n, k, m)).toBe(mode);
    const c = referenceMatmul(a.data, b.data, { n, k, m });
    // Rows 0-5 (more than a refutation recomputes) each moved by half the worst case: outside τ, within any bound.
    for (let i = 0; i < 6; i++) {
      const { magnitude } = exactDotRow(a.data, k, i, b.data, m);
      for (let j = 0; j < m; j++) c[i * m + j] += 0.5 * worstDotError(k) * magnitude[j];
    }
    const wrongRow = n - 2;
    const { magnitude } = exactDotRow(a.data, k, wrongRow, b.data, m);
    c[wrongRow * m + 3] += 20 * worstDotError(k) * magnitude[3];
    const check = checkProduct(a, b, product(a, b, c), random);
    expect(check).toMatchObject({ ok: false, refuted: true });
    expect(check.detail).toContain(`[${wrongRow},3]`);

    // Without the far row, the planted ones fail but prove nothing.
    c[wrongRow * m + 3] -= 20 * worstDotError(k) * magnitude[3];
    expect(checkProduct(a, b, product(a, b, c), random)).toMatchObject({ ok: false, refuted: false });
  });
});

describe('refuting a failed check: errors that cancel on ±1 projections', () => {
  it('ranks a row whose two far cells are equal and opposite, behind a first row that proves nothing', () => {
    const [n, k, m] = [64, 64, 64];
    for (let seed = 0; seed < 10; seed++) {
      const random = seededRandom(100 + seed);
      const a: Mat = { rows: n, cols: k, data: randomValues(n * k, k, 'uniform', random) };
      const b: Mat = { rows: k, cols: m, data: randomValues(k * m, m, 'uniform', random) };
      const c = referenceMatmul(a.data, b.data, { n, k, m });
      // Row 0 fails first and proves nothing: each cell 0.9 of the worst case off, either way.
      const first = exactDotRow(a.data, k, 0, b.data, m).magnitude;
      for (let j = 0; j < m; j++) c[j] += (j % 2 ? 0.9 : -0.9) * worstDotError(k) * first[j];
      // Row 40: +G and −G, which a ±1 r with the same sign at both cells does not see at all.
      c[40 * m + 3] += 1e3;
      c[40 * m + 7] -= 1e3;
      expect(checkProduct(a, b, product(a, b, c), random)).toMatchObject({ ok: false, refuted: true });
    }
  });
});

describe('refuting a failed check: what cheating executors return', () => {
  it.each(['zeros', 'stale', 'one-off'] as const)('refutes matmul and mlp results made by %s, as each skill verifies them', (kind) => {
    const random = seededRandom(21);
    for (const skill of [matmul, mlp] as const) {
      const size = 96;
      const inputs = demoDenseInputs(skill, size, random);
      const honest = skill.name === 'mlp' ? orderedMlp(inputs, 'ijk') : skill.reference(inputs);
      const adversary = createAdversary(honest, skill.reference(demoDenseInputs(skill, size, random)));
      for (let trial = 0; trial < 5; trial++) {
        const verdict =
          kind === 'one-off' ? skill.verify(inputs, movedBy(skill, honest, 0.1, trial), random) : adversary.attack(kind, 0, random, (wrong) => skill.verify(inputs, wrong, random));
        expect(verdict).toMatchObject({ ok: false, refuted: true });
      }
      expect(skill.verify(inputs, honest, random)).toMatchObject({ ok: true, refuted: false });
    }
  });

  it('looks for no proof when asked not to (callers that only need ok)', () => {
    const random = seededRandom(22);
    for (const skill of [matmul, mlp] as const) {
      const inputs = demoDenseInputs(skill, 96, random);
      // What the product check sees (matmul's c, mlp's u) far off: a recompute would prove it.
      const wrong = movedBy(skill, skill.reference(inputs), 0.1, 0);
      expect(skill.verify(inputs, wrong, random, { refute: false })).toMatchObject({ ok: false, refuted: false });
      expect(skill.verify(inputs, wrong, random)).toMatchObject({ ok: false, refuted: true });
    }
  });
});

/**
 * `honest` with one value of what Freivalds checks (matmul's c, mlp's u) moved by `relative` of its
 * largest magnitude: 100 times the mutations' 0.1%, well past what a refutation calls rounding.
 */
function movedBy(skill: SkillSpec, honest: readonly DenseTensor[], relative: number, trial: number): DenseTensor[] {
  const target = skill.name === 'mlp' ? 1 : 0;
  const wrong = honest.map((t) => ({ ...t, data: Float32Array.from(t.data) }));
  const data = wrong[target].data;
  let largest = 0;
  for (const v of data) largest = Math.max(largest, Math.abs(v));
  data[(trial * 97) % data.length] += relative * largest;
  return wrong;
}

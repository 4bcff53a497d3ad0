import type { DenseTensor } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import { seededRandom } from '@swarm/determinism';
import { dotErrorScale } from './agreement';
import { dotFlushFloor } from './worst-case';
import { getSkill } from './catalog';
import { demoDenseInputs } from './demo-inputs';
import type { SummationOrder } from './f32-orders';
import { orderedMatmul, orderedMlp, SUMMATION_ORDERS } from './f32-orders';
import { referenceMatmul } from './matmul';
import type { ValueDistribution } from './value-distributions';
import { randomValues, VALUE_DISTRIBUTIONS } from './value-distributions';

const PRODUCERS: ReadonlyArray<'reference' | SummationOrder> = ['reference', ...SUMMATION_ORDERS];
/** The node's limit on k (README): honest error grows with it, most on sign-sorted data. */
const MAX_K = 1_000;

function matmulTask(n: number, k: number, m: number, dist: ValueDistribution, random: Random): DenseTensor[] {
  // Sign-sorted rows of a against positive b: every row's products sorted by sign (the worst drift).
  return [
    { name: 'a', shape: [n, k], data: randomValues(n * k, k, dist, random) },
    { name: 'b', shape: [k, m], data: randomValues(k * m, m, dist === 'sorted' ? 'positive' : dist, random) },
  ];
}

function product(inputs: readonly DenseTensor[], producer: 'reference' | SummationOrder): DenseTensor[] {
  const [a, b] = inputs;
  const dims = { n: a.shape[0], k: a.shape[1], m: b.shape[1] };
  const c = producer === 'reference' ? referenceMatmul(a.data, b.data, dims) : orderedMatmul(a.data, b.data, dims, producer);
  return [{ name: 'c', shape: [dims.n, dims.m], data: c }];
}

/** Every pair of producers' results, as "x vs y: detail" for each pair that disagrees. */
function disagreements(skill: string, inputs: readonly DenseTensor[], results: ReadonlyMap<string, DenseTensor[]>): string[] {
  const out: string[] = [];
  const named = [...results];
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      const verdict = getSkill(skill).agree(inputs, named[i][1], named[j][1]);
      if (!verdict.ok) out.push(`${named[i][0]} vs ${named[j][0]}: ${verdict.detail}`);
    }
  }
  return out;
}

function withCell(outputs: readonly DenseTensor[], output: number, index: number, value: (v: number) => number): DenseTensor[] {
  return outputs.map((t, i) => {
    if (i !== output) return t;
    const data = Float32Array.from(t.data);
    data[index] = value(data[index]);
    return { ...t, data };
  });
}

function norm(values: Float32Array, from: number, count: number, stride: number): number {
  let sq = 0;
  for (let i = 0; i < count; i++) sq += values[from + i * stride] ** 2;
  return Math.sqrt(sq);
}

describe('skills - agreement of honest results', () => {
  it('matmul: every summation order agrees with every other, on every value distribution', () => {
    const random = seededRandom(31);
    const problems: string[] = [];
    for (const dist of VALUE_DISTRIBUTIONS) {
      for (const [n, k, m] of [
        [1, 1, 1],
        [7, 33, 5],
        [40, 300, 24],
      ] as const) {
        const inputs = matmulTask(n, k, m, dist, random);
        const results = new Map(PRODUCERS.map((p) => [p, product(inputs, p)]));
        problems.push(...disagreements('matmul', inputs, results).map((d) => `${dist} [${n},${k}]·[${k},${m}] ${d}`));
      }
    }
    expect(problems).toEqual([]);
  });

  it(`matmul at k = ${MAX_K}: sign-sorted and cancelling data, every order`, () => {
    const random = seededRandom(32);
    const problems: string[] = [];
    for (const dist of ['sorted', 'cancel', 'offset', 'mixed'] as const) {
      const inputs = matmulTask(4, MAX_K, 6, dist, random);
      const results = new Map(PRODUCERS.map((p) => [p, product(inputs, p)]));
      problems.push(...disagreements('matmul', inputs, results).map((d) => `${dist} ${d}`));
    }
    expect(problems).toEqual([]);
  });

  it('vecadd: a correctly rounded sum agrees with one computed in f64 and rounded once more', () => {
    const random = seededRandom(33);
    for (const dist of VALUE_DISTRIBUTIONS) {
      const inputs: DenseTensor[] = [
        { name: 'a', shape: [4_096], data: randomValues(4_096, 4_096, dist, random) },
        { name: 'b', shape: [4_096], data: randomValues(4_096, 4_096, dist, random) },
      ];
      const [ref] = getSkill('vecadd').reference(inputs);
      // A backend that does not round to nearest: one ulp towards zero wherever it can.
      const truncated = Float32Array.from(ref.data, (v) => (v === 0 ? 0 : v - Math.sign(v) * Math.abs(v) * 2 ** -24));
      expect(getSkill('vecadd').agree(inputs, [ref], [{ ...ref, data: truncated }])).toMatchObject({ ok: true });
    }
  });

  it('mlp: the reference and every summation order agree (u, z and y)', () => {
    const problems: string[] = [];
    for (const size of [1, 9, 48]) {
      const inputs = demoDenseInputs('mlp', size, seededRandom(size));
      const results = new Map<string, DenseTensor[]>([['reference', getSkill('mlp').reference(inputs)], ...SUMMATION_ORDERS.map((o) => [o, orderedMlp(inputs, o)] as const)]);
      problems.push(...disagreements('mlp', inputs, results).map((d) => `size ${size} ${d}`));
    }
    expect(problems).toEqual([]);
  });
});

describe('skills - disagreement beyond rounding', () => {
  it('matmul: a cell past the bound disagrees, one at half of it agrees (the bound is what agree uses)', () => {
    const random = seededRandom(34);
    const [n, k, m] = [12, 64, 10];
    const inputs = matmulTask(n, k, m, 'uniform', random);
    const honest = product(inputs, 'reference');
    const [i, j] = [5, 7];
    const bound = 2 * dotErrorScale(k) * norm(inputs[0].data, i * k, k, 1) * norm(inputs[1].data, j, k, m) + 2 * dotFlushFloor(k);
    const at = i * m + j;
    expect(
      getSkill('matmul').agree(
        inputs,
        honest,
        withCell(honest, 0, at, (v) => v + 0.5 * bound),
      ),
    ).toMatchObject({ ok: true });
    const far = getSkill('matmul').agree(
      inputs,
      honest,
      withCell(honest, 0, at, (v) => v + 1.5 * bound),
    );
    expect(far).toMatchObject({ ok: false, detail: expect.stringMatching(/^c\[5,7\] is .* apart/) });
  });

  it('matmul at 700×700 on uniform data: one element 1% of the rms off disagrees', () => {
    const random = seededRandom(35);
    const inputs = matmulTask(64, 700, 64, 'uniform', random);
    const honest = product(inputs, 'reference');
    const rms = Math.sqrt(honest[0].data.reduce((s, v) => s + v * v, 0) / honest[0].data.length);
    expect(
      getSkill('matmul').agree(
        inputs,
        honest,
        withCell(honest, 0, 100, (v) => v + 0.01 * rms),
      ),
    ).toMatchObject({ ok: false });
  });

  it('vecadd: an element off by 1e-5 of its value disagrees', () => {
    const inputs = demoDenseInputs('vecadd', 1_000, seededRandom(36));
    const honest = getSkill('vecadd').reference(inputs);
    expect(
      getSkill('vecadd').agree(
        inputs,
        honest,
        withCell(honest, 0, 321, (v) => v * (1 + 1e-5)),
      ),
    ).toMatchObject({ ok: false, detail: expect.stringMatching(/^c\[321\]/) });
  });

  it('mlp: a wrong u, z or y disagrees', () => {
    const inputs = demoDenseInputs('mlp', 32, seededRandom(37));
    const honest = getSkill('mlp').reference(inputs);
    const mlp = getSkill('mlp');
    expect(
      mlp.agree(
        inputs,
        honest,
        withCell(honest, 1, 40, (v) => v + 0.01),
      ),
    ).toMatchObject({ ok: false, detail: expect.stringMatching(/^u\[/) });
    expect(
      mlp.agree(
        inputs,
        honest,
        withCell(honest, 2, 3, (v) => v + 0.01),
      ),
    ).toMatchObject({ ok: false, detail: expect.stringMatching(/^z\[/) });
    expect(
      mlp.agree(
        inputs,
        honest,
        withCell(honest, 0, 3, (v) => v + 1e-3),
      ),
    ).toMatchObject({ ok: false, detail: expect.stringMatching(/^y\[/) });
  });

  it('never agrees with NaN, another shape or another output count, and never throws', () => {
    const inputs = demoDenseInputs('matmul', 8, seededRandom(38));
    const honest = getSkill('matmul').reference(inputs);
    const matmul = getSkill('matmul');
    expect(
      matmul.agree(
        inputs,
        honest,
        withCell(honest, 0, 0, () => Number.NaN),
      ),
    ).toMatchObject({ ok: false });
    expect(matmul.agree(inputs, honest, [{ name: 'c', shape: [4, 16], data: honest[0].data }])).toMatchObject({ ok: false });
    expect(matmul.agree(inputs, honest, [])).toMatchObject({ ok: false });
    expect(matmul.agree(inputs, [], honest)).toMatchObject({ ok: false });
    expect(matmul.agree(inputs, honest, honest)).toMatchObject({ ok: true });
  });
});

describe('skills - the referee of a dispute', () => {
  /** `outputs` with cells `at` of output `output` moved by `delta`. */
  const moved = (outputs: readonly DenseTensor[], output: number, at: readonly number[], delta: number) =>
    at.reduce<DenseTensor[]>((out, i) => withCell(out, output, i, (v) => v + delta), [...outputs]);

  it('matmul: never refutes an honest result of any summation order, on any value distribution; refutes the wrong one', () => {
    const random = seededRandom(41);
    const problems: string[] = [];
    for (const dist of VALUE_DISTRIBUTIONS) {
      for (const [n, k, m] of [
        [3, 33, 5],
        [40, 300, 24],
      ] as const) {
        const inputs = matmulTask(n, k, m, dist, random);
        const honest = PRODUCERS.map((p) => product(inputs, p));
        // Off in rows 0, 1 and 2 by far more than rounding (1% of the cell, and 1).
        const wrong = [0, m + 1, 2 * m + 2].reduce<DenseTensor[]>((out, at) => withCell(out, 0, at, (v) => v + 0.01 * Math.abs(v) + 1), [...honest[0]]);
        const verdicts = getSkill('matmul').referee(inputs, honest[0], wrong, [...honest, wrong]);
        if (verdicts.slice(0, -1).some((v) => v !== '')) problems.push(`${dist} [${n},${k}]·[${k},${m}] refuted an honest result: ${verdicts.join(' | ')}`);
        if (verdicts.at(-1) === '') problems.push(`${dist} [${n},${k}]·[${k},${m}] passed the wrong one`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('matmul: refutes no honest order on inputs crafted so that the sequential one loses every small term (its error far past the probabilistic bound)', () => {
    // Rows of a [1, s, s, …] and b's column 0 [1, s, s, …], s² just under half an ulp of 1: summed in
    // order, 1 + s² + s² + … stays 1; the exact value is 1 + (k − 1)·s². Other columns are large.
    const [n, k, m] = [4, 1_000, 32];
    const s = Math.fround(Math.sqrt(0.999 * 2 ** -24));
    const a = new Float32Array(n * k).map((_, at) => (at % k === 0 ? 1 : s));
    const b = new Float32Array(k * m).map((_, at) => (at % m === 0 ? (at === 0 ? 1 : s) : at < m ? 1_000 : 0));
    const inputs: DenseTensor[] = [
      { name: 'a', shape: [n, k], data: a },
      { name: 'b', shape: [k, m], data: b },
    ];
    const honest = PRODUCERS.map((p) => product(inputs, p));
    // The gap is real: the sequential order and the pairwise one disagree by agreement's bound.
    expect(disagreements('matmul', inputs, new Map(PRODUCERS.map((p, i) => [p, honest[i]]))).length).toBeGreaterThan(0);
    const ijk = honest[PRODUCERS.indexOf('ijk')];
    const pairwise = honest[PRODUCERS.indexOf('pairwise')];
    expect(getSkill('matmul').referee(inputs, ijk, pairwise, honest)).toEqual(honest.map(() => ''));
  });

  it('matmul: of two results that disagree at a cell, at least one is refuted, however the gap is shared', () => {
    const random = seededRandom(42);
    const [n, k, m] = [12, 64, 10];
    const inputs = matmulTask(n, k, m, 'positive', random);
    const exact = product(inputs, 'reference');
    const [i, j] = [4, 6];
    const agreeBound = 2 * dotErrorScale(k) * norm(inputs[0].data, i * k, k, 1) * norm(inputs[1].data, j, k, m) + 2 * dotFlushFloor(k);
    for (const share of [0, 0.25, 0.5, 0.75, 1]) {
      const first = moved(exact, 0, [i * m + j], 1.05 * agreeBound * share);
      const second = moved(exact, 0, [i * m + j], -1.05 * agreeBound * (1 - share));
      expect(getSkill('matmul').agree(inputs, first, second).ok).toBe(false);
      const [a, b] = getSkill('matmul').referee(inputs, first, second, [first, second]);
      expect({ share, refuted: a !== '' || b !== '' }).toEqual({ share, refuted: true });
    }
  });

  it('mlp: never refutes the reference or any summation order; refutes a wrong u', () => {
    const problems: string[] = [];
    for (const size of [1, 9, 48]) {
      const inputs = demoDenseInputs('mlp', size, seededRandom(size + 50));
      const honest = [getSkill('mlp').reference(inputs), ...SUMMATION_ORDERS.map((o) => orderedMlp(inputs, o))];
      const wrong = moved(honest[0], 1, [0], 0.05);
      const verdicts = getSkill('mlp').referee(inputs, honest[0], wrong, [...honest, wrong]);
      if (verdicts.slice(0, -1).some((v) => v !== '')) problems.push(`size ${size} refuted an honest result: ${verdicts.join(' | ')}`);
      if (!/^u\[0,0\]/.test(verdicts.at(-1) ?? '')) problems.push(`size ${size} did not refute the wrong u: ${verdicts.at(-1)}`);
    }
    expect(problems).toEqual([]);
  });

  it('mlp: on every value distribution, never refutes an honest forward pass in a dispute over u, z or y; refutes the wrong u, z or y', () => {
    const random = seededRandom(45);
    const problems: string[] = [];
    for (const dist of VALUE_DISTRIBUTIONS) {
      // The demo's shapes, its values drawn from `dist` (scaled down so that z stays in softmax's range).
      const inputs = demoDenseInputs('mlp', 16, random).map((t) => ({ ...t, data: randomValues(t.data.length, t.shape.at(-1) ?? 1, dist, random, dist === 'mixed' ? 0.01 : 0.1) }));
      const honest = [getSkill('mlp').reference(inputs), ...SUMMATION_ORDERS.map((o) => orderedMlp(inputs, o))];
      const [, u, z] = honest[0];
      const hidden = u.shape[1];
      const outputs = z.shape[1];
      // One wrong output each, far past rounding: u in row 1, z in row 2, y in row 3.
      const wrongs: Array<[string, DenseTensor[]]> = [
        ['u', withCell(honest[0], 1, hidden, (v) => v + 0.5 * Math.abs(v) + 1)],
        ['z', withCell(honest[0], 2, 2 * outputs, (v) => v + 0.5 * Math.abs(v) + 1)],
        ['y', withCell(honest[0], 0, 3 * outputs, (v) => (v > 0.5 ? v - 0.4 : v + 0.4))],
      ];
      for (const [what, wrong] of wrongs) {
        const verdicts = getSkill('mlp').referee(inputs, honest[0], wrong, [...honest, wrong]);
        if (verdicts.slice(0, -1).some((v) => v !== '')) problems.push(`${dist}, wrong ${what}: refuted an honest pass: ${verdicts.join(' | ')}`);
        if (!new RegExp(`^${what}\\[`).test(verdicts.at(-1) ?? '')) problems.push(`${dist}, wrong ${what}: not refuted (${verdicts.at(-1)})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("mlp: refutes no honest pass where its z bound is tight (u lost in order, w2 proportional), for the f64 referee's own rounding", () => {
    // Hidden units 0 and 1: 1 + s·s − 1 summed in order is 0, exactly s²: relu(u) off by s² there,
    // and w2 proportional across them makes Cauchy–Schwarz exact. A wrong u[0,2] makes the dispute.
    const s = Math.fround(Math.sqrt(0.999 * 2 ** -24));
    const [batch, width, hidden, outputs] = [4, 8, 8, 2];
    const refuted: string[] = [];
    for (let i = 0; i < 200; i++) {
      const w = Math.fround(1 + i / 197);
      const inputs: DenseTensor[] = [
        { name: 'x', shape: [batch, width], data: new Float32Array(batch * width).map((_, at) => (at % width === 0 ? s : 1)) },
        {
          name: 'w1',
          shape: [width, hidden],
          data: new Float32Array(width * hidden).map((_, at) => {
            const [p, j] = [Math.floor(at / hidden), at % hidden];
            return j < 2 ? (p === 0 ? s : p === 1 ? -1 : 0) : p >= 2 ? 1 : 0;
          }),
        },
        { name: 'b1', shape: [hidden], data: new Float32Array(hidden).map((_, j) => (j < 2 ? 1 : 0)) },
        {
          name: 'w2',
          shape: [hidden, outputs],
          data: new Float32Array(hidden * outputs).map((_, at) => {
            const [j, o] = [Math.floor(at / outputs), at % outputs];
            return o === 0 ? (j < 2 ? w : 0) : j < 2 ? 0 : 0.01;
          }),
        },
        { name: 'b2', shape: [outputs], data: new Float32Array(outputs) },
      ];
      const honest = orderedMlp(inputs, 'ijk');
      const wrong = withCell(honest, 1, 2, (v) => v + 1);
      const [verdict] = getSkill('mlp').referee(inputs, honest, wrong, [honest]);
      if (verdict !== '') refuted.push(`w ${w}: ${verdict}`);
    }
    expect(refuted).toEqual([]);
  });

  it('vecadd: never refutes an honest sum; refutes a wrong one', () => {
    const inputs = demoDenseInputs('vecadd', 1_000, seededRandom(43));
    const honest = getSkill('vecadd').reference(inputs);
    const wrong = moved(honest, 0, [10, 20], 0.5);
    expect(getSkill('vecadd').referee(inputs, honest, wrong, [honest, wrong])).toEqual(['', expect.stringMatching(/^c\[10\] is .* more than one honest f32 sum/)]);
  });

  it('never throws: NaN, another shape or no dispute at all', () => {
    const inputs = demoDenseInputs('matmul', 8, seededRandom(44));
    const honest = getSkill('matmul').reference(inputs);
    const nan = withCell(honest, 0, 0, () => Number.NaN);
    const matmul = getSkill('matmul');
    expect(matmul.referee(inputs, honest, nan, [honest, nan])).toEqual(['', expect.stringMatching(/^c\[0,0\] is NaN/)]);
    expect(matmul.referee(inputs, honest, honest, [honest])).toEqual(['']);
    const reshaped = [{ ...honest[0], shape: [4, 16] }];
    expect(matmul.referee(inputs, honest, reshaped, [honest, reshaped])).toEqual(['', expect.any(String)]);
    expect(matmul.referee(inputs, honest, reshaped, [honest, reshaped])[1]).not.toBe('');
  });
});

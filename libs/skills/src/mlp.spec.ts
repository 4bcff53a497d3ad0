import type { DenseTensor } from '@swarm/contracts';
import { ErrorCode } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import { seededRandom } from '@swarm/determinism';
import fc from 'fast-check';
import { mlp, referenceMlp } from './mlp';

const LIMITS = { maxElements: 10_000 };
const INVALID = ErrorCode.ERROR_CODE_INVALID_ARGUMENT;

function t(name: string, shape: number[], values?: ArrayLike<number>): DenseTensor {
  const count = shape.reduce((n, d) => n * d, 1);
  return { name, shape, data: Float32Array.from(values ?? Array.from({ length: count }, (_, i) => ((i * 37) % 11) / 11 - 0.5)) };
}

function net(batch: number, inputs: number, hidden: number, outputs: number, random?: Random): DenseTensor[] {
  const v = (n: number) => (random ? Array.from({ length: n }, () => random() * 2 - 1) : undefined);
  return [
    t('x', [batch, inputs], v(batch * inputs)),
    t('w1', [inputs, hidden], v(inputs * hidden)),
    t('b1', [hidden], v(hidden)),
    t('w2', [hidden, outputs], v(hidden * outputs)),
    t('b2', [outputs], v(outputs)),
  ];
}

/** The forward pass in f32 at every step, in a different order: what a GPU kernel computes. */
function f32Forward(inputs: DenseTensor[]): DenseTensor[] {
  const [x, w1, b1, w2, b2] = inputs.map((i) => i.data);
  const [batch, I] = inputs[0].shape;
  const H = inputs[1].shape[1];
  const O = inputs[3].shape[1];
  const f = Math.fround;
  const y = new Float32Array(batch * O);
  const u = new Float32Array(batch * H);
  const z = new Float32Array(batch * O);
  for (let r = 0; r < batch; r++) {
    for (let j = 0; j < H; j++) {
      let s = f(b1[j]);
      for (let p = I - 1; p >= 0; p--) s = f(s + f(x[r * I + p] * w1[p * H + j]));
      u[r * H + j] = s;
    }
    for (let o = 0; o < O; o++) {
      let s = f(b2[o]);
      for (let j = H - 1; j >= 0; j--) s = f(s + f(Math.max(u[r * H + j], 0) * w2[j * O + o]));
      z[r * O + o] = s;
    }
    const zr = Array.from(z.subarray(r * O, (r + 1) * O));
    const max = Math.max(...zr);
    const lse = f(max + f(Math.log(zr.reduce((a, v) => f(a + f(Math.exp(f(v - max)))), 0))));
    zr.forEach((v, o) => (y[r * O + o] = f(Math.exp(f(v - lse)))));
  }
  return [t('y', [batch, O], y), t('u', [batch, H], u), t('z', [batch, O], z)];
}

describe('mlp - validate', () => {
  const replace = (i: number, tensor: DenseTensor) => net(2, 3, 4, 5).map((x, j) => (j === i ? tensor : x));
  const cases: Array<[string, DenseTensor[], ErrorCode, RegExp]> = [
    ['four inputs', net(2, 3, 4, 5).slice(0, 4), INVALID, /expects 5 inputs \(x:\[batch,in\] w1:\[in,hidden\]/],
    ['a misnamed bias', replace(2, t('bias', [4])), INVALID, /input 2 must be named 'b1'/],
    ['a vector x', replace(0, t('x', [6])), INVALID, /'x' must have rank 2/],
    ['x and w1 disagree on in', replace(0, t('x', [2, 4])), INVALID, /x:\[batch,4\] and w1:\[3,hidden\] disagree on in/],
    ['b1 of the wrong length', replace(2, t('b1', [5])), INVALID, /b1:\[5\] and w1:\[in,4\] disagree on hidden/],
    ['w2 with the wrong rows', replace(3, t('w2', [3, 5])), INVALID, /w2:\[3,out\] and w1:\[in,4\] disagree on hidden/],
    ['b2 of the wrong length', replace(4, t('b2', [4])), INVALID, /b2:\[4\] and w2:\[hidden,5\] disagree on out/],
    ['an infinite weight', replace(1, t('w1', [3, 4], [0, 0, 0, 0, 0, Infinity, 0, 0, 0, 0, 0, 0])), INVALID, /'w1' holds a non-finite value \(Infinity\) at index 5/],
    [
      'a first layer past f32',
      replace(0, t('x', [2, 3], [1e38, 0, 0, 0, 0, 0])).map((x, j) => (j === 1 ? t('w1', [3, 4], Array(12).fill(2)) : x)),
      INVALID,
      /could overflow f32: max over rows of Σ_p \|x_ip\|·max_h \|w1_ph\| \+ max\|b1\| \(the bound of u\) is 2\.00e\+38/,
    ],
    [
      'a second layer past f32',
      replace(
        3,
        t(
          'w2',
          [4, 5],
          Array.from({ length: 20 }, () => 1e38),
        ),
      ),
      INVALID,
      /the bound of z/,
    ],
    ['too many inputs elements', net(200, 60, 1, 1), ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, /inputs hold 12063 elements/],
    ['too large a hidden layer', net(200, 1, 60, 1), ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, /outputs \(y, u, z together\) hold 12400 elements/],
  ];

  it.each(cases)('refuses %s', (_what, inputs, code, message) => {
    expect(() => mlp.validate(inputs, LIMITS)).toThrow(message);
    expect(() => mlp.validate(inputs, LIMITS)).toThrow(expect.objectContaining({ code }));
  });

  it('accepts a well-formed network', () => {
    expect(() => mlp.validate(net(2, 3, 4, 5), LIMITS)).not.toThrow();
  });
});

describe('mlp - reference', () => {
  it('computes softmax(relu(x·w1 + b1)·w2 + b2)', () => {
    // h = relu([1, -2]) = [1, 0]; z = [1, 0] + b2 = [1, 0]; softmax = [e, 1] / (e + 1).
    const inputs = [t('x', [1, 2], [1, -2]), t('w1', [2, 2], [1, 0, 0, 1]), t('b1', [2], [0, 0]), t('w2', [2, 2], [1, 0, 0, 1]), t('b2', [2], [0, 0])];
    const [p, q] = referenceMlp(inputs).y;
    expect(p).toBeCloseTo(Math.E / (Math.E + 1), 6);
    expect(q).toBeCloseTo(1 / (Math.E + 1), 6);
  });
});

describe('mlp - verify', () => {
  const dims = fc.record({
    batch: fc.integer({ min: 1, max: 12 }),
    inputs: fc.integer({ min: 1, max: 16 }),
    hidden: fc.integer({ min: 1, max: 16 }),
    outputs: fc.integer({ min: 1, max: 8 }),
    seed: fc.integer(),
  });

  it('accepts the reference and an f32 computation in another order', () => {
    fc.assert(
      fc.property(dims, ({ batch, inputs, hidden, outputs, seed }) => {
        const r = seededRandom(seed);
        const x = net(batch, inputs, hidden, outputs, r);
        expect(mlp.verify(x, mlp.reference(x), r)).toMatchObject({ ok: true, method: 'activation-commitments' });
        expect(mlp.verify(x, f32Forward(x), r).ok).toBe(true);
      }),
      { seed: 17, numRuns: 100 },
    );
  });

  it('rejects a result with any row of y a different distribution', () => {
    fc.assert(
      fc.property(dims, fc.nat(), ({ batch, inputs, hidden, outputs, seed }, at) => {
        fc.pre(outputs >= 2);
        const r = seededRandom(seed);
        const x = net(batch, inputs, hidden, outputs, r);
        const [y, u, z] = mlp.reference(x);
        const row = at % batch;
        const o = y.data.subarray(row * outputs, (row + 1) * outputs);
        // Rotate the row: still a distribution, but the wrong one unless it is (almost) uniform.
        const rotated = Float32Array.from(o, (_, i) => o[(i + 1) % outputs]);
        fc.pre(rotated.some((v, i) => Math.abs(v - o[i]) > 1e-3));
        const bad = Float32Array.from(y.data);
        bad.set(rotated, row * outputs);
        // Every row of y is checked against softmax(z): no sampling.
        expect(mlp.verify(x, [{ ...y, data: bad }, u, z], r)).toMatchObject({ ok: false, detail: new RegExp(`^y\\[${row},`) });
      }),
      { seed: 19, numRuns: 100 },
    );
  });

  it('rejects wrong activations, non-finite values and wrong shapes', () => {
    const x = net(20, 3, 4, 5);
    const [y, u, z] = mlp.reference(x);
    const withValue = (t: DenseTensor, i: number, v: number) => ({ ...t, data: Float32Array.from(t.data, (w, j) => (j === i ? v : w)) });
    expect(mlp.verify(x, [withValue(y, 57, -0.1), u, z], seededRandom(1))).toMatchObject({ ok: false, detail: /^y\[11,2\] = -0\.1000000014901161\d but softmax\(z\) gives / });
    expect(mlp.verify(x, [withValue(y, 3, NaN), u, z], seededRandom(1))).toMatchObject({ ok: false, detail: /^y\[0,3\] = NaN but softmax\(z\) gives / });
    expect(mlp.verify(x, [y, u, withValue(z, 3, Infinity)], seededRandom(1)).ok).toBe(false);
    expect(mlp.verify(x, [y, withValue(u, 3, Infinity), z], seededRandom(1))).toMatchObject({ ok: false, detail: /^u differs .* hold a NaN or infinite value/ });
    expect(mlp.verify(x, [y, withValue(u, 3, NaN), z], seededRandom(1)).ok).toBe(false);
    expect(mlp.verify(x, [withValue(y, 99, y.data[99] + 0.01), u, z], seededRandom(1))).toMatchObject({ ok: false, detail: /^y\[19,4\]/ });
    expect(mlp.verify(x, [y, u, withValue(z, 7, z.data[7] + 0.01)], seededRandom(1))).toMatchObject({ ok: false, detail: /^y\[1,2\] = .* but softmax\(z\)/ });
    // z shifted by a constant per row leaves softmax unchanged: only the layer-2 check sees it.
    const shifted = { ...z, data: Float32Array.from(z.data, (v, j) => (j < 5 ? v + 0.5 : v)) };
    expect(mlp.verify(x, [y, u, shifted], seededRandom(1))).toMatchObject({
      ok: false,
      detail: /^z differs from relu\(u\)·w2 \+ b2 by more than the verifier's f32 tolerance τ: \[0,0\]/,
    });
    expect(mlp.verify(x, [y, withValue(u, 2, u.data[2] + 0.01), z], seededRandom(1))).toMatchObject({ ok: false, detail: /^(u differs from x·w1|z differs from relu)/ });
    expect(mlp.verify(x, [{ ...y, shape: [5, 20] }, u, z], seededRandom(1))).toMatchObject({ ok: false, detail: /should be y:\[20,5\]/ });
    expect(mlp.verify(x, [y], seededRandom(1))).toMatchObject({ ok: false, detail: 'expected 3 output(s), got 1' });
  });
});

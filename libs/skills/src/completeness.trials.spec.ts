/**
 * Completeness (issue 10 §2) of vecadd and mlp: 10,000 random honest tasks per skill, most small and
 * a few at the node's limit, are never rejected (completeness-fixtures.ts; matmul's are in
 * completeness-matmul*.trials.spec.ts). The gpu.js kernels' own results are checked in libs/kernels
 * (kernel-verification.trials.spec.ts).
 */
import type { DenseTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { getSkill } from './catalog';
import { between, distribution, PRODUCERS, sizeClass, TASKS, TIMEOUT_MS } from './completeness-fixtures';
import { F32_MIN_NORMAL } from './f32-error';
import { orderedMlp } from './f32-orders';
import { randomValues } from './value-distributions';

describe('completeness - vecadd accepts every honest sum', () => {
  const LENGTHS: ReadonlyArray<readonly [number, number]> = [
    [1, 64],
    [65, 4_096],
    [4_097, 65_536],
    [65_537, 262_144],
    [1_000_000, 1_000_000],
  ];

  it(
    `${TASKS} tasks, rounded to nearest or with subnormals flushed to zero`,
    () => {
      const random = seededRandom(102);
      const rejected: string[] = [];
      for (let i = 0; i < TASKS; i++) {
        const [lo, hi] = LENGTHS[sizeClass(i)];
        const n = between(lo, hi, random);
        const dist = distribution(i);
        const inputs: DenseTensor[] = [
          { name: 'a', shape: [n], data: randomValues(n, n, dist, random) },
          { name: 'b', shape: [n], data: randomValues(n, n, dist, random) },
        ];
        const [c] = getSkill('vecadd').reference(inputs);
        if (i % 2) flushSubnormals(c.data);
        const verdict = getSkill('vecadd').verify(inputs, [c], random);
        if (!verdict.ok) rejected.push(`task ${i} n=${n} ${dist}: ${verdict.detail}`);
      }
      expect(rejected).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it('accepts sums of subnormals flushed to zero by a GPU', () => {
    const tiny = Float32Array.of(1e-39, -3e-40, 2e-45, 1e-38);
    const inputs: DenseTensor[] = [
      { name: 'a', shape: [4], data: tiny },
      { name: 'b', shape: [4], data: tiny },
    ];
    expect(getSkill('vecadd').verify(inputs, [{ name: 'c', shape: [4], data: new Float32Array(4) }], seededRandom(1)).ok).toBe(true);
  });
});

describe('completeness - mlp accepts every honest forward pass', () => {
  // [lo, hi] of batch, in and hidden per size class (out ≤ 16); the limit is the 700-wide demo network.
  const DIMS: ReadonlyArray<readonly [number, number]> = [
    [1, 12],
    [13, 48],
    [49, 160],
    [161, 256],
    [700, 700],
  ];

  it(
    `${TASKS} tasks, every summation order, f32 softmax`,
    () => {
      const random = seededRandom(103);
      const rejected: string[] = [];
      for (let i = 0; i < TASKS; i++) {
        const cls = sizeClass(i);
        const [lo, hi] = DIMS[cls];
        const [batch, I, H] = [between(lo, hi, random), between(lo, hi, random), between(lo, hi, random)];
        const O = cls === 4 ? 10 : between(1, cls === 0 ? 8 : 16, random);
        const dist = distribution(i);
        // 1/√fan-in weights, as demo-inputs: activations O(1) at every size.
        const inputs: DenseTensor[] = [
          { name: 'x', shape: [batch, I], data: randomValues(batch * I, I, dist, random) },
          { name: 'w1', shape: [I, H], data: randomValues(I * H, H, 'uniform', random, 1 / Math.sqrt(I)) },
          { name: 'b1', shape: [H], data: randomValues(H, H, 'uniform', random, 0.1) },
          { name: 'w2', shape: [H, O], data: randomValues(H * O, O, 'uniform', random, 1 / Math.sqrt(H)) },
          { name: 'b2', shape: [O], data: randomValues(O, O, 'uniform', random, 0.1) },
        ];
        const producer = cls === 4 ? 'reference' : PRODUCERS[i % PRODUCERS.length];
        const outputs = producer === 'reference' ? getSkill('mlp').reference(inputs) : orderedMlp(inputs, producer);
        const verdict = getSkill('mlp').verify(inputs, outputs, random);
        if (!verdict.ok) rejected.push(`task ${i} ${batch}×${I}→${H}→${O} ${dist} ${producer}: ${verdict.detail}`);
      }
      expect(rejected).toEqual([]);
    },
    TIMEOUT_MS,
  );
});

function flushSubnormals(data: Float32Array): void {
  for (let i = 0; i < data.length; i++) if (data[i] !== 0 && data[i] < F32_MIN_NORMAL && data[i] > -F32_MIN_NORMAL) data[i] = 0;
}

/**
 * Soundness (issue 10 §2): a dishonest executor's result is rejected 10,000 times out of 10,000 per
 * skill and size, each verification with fresh randomness. A few honest results per size are
 * computed once and mutated per trial (mutations.ts, every kind in turn, each output in turn), so
 * the time goes into the verifications themselves. The seed is fixed so the suite is repeatable; the
 * verifiers' bound (≤ 2^-20 per wrong result) makes any seed pass with overwhelming probability.
 *
 * At the node's limit one rejection costs milliseconds (a round of projections reads all of a, b
 * and c), so the 10,000 there take a minute or two on a 2-core box; `npm test` runs them all (the
 * issue asks for 10,000 at every size). SWARM_SOUNDNESS_TRIALS=N runs N at every size instead, for
 * a quick local run.
 */
import type { DenseTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { getSkill } from './catalog';
import { mlpDims } from './mlp';
import { createAdversary } from './mutations';
import { attack, mlpTask, SIZE_TIMEOUT_MS, tensor, trialsFrom } from './soundness-fixtures';

const TRIALS_PER_SIZE = trialsFrom(process.env['SWARM_SOUNDNESS_TRIALS']);

describe('soundness - mlp rejects every wrong result (y, u and z mutated in turn)', () => {
  // The node's limit (700) is soundness-mlp-limit.trials.spec.ts, so the runner spreads the minutes.
  it.each([8, 64, 160])(
    'batch = in = hidden = %i: every trial rejected',
    (size) => {
      const random = seededRandom(size);
      const tasks = (['uniform', 'positive'] as const).map((dist) => mlpTask(size, dist, random));
      expect(attack(getSkill('mlp'), tasks, TRIALS_PER_SIZE, random)).toEqual([]);
    },
    SIZE_TIMEOUT_MS,
  );

  it.each([
    [8, 2_000],
    [64, 500],
    [160, 200],
    [700, 20],
  ])(
    'size %i: a wrong u with z and y computed consistently from it is rejected (%i trials)',
    (size, trials) => {
      const random = seededRandom(size + 1);
      const task = mlpTask(size, 'uniform', random);
      const adversary = createAdversary(task.outputs);
      let accepted = 0;
      for (let trial = 0; trial < trials; trial++) {
        const consistent = adversary.attack('one-off', 1, random, ([, u]) => forwardFrom(task.inputs, u.data));
        if (getSkill('mlp').verify(task.inputs, consistent, random).ok) accepted += 1;
      }
      expect(accepted).toBe(0);
    },
    SIZE_TIMEOUT_MS,
  );
});

/** y, u, z for a given u: what an executor that got layer 1 wrong would return, consistent from there on. */
function forwardFrom(inputs: DenseTensor[], u: Float32Array): DenseTensor[] {
  const { batch, hidden: H, outputs: O } = mlpDims(inputs);
  const [, , , w2, b2] = inputs.map((t) => t.data);
  const z = new Float32Array(batch * O);
  const y = new Float32Array(batch * O);
  for (let r = 0; r < batch; r++) {
    for (let o = 0; o < O; o++) {
      let s = b2[o];
      for (let j = 0; j < H; j++) s += (u[r * H + j] > 0 ? u[r * H + j] : 0) * w2[j * O + o];
      z[r * O + o] = s;
    }
    const zr = z.subarray(r * O, (r + 1) * O);
    const top = Math.max(...zr);
    let sum = 0;
    for (let o = 0; o < O; o++) sum += Math.exp(zr[o] - top);
    for (let o = 0; o < O; o++) y[r * O + o] = Math.exp(zr[o] - top) / sum;
  }
  return [tensor('y', [batch, O], y), tensor('u', [batch, H], new Float32Array(u)), tensor('z', [batch, O], z)];
}

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
import type { Random } from '@swarm/determinism';
import { seededRandom } from '@swarm/determinism';
import { getSkill } from './catalog';
import { demoDenseInputs } from './demo-inputs';
import { createAdversary, MUTATION_KINDS, rms } from './mutations';
import { mlpDims } from './mlp';
import type { SkillSpec } from './skill-spec';
import type { ValueDistribution } from './value-distributions';
import { randomValues } from './value-distributions';

const TRIALS = 10_000;
/** Trials at a size: TRIALS, or the override everywhere. */
function trialsAt(_limit: boolean): number {
  const override = Number(process.env.SWARM_SOUNDNESS_TRIALS);
  return override > 0 ? override : TRIALS;
}
/** The full count at the limit takes minutes. */
const SIZE_TIMEOUT_MS = 1_800_000;

interface Task {
  readonly inputs: DenseTensor[];
  readonly outputs: DenseTensor[];
  /** The result of another task of the same shapes (sharing b, or the weights). */
  readonly stale: DenseTensor[];
}

function tensor(name: string, shape: readonly number[], data: Float32Array): DenseTensor {
  return { name, shape: [...shape], data };
}

function honest(skill: SkillSpec, inputs: DenseTensor[], other: DenseTensor[]): Task {
  return { inputs, outputs: skill.reference(inputs), stale: skill.reference(other) };
}

function matmulTask(n: number, dist: ValueDistribution, random: Random): Task {
  const b = tensor('b', [n, n], randomValues(n * n, n, dist, random));
  const a = () => tensor('a', [n, n], randomValues(n * n, n, dist, random));
  return honest(getSkill('matmul'), [a(), b], [a(), b]);
}

function vecaddTask(n: number, dist: ValueDistribution, random: Random): Task {
  const b = tensor('b', [n], randomValues(n, n, dist, random));
  const a = () => tensor('a', [n], randomValues(n, n, dist, random));
  return honest(getSkill('vecadd'), [a(), b], [a(), b]);
}

function mlpTask(size: number, xDist: ValueDistribution, random: Random): Task {
  const [x, ...weights] = demoDenseInputs('mlp', size, random);
  const other = tensor('x', x.shape, randomValues(x.data.length, size, xDist, random));
  const own = tensor('x', x.shape, randomValues(x.data.length, size, xDist, random));
  return honest(getSkill('mlp'), [own, ...weights], [other, ...weights]);
}

/** Verifies `trials` mutated results; returns the trials that were (wrongly) accepted. */
function attack(skill: SkillSpec, tasks: Task[], trials: number, random: Random): string[] {
  const accepted: string[] = [];
  const adversaries = tasks.map((t) => createAdversary(t.outputs, t.stale));
  const targets = tasks[0].outputs.length;
  for (let trial = 0; trial < trials; trial++) {
    const kind = MUTATION_KINDS[trial % MUTATION_KINDS.length];
    const which = Math.floor(trial / MUTATION_KINDS.length) % tasks.length;
    const target = Math.floor(trial / (MUTATION_KINDS.length * tasks.length)) % targets;
    const ok = adversaries[which].attack(kind, target, random, (wrong) => skill.verify(tasks[which].inputs, wrong, random).ok);
    if (ok) accepted.push(`trial ${trial}: ${kind} of ${tasks[which].outputs[target].name}`);
  }
  return accepted;
}

describe('soundness - matmul rejects every wrong result', () => {
  // 700: the largest square product the node takes (README); the ladder also crosses from exact
  // recomputation (8) to one and two column blocks of projections.
  it.each([
    [8, false],
    [64, false],
    [160, false],
    [700, true],
  ])(
    'n = %i: every trial rejected',
    (n, limit) => {
      const random = seededRandom(n);
      const dists = limit ? (['uniform', 'mixed'] as const) : (['uniform', 'positive', 'mixed'] as const);
      const tasks = dists.map((dist) => matmulTask(n, dist, random));
      expect(attack(getSkill('matmul'), tasks, trialsAt(limit), random)).toEqual([]);
    },
    SIZE_TIMEOUT_MS,
  );
});

describe('soundness - matmul on sign-sorted rows rejects an element off by more than its larger τ', () => {
  // Partial sums climbing far above the result make honest error, and so τ, larger (f32-error.ts):
  // τ reaches 1.2e-3 of the output's rms at 256 and 3.8e-3 at 700 (docs/verification.md,
  // calibration), so the element here is off by about twice that.
  it.each([
    [256, 2.5e-3, 4_000],
    [700, 8e-3, 2_000],
  ])(
    'n = %i: one element off by %f of the rms, %i trials, every one rejected',
    (n, relative, trials) => {
      const random = seededRandom(n + 2);
      const a = randomValues(n * n, n, 'sorted', random);
      const b = randomValues(n * n, n, 'positive', random);
      const inputs = [tensor('a', [n, n], a), tensor('b', [n, n], b)];
      const [c] = getSkill('matmul').reference(inputs);
      const delta = relative * rms(c.data);
      let accepted = 0;
      for (let trial = 0; trial < trialsAt(n === 700) && trial < trials; trial++) {
        const at = Math.floor(random() * c.data.length);
        const honest = c.data[at];
        c.data[at] += trial % 2 ? delta : -delta;
        if (getSkill('matmul').verify(inputs, [c], random).ok) accepted += 1;
        c.data[at] = honest;
      }
      expect(accepted).toBe(0);
    },
    SIZE_TIMEOUT_MS,
  );
});

describe('soundness - vecadd rejects every wrong result', () => {
  // 1,000,000: a and b together hold the node's 2M input values.
  it.each([
    [16, false],
    [4_096, false],
    [32_768, false],
    [1_000_000, true],
  ])(
    'n = %i: every trial rejected',
    (n, limit) => {
      const random = seededRandom(n);
      const tasks = (['uniform', 'mixed'] as const).map((dist) => vecaddTask(n, dist, random));
      expect(attack(getSkill('vecadd'), tasks, trialsAt(limit), random)).toEqual([]);
    },
    SIZE_TIMEOUT_MS,
  );
});

describe('soundness - mlp rejects every wrong result (y, u and z mutated in turn)', () => {
  it.each([
    [8, false],
    [64, false],
    [160, false],
    [700, true],
  ])(
    'batch = in = hidden = %i: every trial rejected',
    (size, limit) => {
      const random = seededRandom(size);
      const tasks = (['uniform', 'positive'] as const).map((dist) => mlpTask(size, dist, random));
      expect(attack(getSkill('mlp'), tasks, trialsAt(limit), random)).toEqual([]);
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

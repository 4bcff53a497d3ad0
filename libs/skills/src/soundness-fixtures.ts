/**
 * The shared part of the soundness suites (soundness-*.trials.spec.ts): honest tasks computed once,
 * and an attack loop that verifies mutated results of them with fresh randomness. One suite per
 * skill, so the test runner spreads their minutes of verification over its workers.
 */
import type { DenseTensor } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import { getSkill } from './catalog';
import { demoDenseInputs } from './demo-inputs';
import { createAdversary, MUTATION_KINDS } from './mutations';
import type { SkillSpec, VerifyOptions } from './skill-spec';
import type { ValueDistribution } from './value-distributions';
import { randomValues } from './value-distributions';

export const TRIALS = 10_000;
const NO_PROOF: VerifyOptions = { refute: false };
/** Trials at every size: TRIALS, or SWARM_SOUNDNESS_TRIALS (passed in) for a quick local run. */
export function trialsFrom(override: string | undefined): number {
  const n = Number(override);
  return n > 0 ? n : TRIALS;
}
/** The full count at the limit takes minutes. */
export const SIZE_TIMEOUT_MS = 1_800_000;

export interface Task {
  readonly inputs: DenseTensor[];
  readonly outputs: DenseTensor[];
  /** The result of another task of the same shapes (sharing b, or the weights). */
  readonly stale: DenseTensor[];
}

export function tensor(name: string, shape: readonly number[], data: Float32Array): DenseTensor {
  return { name, shape: [...shape], data };
}

function honest(skill: SkillSpec, inputs: DenseTensor[], other: DenseTensor[]): Task {
  return { inputs, outputs: skill.reference(inputs), stale: skill.reference(other) };
}

export function matmulTask(n: number, dist: ValueDistribution, random: Random): Task {
  const b = tensor('b', [n, n], randomValues(n * n, n, dist, random));
  const a = () => tensor('a', [n, n], randomValues(n * n, n, dist, random));
  return honest(getSkill('matmul'), [a(), b], [a(), b]);
}

export function vecaddTask(n: number, dist: ValueDistribution, random: Random): Task {
  const b = tensor('b', [n], randomValues(n, n, dist, random));
  const a = () => tensor('a', [n], randomValues(n, n, dist, random));
  return honest(getSkill('vecadd'), [a(), b], [a(), b]);
}

export function mlpTask(size: number, xDist: ValueDistribution, random: Random): Task {
  const [x, ...weights] = demoDenseInputs('mlp', size, random);
  const other = tensor('x', x.shape, randomValues(x.data.length, size, xDist, random));
  const own = tensor('x', x.shape, randomValues(x.data.length, size, xDist, random));
  return honest(getSkill('mlp'), [own, ...weights], [other, ...weights]);
}

/** Verifies `trials` mutated results; returns the trials that were (wrongly) accepted. */
export function attack(skill: SkillSpec, tasks: Task[], trials: number, random: Random): string[] {
  const accepted: string[] = [];
  const adversaries = tasks.map((t) => createAdversary(t.outputs, t.stale));
  const targets = tasks[0].outputs.length;
  for (let trial = 0; trial < trials; trial++) {
    const kind = MUTATION_KINDS[trial % MUTATION_KINDS.length];
    const which = Math.floor(trial / MUTATION_KINDS.length) % tasks.length;
    const target = Math.floor(trial / (MUTATION_KINDS.length * tasks.length)) % targets;
    // Only `ok` counts here: no proof is looked for (refutation.spec.ts tests it).
    const ok = adversaries[which].attack(kind, target, random, (wrong) => skill.verify(tasks[which].inputs, wrong, random, NO_PROOF).ok);
    if (ok) accepted.push(`trial ${trial}: ${kind} of ${tasks[which].outputs[target].name}`);
  }
  return accepted;
}

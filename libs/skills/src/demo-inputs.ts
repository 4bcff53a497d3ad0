/**
 * Example inputs of each skill (`swarm submit --skill matmul --size 256`, `swarm up --demo`,
 * benchmarks, tests), drawn from the tensors its `demo` declares at a size.
 */
import type { DenseTensor, Tensor } from '@swarm/contracts';
import { ErrorCode, SwarmError, toTensor } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import type { SkillName } from './catalog';
import { getSkill } from './catalog';
import type { SkillSpec } from './skill-spec';
import { randomValues, VALUE_DISTRIBUTIONS } from './value-distributions';

/** Most values one example may hold: 128 MiB of f32 (two 4096×4096 matrices), past any node's limit. */
export const MAX_DEMO_VALUES = 1 << 25;
/** Sizes are probed up to this when looking for a limit (a demo whose count never grows stops here). */
const SIZE_SEARCH_CEILING = 2 ** 40;

/** Uniform values in [-scale, scale). */
function uniform(count: number, scale: number, random: Random): Float32Array {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = (random() * 2 - 1) * scale;
  return data;
}

const elements = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** How many values the skill's example of this size holds, from its declared shapes alone. */
export function demoValueCount(skill: SkillSpec, size: number): number {
  return skill.demo.tensors(size).reduce((n, t) => n + elements(t.shape), 0);
}

/**
 * Largest size whose example holds at most `maxValues` values (0 if even size 1 holds more), e.g.
 * with TASK_MAX_ELEMENTS the largest `--size` a node accepts. Counts only grow with size (SkillDemo).
 */
export function maxDemoSize(skill: SkillSpec, maxValues: number): number {
  const fits = (size: number) => demoValueCount(skill, size) <= maxValues;
  if (!fits(1)) return 0;
  let low = 1;
  let high = 2;
  while (fits(high)) {
    if (high >= SIZE_SEARCH_CEILING) return SIZE_SEARCH_CEILING;
    low = high;
    high *= 2;
  }
  // fits(low) and not fits(high): halve the gap.
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid;
  }
  return low;
}

/** Demo inputs in wire form, ready for a SubmitTask or Execute request. */
export function demoInputs(skill: SkillSpec | string, size: number, random: Random): Tensor[] {
  return demoDenseInputs(skill, size, random).map((t) => toTensor(t.name, t.shape, t.data));
}

/** Throws SwarmError INVALID_ARGUMENT for a size outside [1, maxDemoSize(MAX_DEMO_VALUES)], UNKNOWN_SKILL for a bad name. */
export function demoDenseInputs(skill: SkillSpec | string, size: number, random: Random): DenseTensor[] {
  const spec = typeof skill === 'string' ? getSkill(skill) : skill;
  const max = maxDemoSize(spec, MAX_DEMO_VALUES);
  if (!Number.isSafeInteger(size) || size < 1 || size > max) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `demo size for ${spec.name} must be an integer in [1, ${max}], got ${size}`);
  }
  return spec.demo.tensors(size).map((t) => ({ name: t.name, shape: [...t.shape], data: uniform(elements(t.shape), t.scale, random) }));
}

/**
 * Inputs of one of the skill's `demo.testShapes` cases (kernel conformance tests, the backend bench):
 * data set `data` draws from the value distributions in turn; mlp's weights and biases are scaled
 * by 1/√fan-in as in its demo.
 */
export function testShapeInputs(skill: SkillName, shapes: ReadonlyArray<readonly number[]>, data: number, random: Random): DenseTensor[] {
  const names = getSkill(skill)
    .demo.tensors(1)
    .map((t) => t.name);
  const dist = VALUE_DISTRIBUTIONS[data % VALUE_DISTRIBUTIONS.length];
  return shapes.map((shape, i) => {
    const width = shape[shape.length - 1];
    const weights = skill === 'mlp' && i > 0;
    const scale = weights ? 1 / Math.sqrt(shape[0]) : 1;
    return { name: names[i], shape, data: randomValues(elements(shape), width, weights ? 'uniform' : dist, random, scale) };
  });
}

/**
 * Example inputs for each skill (`swarm submit --skill matmul --size 256`, benchmarks, tests).
 * `size` is the skill's characteristic dimension: matmul n = k = m = size; vecadd n = size;
 * mlp batch = in = hidden = size with DEMO_MLP_CLASSES outputs.
 */
import { DenseTensor, ErrorCode, SwarmError, Tensor, toTensor } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import { getSkill } from './catalog';
import type { SkillSpec } from './skill-spec';

export const DEMO_MLP_CLASSES = 10;
/** Largest demo size: a matmul operand of this size is 64 MiB, past what any node accepts. */
export const MAX_DEMO_SIZE = 1 << 12;
const MAX_DEMO_VECTOR = 1 << 24;

/** Uniform values in [-scale, scale). */
function uniform(count: number, scale: number, random: Random): Float32Array {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = (random() * 2 - 1) * scale;
  return data;
}

function tensor(name: string, shape: number[], scale: number, random: Random): DenseTensor {
  return { name, shape, data: uniform(shape.reduce((n, d) => n * d, 1), scale, random) };
}

/** Demo inputs in wire form, ready for a SubmitTask or Execute request. */
export function demoInputs(skill: SkillSpec | string, size: number, random: Random): Tensor[] {
  return demoDenseInputs(skill, size, random).map((t) => toTensor(t.name, t.shape, t.data));
}

export function demoDenseInputs(skill: SkillSpec | string, size: number, random: Random): DenseTensor[] {
  const spec = typeof skill === 'string' ? getSkill(skill) : skill;
  const max = spec.name === 'vecadd' ? MAX_DEMO_VECTOR : MAX_DEMO_SIZE;
  if (!Number.isSafeInteger(size) || size < 1 || size > max) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `demo size for ${spec.name} must be an integer in [1, ${max}], got ${size}`);
  }
  switch (spec.name) {
    case 'matmul':
      return [tensor('a', [size, size], 1, random), tensor('b', [size, size], 1, random)];
    case 'vecadd':
      return [tensor('a', [size], 1, random), tensor('b', [size], 1, random)];
    default: {
      // 1/√fan-in weights keep activations O(1) whatever the size, so the softmax stays informative.
      const inScale = 1 / Math.sqrt(size);
      return [
        tensor('x', [size, size], 1, random),
        tensor('w1', [size, size], inScale, random),
        tensor('b1', [size], 0.1, random),
        tensor('w2', [size, DEMO_MLP_CLASSES], inScale, random),
        tensor('b2', [DEMO_MLP_CLASSES], 0.1, random),
      ];
    }
  }
}

/**
 * Verification against what the executor really returns (issue 10 §2): results of the gpu.js
 * kernels on both CPU-side backends are always accepted, and wrong results made from them are
 * rejected, up to the node's limit. Completeness and soundness on plain-JS results, at 10,000 tasks
 * per skill, are in libs/skills (completeness.trials.spec.ts, soundness-*.trials.spec.ts).
 */
import { seededRandom } from '@swarm/determinism';
import { createAdversary, getSkill, MUTATION_KINDS, SKILL_NAMES, testShapeInputs } from '@swarm/skills';
import { GPU } from 'gpu.js';
import { compileSkill } from './skill-kernels';

/** Data sets run through each compiled shape (a kernel compiles once per shape). */
const DATA_PER_SHAPE = 24;
/** Generous: `npm test` runs this at nice 19 beside everything else, so it may wait minutes for a core (nothing here is timed). */
const TIMEOUT_MS = 1_800_000;
/** Wrong results made from the kernel's output at the limit, each verified with fresh randomness. */
const LIMIT_TRIALS = 500;

describe.each(['webasm', 'cpu'] as const)('kernel verification - %s backend', (mode) => {
  const gpu = new GPU({ mode });
  afterAll(() => gpu.destroy());

  it.each(SKILL_NAMES)(
    'accepts every %s result of the kernel, several random verifications each',
    async (name) => {
      const skill = getSkill(name);
      const random = seededRandom(7);
      const rejected: string[] = [];
      // The limit runs on webasm only: the cpu backend takes seconds there and computes the same way below it.
      const shapes = mode === 'webasm' ? skill.demo.testShapes : skill.demo.testShapes.slice(0, -1);
      for (const shape of shapes) {
        const compiled = compileSkill(gpu, skill, shape);
        const large = shape[0].reduce((n, d) => n * d, 1) >= 100_000;
        for (let data = 0; data < (large ? 1 : DATA_PER_SHAPE); data++) {
          const inputs = testShapeInputs(name, shape, data, random);
          const outputs = await compiled.run(inputs.map((t) => t.data));
          for (let check = 0; check < (large ? 2 : 5); check++) {
            const verdict = skill.verify(inputs, outputs, random);
            if (!verdict.ok) rejected.push(`${JSON.stringify(shape)} data ${data}: ${verdict.detail}`);
          }
        }
        compiled.destroy();
      }
      expect(rejected).toEqual([]);
    },
    TIMEOUT_MS,
  );
});

describe('kernel verification - wrong results made from the kernel output at the limit', () => {
  const gpu = new GPU({ mode: 'webasm' });
  afterAll(() => gpu.destroy());

  it.each(SKILL_NAMES)(
    `rejects ${LIMIT_TRIALS} of ${LIMIT_TRIALS} mutations of a %s kernel result`,
    async (name) => {
      const skill = getSkill(name);
      const random = seededRandom(8);
      const shape = skill.demo.testShapes[skill.demo.testShapes.length - 1];
      const compiled = compileSkill(gpu, skill, shape);
      const inputs = testShapeInputs(name, shape, 0, random);
      const outputs = await compiled.run(inputs.map((t) => t.data));
      const stale = await compiled.run(testShapeInputs(name, shape, 0, random).map((t) => t.data));
      compiled.destroy();
      const adversary = createAdversary(outputs, stale);
      const accepted: string[] = [];
      for (let trial = 0; trial < LIMIT_TRIALS; trial++) {
        const kind = MUTATION_KINDS[trial % MUTATION_KINDS.length];
        const target = Math.floor(trial / MUTATION_KINDS.length) % outputs.length;
        if (adversary.attack(kind, target, random, (wrong) => skill.verify(inputs, wrong, random).ok)) accepted.push(`trial ${trial}: ${kind}`);
      }
      expect(accepted).toEqual([]);
    },
    TIMEOUT_MS,
  );
});

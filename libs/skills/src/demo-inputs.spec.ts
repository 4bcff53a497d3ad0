import { ErrorCode, fromTensor, TASK_MAX_ELEMENTS } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { getSkill, SKILL_NAMES } from './catalog';
import { demoDenseInputs, demoInputs, demoValueCount, MAX_DEMO_VALUES, maxDemoSize } from './demo-inputs';
import { DEMO_MLP_CLASSES } from './mlp';
import type { SkillSpec } from './skill-spec';

describe('demoInputs - generated inputs', () => {
  it.each(SKILL_NAMES)('gives %s inputs that validate and whose reference result verifies', (name) => {
    const skill = getSkill(name);
    const inputs = demoDenseInputs(name, 24, seededRandom(1));
    expect(() => skill.validate(inputs, { maxElements: 1 << 20 })).not.toThrow();
    expect(skill.verify(inputs, skill.reference(inputs), seededRandom(2)).ok).toBe(true);
  });

  it('sizes each skill by its characteristic dimension', () => {
    const shapes = (name: string) => demoDenseInputs(name, 8, seededRandom(1)).map((t) => t.shape);
    expect(shapes('matmul')).toEqual([
      [8, 8],
      [8, 8],
    ]);
    expect(shapes('vecadd')).toEqual([[8], [8]]);
    expect(shapes('mlp')).toEqual([[8, 8], [8, 8], [8], [8, DEMO_MLP_CLASSES], [DEMO_MLP_CLASSES]]);
  });

  it('is deterministic for a seed and encodes to wire tensors', () => {
    const wire = demoInputs(getSkill('matmul'), 4, seededRandom(9));
    expect(wire.map(fromTensor)).toEqual(demoDenseInputs('matmul', 4, seededRandom(9)));
    expect(wire[0].data.byteLength).toBe(4 * 16);
  });

  it('refuses a bad size or an unknown skill', () => {
    expect(() => demoInputs('matmul', 0, seededRandom(1))).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }));
    expect(() => demoInputs('matmul', 2.5, seededRandom(1))).toThrow(/integer in \[1, 4096\]/);
    expect(() => demoInputs('fft', 8, seededRandom(1))).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_UNKNOWN_SKILL }));
  });

  it('generates each declared tensor with its scale', () => {
    const [x, w1, b1] = demoDenseInputs('mlp', 16, seededRandom(3));
    const spread = (data: Float32Array) => data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(spread(x.data)).toBeLessThanOrEqual(1);
    expect(spread(w1.data)).toBeLessThanOrEqual(1 / 4);
    expect(spread(b1.data)).toBeLessThanOrEqual(0.1);
  });

  it("runs each skill's `swarm up --demo` size within the node's limit", () => {
    for (const skill of SKILL_NAMES.map(getSkill)) {
      expect(skill.demo.exampleSize).toBeGreaterThanOrEqual(1);
      expect(skill.demo.exampleSize).toBeLessThanOrEqual(maxDemoSize(skill, TASK_MAX_ELEMENTS));
    }
  });
});

describe('maxDemoSize - the largest example within a value limit', () => {
  it('gives the --size limits `swarm submit` states, from the declared shapes alone', () => {
    const limits = Object.fromEntries(SKILL_NAMES.map((name) => [name, maxDemoSize(getSkill(name), TASK_MAX_ELEMENTS)]));
    // matmul 2n² values, vecadd 2n, mlp 2n² + 11n + 10 (x and w1 n×n, b1 n, w2 n×10, b2 10).
    expect(limits).toMatchObject({ matmul: 1_000, vecadd: 1_000_000, mlp: 997 });
    expect(maxDemoSize(getSkill('matmul'), MAX_DEMO_VALUES)).toBe(4_096);
  });

  it.each(SKILL_NAMES)("%s: the limit size passes the skill's own validation and one more does not", (name) => {
    const skill = getSkill(name);
    const max = maxDemoSize(skill, TASK_MAX_ELEMENTS);
    const limits = { maxElements: TASK_MAX_ELEMENTS };
    const half = () => 0.5; // the values do not matter here, only how many there are
    expect(demoValueCount(skill, max)).toBeLessThanOrEqual(TASK_MAX_ELEMENTS);
    expect(() => skill.validate(demoDenseInputs(skill, max, half), limits)).not.toThrow();
    expect(() => skill.validate(demoDenseInputs(skill, max + 1, half), limits)).toThrow(/at most 2000000/);
  });

  it('answers 0 when even size 1 is too big, and stops at a ceiling for a count that never grows', () => {
    const fixed = (count: number): SkillSpec => ({
      ...getSkill('vecadd'),
      demo: { sizeMeaning: 'fixed', exampleSize: 1, tensors: () => [{ name: 'a', shape: [count], scale: 1 }], testShapes: [] },
    });
    expect(maxDemoSize(getSkill('matmul'), 1)).toBe(0);
    expect(maxDemoSize(fixed(4), 4)).toBe(2 ** 40);
    expect(maxDemoSize(fixed(5), 4)).toBe(0);
  });
});

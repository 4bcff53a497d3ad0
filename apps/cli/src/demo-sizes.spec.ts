import { TASK_MAX_ELEMENTS } from '@swarm/contracts';
import { getSkill, maxDemoSize, SKILL_NAMES } from '@swarm/skills';
import { demoSizeLimit, demoSizeLimitsText, demoSizesHelp } from './demo-sizes';

describe('demo sizes - what --help states about --size', () => {
  it("states each skill's limit within a task's values", () => {
    expect(demoSizeLimitsText()).toMatch(/^matmul ≤ 1000, vecadd ≤ 1000000, mlp ≤ 997\b/);
    for (const name of SKILL_NAMES) expect(demoSizeLimit(getSkill(name))).toBe(maxDemoSize(getSkill(name), TASK_MAX_ELEMENTS));
  });

  it('lists what n means for every skill, one line each', () => {
    const lines = demoSizesHelp().trim().split('\n');
    expect(lines[0]).toBe('--size n per skill (generated inputs):');
    expect(lines).toHaveLength(1 + SKILL_NAMES.length);
    expect(lines.slice(1, 4).map((l) => l.replace(/ +/g, ' '))).toEqual([
      ' matmul n×n matrices, n ≤ 1000',
      ' vecadd vectors of length n, n ≤ 1000000',
      ' mlp batch = in = hidden = n, 10 classes, n ≤ 997',
    ]);
  });
});

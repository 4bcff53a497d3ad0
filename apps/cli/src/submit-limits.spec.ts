import { TASK_MAX_ELEMENTS, TASK_MAX_TIMEOUT_MS } from '@swarm/contracts';
import { demoDenseInputs, getSkill, SKILL_NAMES } from '@swarm/skills';
import { MAX_DEMO_SIZE, MAX_TASK_VALUES, MAX_TIMEOUT_MS } from './submit-limits';

describe('submit limits - what --help states is what the node enforces', () => {
  it('copies the node-wide limits', () => {
    expect(MAX_TASK_VALUES).toBe(TASK_MAX_ELEMENTS);
    expect(MAX_TIMEOUT_MS).toBe(TASK_MAX_TIMEOUT_MS);
    expect(Object.keys(MAX_DEMO_SIZE).sort()).toEqual([...SKILL_NAMES].sort());
  });

  it.each(Object.entries(MAX_DEMO_SIZE))('%s: --size %i passes the skill\'s validation and one more does not', (skill, max) => {
    const limits = { maxElements: TASK_MAX_ELEMENTS };
    const half = () => 0.5; // the values do not matter here, only how many there are
    expect(() => getSkill(skill).validate(demoDenseInputs(skill, max, half), limits)).not.toThrow();
    expect(() => getSkill(skill).validate(demoDenseInputs(skill, max + 1, half), limits)).toThrow(/at most 2000000/);
  });
});

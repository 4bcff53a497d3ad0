/**
 * What `swarm submit --size n` means per skill and how large it may be: the largest example whose
 * inputs fit one task (TASK_MAX_ELEMENTS), from each skill's own demo. Loaded only when a submit,
 * its help or a bad --size needs it, so other commands start without the skill catalog.
 */
import { TASK_MAX_ELEMENTS } from '@swarm/contracts';
import { listSkills, maxDemoSize } from '@swarm/skills';
import type { SkillSpec } from '@swarm/skills';

export function demoSizeLimit(skill: SkillSpec): number {
  return maxDemoSize(skill, TASK_MAX_ELEMENTS);
}

/** "matmul ≤ 1000, vecadd ≤ 1000000, mlp ≤ 997" */
export function demoSizeLimitsText(): string {
  return listSkills()
    .map((s) => `${s.name} ≤ ${demoSizeLimit(s)}`)
    .join(', ');
}

/** One line per skill for `swarm submit --help`. */
export function demoSizesHelp(): string {
  const skills = listSkills();
  const width = Math.max(...skills.map((s) => s.name.length));
  const lines = skills.map((s) => `  ${s.name.padEnd(width)}  ${s.demo.sizeMeaning}, n ≤ ${demoSizeLimit(s)}`);
  return `\n--size n per skill (generated inputs):\n${lines.join('\n')}`;
}

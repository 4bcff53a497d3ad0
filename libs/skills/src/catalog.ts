/**
 * The skills this build knows, looked up by name, and what a call of one costs. Adding a skill is
 * its own file (one SkillSpec) and one entry here (docs/skills.md); which of them a node runs is
 * executor-svc's SWARM_SKILLS.
 */
import type { DenseTensor, SkillInfo } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { matmul } from './matmul';
import { mlp } from './mlp';
import type { SkillSpec } from './skill-spec';
import { vecadd } from './vecadd';

const SKILLS = Object.freeze([matmul, vecadd, mlp] as const);
/** A name the catalog knows: tables keyed by it (`Record<SkillName, …>`) must cover every skill. */
export type SkillName = (typeof SKILLS)[number]['name'];
const BY_NAME: ReadonlyMap<string, SkillSpec<SkillName>> = new Map(SKILLS.map((s) => [s.name, s]));
/** Work units per priced unit ("credits per million work units"). */
const WORK_PER_PRICE_UNIT = 1_000_000n;

export const SKILL_NAMES: readonly SkillName[] = Object.freeze(SKILLS.map((s) => s.name));

export function isSkillName(name: string): name is SkillName {
  return BY_NAME.has(name);
}

/**
 * The catalog's skills a comma-separated list names (SWARM_SKILLS), in catalog order, each once;
 * names the catalog does not know are left out (executor-svc's config refuses them first).
 */
export function skillsNamedIn(list: string): readonly SkillName[] {
  const names = new Set(list.split(',').map((name) => name.trim()));
  return Object.freeze(SKILL_NAMES.filter((name) => names.has(name)));
}

/** Longest name an unknown-skill message quotes: names come from clients and peers. */
const SHOWN_NAME_CHARS = 64;

/** Throws SwarmError UNKNOWN_SKILL naming the skills that do exist (and the likely one, for a typo). */
export function getSkill(name: string): SkillSpec<SkillName> {
  const skill = BY_NAME.get(name);
  if (!skill) {
    const likely = likelySkill(name);
    throw new SwarmError(
      ErrorCode.ERROR_CODE_UNKNOWN_SKILL,
      `unknown skill ${shownName(name)}${likely ? ` (did you mean ${likely}?)` : ''}; known skills: ${SKILL_NAMES.join(', ')}`,
    );
  }
  return skill;
}

/** `'name'`, or its first SHOWN_NAME_CHARS characters, an ellipsis and its length. */
function shownName(name: string): string {
  return name.length > SHOWN_NAME_CHARS ? `'${name.slice(0, SHOWN_NAME_CHARS)}…' (${name.length} characters)` : `'${name}'`;
}

/**
 * The known skill `name` most likely means: the one it starts (3 characters at least), else the one
 * nearest by edits when that is one edit away (two for names over 4 characters), and no tie.
 */
function likelySkill(name: string): SkillName | undefined {
  if (name.length > SHOWN_NAME_CHARS) return undefined;
  const typed = name.toLowerCase();
  const started = SKILL_NAMES.filter((known) => typed.length >= 3 && known.startsWith(typed));
  if (started.length === 1) return started[0];
  const ranked = SKILL_NAMES.map((known) => ({ known, d: editDistance(typed, known) })).sort((a, b) => a.d - b.d);
  return ranked[0].d <= (typed.length > 4 ? 2 : 1) && ranked[1]?.d !== ranked[0].d ? ranked[0].known : undefined;
}

/** Levenshtein distance (insertions, deletions, substitutions), one row at a time. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const next = [i];
    for (let j = 1; j <= b.length; j += 1) next.push(Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length];
}

export function listSkills(): readonly SkillSpec<SkillName>[] {
  return SKILLS;
}

/** Credits for one call on validated inputs: ⌈work · price / 1e6⌉, never less than 1. */
export function priceOf(skill: SkillSpec | string, inputs: readonly DenseTensor[]): bigint {
  const spec = typeof skill === 'string' ? getSkill(skill) : skill;
  const work = BigInt(Math.ceil(spec.work(inputs)));
  const credits = (work * spec.pricePerMWork + WORK_PER_PRICE_UNIT - 1n) / WORK_PER_PRICE_UNIT;
  return credits < 1n ? 1n : credits;
}

/** The wire description of a skill (ExecutorSkills, registry records). */
export function skillInfo(skill: SkillSpec): SkillInfo {
  return {
    name: skill.name,
    description: skill.description,
    inputs: skill.inputSignature,
    outputs: skill.outputSignature,
    pricePerMwork: skill.pricePerMWork,
    verification: skill.verification,
    verificationBound: skill.verificationBound,
    verificationCost: skill.verificationCost,
  };
}

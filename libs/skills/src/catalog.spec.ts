import type { DenseTensor } from '@swarm/contracts';
import { ErrorCode } from '@swarm/contracts';
import { getSkill, isSkillName, listSkills, priceOf, SKILL_NAMES, skillInfo, skillsNamedIn } from './catalog';

const square = (n: number): DenseTensor[] => [
  { name: 'a', shape: [n, n], data: new Float32Array(n * n) },
  { name: 'b', shape: [n, n], data: new Float32Array(n * n) },
];

describe('catalog - lookup', () => {
  it('lists every skill once, the shipped ones included', () => {
    expect(SKILL_NAMES).toEqual(expect.arrayContaining(['matmul', 'vecadd', 'mlp']));
    expect(new Set(SKILL_NAMES).size).toBe(SKILL_NAMES.length);
    expect(listSkills().map((s) => s.name)).toEqual(SKILL_NAMES);
    expect(getSkill('mlp').name).toBe('mlp');
  });

  it('names every skill as the registry accepts it, once', () => {
    for (const name of SKILL_NAMES) expect(name).toMatch(/^[a-z0-9_-]{1,64}$/);
    expect(new Set(SKILL_NAMES).size).toBe(SKILL_NAMES.length);
    expect(SKILL_NAMES.every(isSkillName)).toBe(true);
    expect(isSkillName('sort')).toBe(false);
  });

  it('refuses an unknown skill with UNKNOWN_SKILL naming the known ones', () => {
    expect(() => getSkill('sort')).toThrow(
      expect.objectContaining({
        code: ErrorCode.ERROR_CODE_UNKNOWN_SKILL,
        message: `unknown skill 'sort'; known skills: ${SKILL_NAMES.join(', ')}`,
      }),
    );
  });

  it('names the likely skill for a typo, and none for a name far from all or as near to two', () => {
    expect(() => getSkill('matmull')).toThrow(/^unknown skill 'matmull' \(did you mean matmul\?\); known skills: /);
    expect(() => getSkill('VecAd')).toThrow(/\(did you mean vecadd\?\)/);
    expect(() => getSkill('teleport')).toThrow(/^unknown skill 'teleport'; known skills: /);
    expect(() => getSkill('mat')).toThrow(/\(did you mean matmul\?\)/);
    expect(() => getSkill('vec')).toThrow(/\(did you mean vecadd\?\)/);
    expect(() => getSkill('mpl')).toThrow(/^unknown skill 'mpl'; known/);
    expect(() => getSkill('x'.repeat(3000))).toThrow(new RegExp(`^unknown skill '${'x'.repeat(64)}…' \\(3000 characters\\); known`));
    expect(() => getSkill('m')).toThrow(/^unknown skill 'm'; known/);
  });

  it('describes each skill for the wire', () => {
    expect(skillInfo(getSkill('matmul'))).toEqual({
      name: 'matmul',
      description: expect.any(String),
      inputs: 'a:[n,k] b:[k,m]',
      outputs: 'c:[n,m]',
      pricePerMwork: 1n,
      verification: 'freivalds',
      verificationBound: expect.stringMatching(/probability ≤ 2\^-20/),
      verificationCost: expect.any(String),
    });
    for (const skill of listSkills()) expect(skillInfo(skill).verificationBound).toMatch(/accepted|never/);
  });
});

describe('catalog - priceOf', () => {
  it('charges ⌈work · price / 1e6⌉ credits', () => {
    // 256³·2 = 33_554_432 flops at 1 credit per million -> 34 credits.
    expect(priceOf('matmul', square(256))).toBe(34n);
    expect(priceOf(getSkill('matmul'), square(100))).toBe(2n);
  });

  it('charges at least 1 credit', () => {
    expect(priceOf('matmul', square(1))).toBe(1n);
  });

  it('refuses an unknown skill', () => {
    expect(() => priceOf('nope', [])).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_UNKNOWN_SKILL }));
  });
});

describe('catalog - skillsNamedIn (SWARM_SKILLS)', () => {
  it('answers the named skills in catalog order, each once, leaving out names it does not know', () => {
    expect(skillsNamedIn(' mlp , matmul,mlp')).toEqual(['matmul', 'mlp']);
    expect(skillsNamedIn('teleport')).toEqual([]);
    expect(skillsNamedIn('')).toEqual([]);
  });
});

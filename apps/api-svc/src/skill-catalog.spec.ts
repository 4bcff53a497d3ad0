import { ErrorCode } from '@swarm/contracts';
import { listSkills, priceOf, skillInfo } from '@swarm/skills';
import { parseSignature, quoteJson, skillsJson } from './skill-catalog';

describe('skill catalog - what agents read', () => {
  it('spells out input and output shapes', () => {
    expect(parseSignature('a:[n,k] b:[k,m]')).toEqual([
      { name: 'a', shape: ['n', 'k'] },
      { name: 'b', shape: ['k', 'm'] },
    ]);
    const json = skillsJson({ skills: listSkills().map(skillInfo), backend: 'cpu' });
    const matmul = json.skills.find((s) => s.name === 'matmul');
    expect(matmul?.inputs.map((i) => i.name)).toEqual(['a', 'b']);
    expect(matmul?.verificationBound).not.toBe('');
  });

  it('quotes exactly what priceOf asks for the same inputs', () => {
    const quote = quoteJson({
      skill: 'matmul',
      shapes: [
        { name: 'a', shape: [64, 32] },
        { name: 'b', shape: [32, 16] },
      ],
    });
    const expected = priceOf('matmul', [
      { name: 'a', shape: [64, 32], data: new Float32Array(64 * 32) },
      { name: 'b', shape: [32, 16], data: new Float32Array(32 * 16) },
    ]);
    expect(quote).toMatchObject({ skill: 'matmul', price: String(expected), work: 2 * 64 * 32 * 16 });
  });

  it('refuses shapes the skill does not take, and too many elements', () => {
    expect(() =>
      quoteJson({
        skill: 'matmul',
        shapes: [
          { name: 'a', shape: [2, 3] },
          { name: 'b', shape: [4, 2] },
        ],
      }),
    ).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }));
    expect(() => quoteJson({ skill: 'nope', shapes: [{ name: 'a', shape: [1] }] })).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_UNKNOWN_SKILL }));
    expect(() => quoteJson({ skill: 'vecadd', shapes: [{ name: 'a', shape: [3_000_000] }] })).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE }));
  });
});

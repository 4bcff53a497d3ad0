import { ErrorCode, fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { getSkill, SKILL_NAMES } from './catalog';
import { DEMO_MLP_CLASSES, demoDenseInputs, demoInputs } from './demo-inputs';

describe('demoInputs - generated inputs', () => {
  it.each(SKILL_NAMES)('gives %s inputs that validate and whose reference result verifies', (name) => {
    const skill = getSkill(name);
    const inputs = demoDenseInputs(name, 24, seededRandom(1));
    expect(() => skill.validate(inputs, { maxElements: 1 << 20 })).not.toThrow();
    expect(skill.verify(inputs, skill.reference(inputs), seededRandom(2)).ok).toBe(true);
  });

  it('sizes each skill by its characteristic dimension', () => {
    const shapes = (name: string) => demoDenseInputs(name, 8, seededRandom(1)).map((t) => t.shape);
    expect(shapes('matmul')).toEqual([[8, 8], [8, 8]]);
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
});

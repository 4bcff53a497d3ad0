import { seededRandom } from '@swarm/determinism';
import { demoDenseInputs, getSkill, SKILL_NAMES } from '@swarm/skills';
import { GPU } from 'gpu.js';
import { compileSkill, flat, readBack } from './skill-kernels';

// The kernels in-process (no worker pool): every skill on both CPU-side gpu.js backends.
describe.each(['webasm', 'cpu'] as const)('skill kernels - %s backend', (mode) => {
  const gpu = new GPU({ mode });
  afterAll(() => gpu.destroy());

  it.each(SKILL_NAMES)('computes %s like the reference, within what verification accepts', async (name) => {
    const skill = getSkill(name);
    const inputs = demoDenseInputs(name, 33, seededRandom(4));
    const compiled = compileSkill(gpu, name, inputs.map((t) => t.shape));
    const outputs = await compiled.run(inputs.map((t) => t.data));
    expect(compiled.backend).toBe(mode);
    const expected = skill.reference(inputs);
    expect(outputs.map((o) => [o.name, o.shape])).toEqual(expected.map((o) => [o.name, o.shape]));
    outputs.forEach((o, i) => o.data.forEach((v, j) => expect(Math.abs(v - expected[i].data[j])).toBeLessThan(1e-4)));
    expect(skill.verify(inputs, outputs, seededRandom(5))).toMatchObject({ ok: true });
    compiled.destroy();
  });
});

describe('skill kernels - unknown skill', () => {
  it('has no kernel for a skill it does not know', () => {
    expect(() => compileSkill(new GPU({ mode: 'cpu' }), 'fft', [[4]])).toThrow("no kernel for skill 'fft'");
  });
});

describe('flat - kernel output to one row-major array', () => {
  it('reuses the buffer when rows tile it exactly', () => {
    const buffer = new Float32Array([1, 2, 3, 4, 5, 6]);
    const rows = [buffer.subarray(0, 3), buffer.subarray(3, 6)];
    const out = flat(rows, 6);
    expect(out.buffer).toBe(buffer.buffer);
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('copies rows that live in separate buffers', () => {
    const out = flat([Float32Array.of(1, 2), Float32Array.of(3, 4)], 4);
    expect(Array.from(out)).toEqual([1, 2, 3, 4]);
  });

  it('passes a 1-D result through and refuses anything else', () => {
    const v = Float32Array.of(7, 8);
    expect(flat(v, 2)).toBe(v);
    expect(() => flat([[1, 2]], 2)).toThrow(/unexpected kernel output/);
  });
});

describe('readBack - pipeline results', () => {
  it('awaits a device handle\'s toArray (WebGPU) and passes arrays through (webasm, cpu)', async () => {
    const rows = [Float32Array.of(1, 2)];
    await expect(readBack({ toArray: async () => rows })).resolves.toBe(rows);
    await expect(readBack(rows)).resolves.toBe(rows);
  });
});

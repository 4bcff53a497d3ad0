import { seededRandom } from '@swarm/determinism';
import { demoDenseInputs, getSkill, SKILL_NAMES } from '@swarm/skills';
import type { SkillSpec } from '@swarm/skills';
import { GPU } from 'gpu.js';
import { compileSkill, flat, readBack } from './skill-kernels';

// The kernels in-process (no worker pool): every skill on both CPU-side gpu.js backends.
describe.each(['webasm', 'cpu'] as const)('skill kernels - %s backend', (mode) => {
  const gpu = new GPU({ mode });
  afterAll(() => gpu.destroy());

  it.each(SKILL_NAMES)('computes %s like the reference, within what verification accepts', async (name) => {
    const skill = getSkill(name);
    const inputs = demoDenseInputs(name, 33, seededRandom(4));
    const compiled = compileSkill(
      gpu,
      skill,
      inputs.map((t) => t.shape),
    );
    const outputs = await compiled.run(inputs.map((t) => t.data));
    expect(compiled.backend).toBe(mode);
    const expected = skill.reference(inputs);
    expect(outputs.map((o) => [o.name, o.shape])).toEqual(expected.map((o) => [o.name, o.shape]));
    outputs.forEach((o, i) => o.data.forEach((v, j) => expect(Math.abs(v - expected[i].data[j])).toBeLessThan(1e-4)));
    expect(skill.verify(inputs, outputs, seededRandom(5))).toMatchObject({ ok: true });
    compiled.destroy();
  });

  it('leaves no kernel listed on the gpu once a compiled set is destroyed, however many come and go', async () => {
    // gpu.js's cpu kernels stayed in gpu.kernels after destroy: a stream of new shapes grew the heap without bound.
    const listed = () => (gpu as unknown as { kernels: object[] }).kernels.length;
    const before = listed();
    for (let n = 1; n <= 20; n++) {
      for (const name of SKILL_NAMES) {
        const inputs = demoDenseInputs(name, n, seededRandom(n));
        const compiled = compileSkill(
          gpu,
          getSkill(name),
          inputs.map((t) => t.shape),
        );
        await compiled.run(inputs.map((t) => t.data));
        expect(listed()).toBeGreaterThan(before);
        compiled.destroy();
      }
    }
    expect(listed()).toBe(before);
  });
});

/** What a skill's kernel may use: constants, 2-D outputs, loops, a pipelined result as another kernel's input. */
const ROWS_FIXTURE: SkillSpec['kernel'] = {
  compile(kernels, [[rows, cols]]) {
    const scaled = kernels.kernel(
      `function scaled(a) {
  return a[this.thread.y * this.constants.cols + this.thread.x] * this.constants.factor;
}`,
      { output: [cols, rows], constants: { cols, factor: 3 }, pipeline: true },
    );
    const rowSums = kernels.kernel(
      `function rowSums(s) {
  let sum = 0;
  for (let j = 0; j < this.constants.cols; j++) {
    sum += s[this.thread.x][j];
  }
  return sum;
}`,
      { output: [rows], constants: { cols }, loopMaxIterations: cols },
    );
    return async ([a]) => {
      const s = await scaled(a);
      return [
        { name: 's', shape: [rows, cols], data: await kernels.read(s, rows * cols) },
        { name: 'r', shape: [rows], data: await kernels.read(await rowSums(s), rows) },
      ];
    };
  },
};

describe.each(['webasm', 'cpu'] as const)('skill kernels - the builder a skill compiles against (%s)', (mode) => {
  it('honours constants, 2-D outputs and loops, and passes a pipelined result to the next kernel', async () => {
    const gpu = new GPU({ mode });
    try {
      const compiled = compileSkill(gpu, { ...getSkill('vecadd'), kernel: ROWS_FIXTURE }, [[2, 3]]);
      const out = await compiled.run([Float32Array.of(1, 2, 3, 4, 5, 6)]);
      expect(out.map((o) => [o.name, o.shape, Array.from(o.data)])).toEqual([
        ['s', [2, 3], [3, 6, 9, 12, 15, 18]],
        ['r', [2], [18, 45]],
      ]);
      expect(compiled.backend).toBe(mode);
      compiled.destroy();
    } finally {
      await gpu.destroy();
    }
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
  it("awaits a device handle's toArray (WebGPU) and passes arrays through (webasm, cpu)", async () => {
    const rows = [Float32Array.of(1, 2)];
    await expect(readBack({ toArray: async () => rows })).resolves.toBe(rows);
    await expect(readBack(rows)).resolves.toBe(rows);
  });
});

import { seededRandom } from '@swarm/determinism';
import { demoDenseInputs, getSkill, SKILL_NAMES } from '@swarm/skills';
import { KERNEL_CACHE_SIZE } from './kernel-cache';
import { createInlineLane, INLINE_COMPILE_EVERY_MS, INLINE_MAX_WORK } from './inline-lane';

describe('inline lane - tiny tasks on the calling thread', () => {
  const vecadd = (size: number, seed = 1) => demoDenseInputs('vecadd', size, seededRandom(seed));

  it('runs every skill at a tiny size like the reference, accepted by its verifier', async () => {
    const lane = createInlineLane({ backend: 'webasm', maxWork: INLINE_MAX_WORK, compileEveryMs: 0 });
    for (const name of SKILL_NAMES) {
      const skill = getSkill(name);
      const inputs = demoDenseInputs(name, 4, seededRandom(5));
      expect(skill.work(inputs)).toBeLessThanOrEqual(INLINE_MAX_WORK);
      const run = lane?.tryRun(name, inputs);
      expect(run).toBeDefined();
      const { outputs, backend } = await run!;
      expect(backend).toBe('webasm');
      const expected = skill.reference(inputs);
      outputs.forEach((o, i) => {
        expect([o.name, o.shape]).toEqual([expected[i].name, expected[i].shape]);
        o.data.forEach((v, j) => expect(Math.abs(v - expected[i].data[j])).toBeLessThan(1e-4));
      });
      expect(skill.verify(inputs, outputs, seededRandom(6)).ok).toBe(true);
    }
  });

  it('leaves a task above maxWork to the pool', async () => {
    const lane = createInlineLane({ backend: 'webasm', maxWork: 16, compileEveryMs: 0 });
    const run = lane?.tryRun('vecadd', vecadd(16));
    expect(run).toBeDefined();
    expect(lane?.tryRun('vecadd', vecadd(17))).toBeUndefined();
    await run;
  });

  it('has no lane on WebGPU (the device lives in the workers) or at maxWork 0', () => {
    expect(createInlineLane({ backend: 'webgpu', maxWork: INLINE_MAX_WORK })).toBeUndefined();
    expect(createInlineLane({ backend: 'webasm', maxWork: 0 })).toBeUndefined();
  });

  it('compiles a new shape at most once per compileEveryMs; shapes compiled already always run here', async () => {
    let now = 1_000;
    const lane = createInlineLane({ backend: 'cpu', maxWork: INLINE_MAX_WORK, now: () => now })!;
    await lane.tryRun('vecadd', vecadd(8));
    // A second new shape within the interval goes to the pool; the compiled one still runs here.
    now += INLINE_COMPILE_EVERY_MS - 1;
    expect(lane.tryRun('vecadd', vecadd(9))).toBeUndefined();
    expect(lane.tryRun('vecadd', vecadd(8, 2))).toBeDefined();
    now += 1;
    await expect(lane.tryRun('vecadd', vecadd(9))).resolves.toMatchObject({ backend: 'cpu' });
    // A stream of ever-new shapes gets one compile per interval, however many arrive.
    let compiled = 0;
    for (let size = 10; size < 110; size++) {
      now += INLINE_COMPILE_EVERY_MS / 10;
      const run = lane.tryRun('vecadd', vecadd(size));
      if (run) {
        compiled += 1;
        await run;
      }
    }
    expect(compiled).toBe(10);
  });

  it('compiles no more than it allowed when runs queue behind a compile (the kept sets they found stay kept)', async () => {
    let now = 0;
    const lane = createInlineLane({ backend: 'webasm', maxWork: INLINE_MAX_WORK, now: () => now })!;
    const mlp = (batch: number) => demoDenseInputs('mlp', batch, seededRandom(batch));
    // Eight shapes compiled, one per interval: the cache is full, batch 1 its least recently used.
    for (let batch = 1; batch <= KERNEL_CACHE_SIZE; batch++) {
      now += INLINE_COMPILE_EVERY_MS;
      await lane.tryRun('mlp', mlp(batch));
    }
    expect(lane.stats()).toEqual({ runs: KERNEL_CACHE_SIZE, compiles: KERNEL_CACHE_SIZE });
    // One new shape, then the eight kept ones oldest first, all taken before any runs: the new
    // shape's compile evicts one of them, and before, each run then compiled the one it needed.
    now += INLINE_COMPILE_EVERY_MS;
    const taken = [lane.tryRun('mlp', mlp(KERNEL_CACHE_SIZE + 1))];
    for (let batch = 1; batch <= KERNEL_CACHE_SIZE; batch++) taken.push(lane.tryRun('mlp', mlp(batch)));
    const runs = taken.filter((r) => r !== undefined);
    expect(runs).toHaveLength(KERNEL_CACHE_SIZE + 1);
    await Promise.all(runs);
    expect(lane.stats()).toEqual({ runs: 2 * KERNEL_CACHE_SIZE + 1, compiles: KERNEL_CACHE_SIZE + 1 });
  });

  it('does not begin a queued run whose deadline passed while it waited', async () => {
    const lane = createInlineLane({ backend: 'webasm', maxWork: INLINE_MAX_WORK, compileEveryMs: 0 })!;
    const waiting = new AbortController();
    const first = lane.tryRun('vecadd', vecadd(8))!;
    const second = lane.tryRun('vecadd', vecadd(9), waiting.signal)!;
    waiting.abort(new Error('deadline passed'));
    await expect(first).resolves.toMatchObject({ backend: 'webasm' });
    await expect(second).rejects.toThrow('deadline passed');
    expect(lane.stats().compiles).toBe(1);
  });

  it('runs one task at a time, each answered with outputs of its own (cpu backend, mlp at 1×1)', async () => {
    // gpu.js's cpu backend handed the same output arrays back on the next run of mlp at 1×1.
    const lane = createInlineLane({ backend: 'cpu', maxWork: INLINE_MAX_WORK, compileEveryMs: 0 })!;
    const mlp = (seed: number) => demoDenseInputs('mlp', 1, seededRandom(seed));
    const [a, b] = await Promise.all([lane.tryRun('mlp', mlp(1))!, lane.tryRun('mlp', mlp(2))!]);
    expect(a.outputs[0].data).not.toBe(b.outputs[0].data);
    expect(getSkill('mlp').verify(mlp(1), a.outputs, seededRandom(3)).ok).toBe(true);
    expect(getSkill('mlp').verify(mlp(2), b.outputs, seededRandom(3)).ok).toBe(true);
  });
});

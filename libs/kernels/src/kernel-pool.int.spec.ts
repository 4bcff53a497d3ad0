import type { DenseTensor } from '@swarm/contracts';
import { ErrorCode } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoDenseInputs, getSkill, SKILL_NAMES, testShapeInputs } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import { waitFor, swarmErrorOf } from '@swarm/testing';
import type { KernelPool } from './index';
import { createKernelPool, INLINE_MAX_WORK } from './index';

/** Seconds of single-core work on the webasm backend: long enough to outlive any test time limit. */
const LONG_MATMUL = 1024;
// Built once with fill(): the values do not matter, and random generation of 2M values costs seconds
// under jest (its sandbox makes every Math.* call a cross-realm call).
const LONG_INPUTS: DenseTensor[] = ['a', 'b'].map((name) => ({ name, shape: [LONG_MATMUL, LONG_MATMUL], data: new Float32Array(LONG_MATMUL ** 2).fill(0.5) }));
const long = (): DenseTensor[] => LONG_INPUTS;
const small = (skill = 'vecadd'): DenseTensor[] => demoDenseInputs(skill, 16, seededRandom(2));

describe('kernel pool - running skills on worker threads', () => {
  let pool: KernelPool;
  const THREADS = 2;
  const MAX_QUEUE = 2;

  beforeAll(async () => {
    pool = await createKernelPool({ threads: THREADS, maxQueue: MAX_QUEUE, backend: 'webasm', log: silentLogger() });
  });
  afterAll(() => pool.stop());

  it('counts no task for its start-up probe', () => {
    expect(pool.stats()).toMatchObject({ completed: 0, failed: 0 });
  });

  it.each(SKILL_NAMES)('computes %s like the reference, accepted by its verifier', async (name) => {
    const skill = getSkill(name);
    const inputs = demoDenseInputs(name, 48, seededRandom(3));
    const run = await pool.run(name, inputs, { timeoutMs: 20_000 });
    expect(run.backend).toBe('webasm');
    expect(run.executeMs).toBeGreaterThan(0);
    const expected = skill.reference(inputs);
    run.outputs.forEach((o, i) => {
      expect([o.name, o.shape]).toEqual([expected[i].name, expected[i].shape]);
      o.data.forEach((v, j) => expect(Math.abs(v - expected[i].data[j])).toBeLessThan(1e-4));
      // Handed back by transfer: the buffer holds exactly this output.
      expect(o.data.buffer.byteLength).toBe(o.data.length * 4);
    });
    expect(skill.verify(inputs, run.outputs, seededRandom(4)).ok).toBe(true);
  });

  it('aborts a kernel past its time limit without blocking the event loop, then keeps serving', async () => {
    const inputs = long();
    // Behaviour, not wall-clock bounds (a loaded machine stretches both): the main thread keeps
    // running timers while the kernel runs, and the run ends with the time-limit error.
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 5);
    const err = await swarmErrorOf(pool.run('matmul', inputs, { timeoutMs: 300 }));
    clearInterval(ticker);
    expect(err.code).toBe(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
    expect(err.message).toMatch(/did not finish within 300 ms/);
    expect(ticks).toBeGreaterThanOrEqual(2);
    await expect(pool.run('vecadd', small(), { timeoutMs: 20_000 })).resolves.toMatchObject({ backend: 'webasm' });
    expect(pool.stats().timedOut).toBeGreaterThanOrEqual(1);
  });

  it('aborts when the caller aborts its signal', async () => {
    const controller = new AbortController();
    const pending = pool.run('matmul', long(), { timeoutMs: 60_000, signal: controller.signal });
    await waitFor(() => pool.stats().running > 0, { what: 'kernel running' });
    controller.abort();
    expect((await swarmErrorOf(pending)).code).toBe(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
  });

  it('refuses a run beyond threads + maxQueue as OVERLOADED (retryable), then recovers', async () => {
    const busy = Array.from({ length: THREADS + MAX_QUEUE }, () => swarmErrorOf(pool.run('matmul', long(), { timeoutMs: 400 })));
    const refused = await swarmErrorOf(pool.run('vecadd', small(), { timeoutMs: 1_000 }));
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true });
    const stats = pool.stats();
    expect(stats.running + stats.queued).toBe(THREADS + MAX_QUEUE);
    expect(stats.overloaded).toBeGreaterThanOrEqual(1);
    for (const p of busy) expect((await p).code).toBe(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
    await expect(pool.run('mlp', small('mlp'), { timeoutMs: 20_000 })).resolves.toMatchObject({ outputs: [{ name: 'y' }, { name: 'u' }, { name: 'z' }] });
  });

  it('refuses an unknown skill and a non-positive time limit', async () => {
    expect((await swarmErrorOf(pool.run('fft', small(), { timeoutMs: 1_000 }))).code).toBe(ErrorCode.ERROR_CODE_UNKNOWN_SKILL);
    expect((await swarmErrorOf(pool.run('vecadd', small(), { timeoutMs: 0 }))).code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });
});

describe('kernel pool - backend choice and stop', () => {
  it('auto reports the backend it settled on and says why in the log', async () => {
    const lines: string[] = [];
    const log = silentLogger();
    const spy = { ...log, info: (...a: unknown[]) => lines.push(JSON.stringify(a)), warn: (...a: unknown[]) => lines.push(JSON.stringify(a)) };
    const pool = await createKernelPool({ threads: 1, maxQueue: 0, backend: 'auto', log: spy });
    try {
      expect(['webgpu', 'webasm']).toContain(pool.backend);
      expect(lines.join('\n')).toMatch(new RegExp(`kernel pool ready on ${pool.backend}`));
      if (pool.backend === 'webasm') expect(lines.join('\n')).toMatch(/webgpu/i);
    } finally {
      await pool.stop();
    }
  });

  it('runs every test shape of every skill again and again on the cpu backend, each result verified', async () => {
    // The cpu backend handed a kernel's own output arrays back, and the next run of that shape
    // failed on the buffer the first had transferred (mlp at 1×1).
    const pool = await createKernelPool({ threads: 1, maxQueue: 1, backend: 'cpu', log: silentLogger() });
    try {
      const refused: string[] = [];
      for (const name of SKILL_NAMES) {
        const skill = getSkill(name);
        for (const shapes of skill.demo.testShapes.slice(0, -1)) {
          for (let data = 0; data < 3; data++) {
            const inputs = testShapeInputs(name, shapes, data, seededRandom(data));
            const run = await pool.run(name, inputs, { timeoutMs: 20_000 });
            if (!skill.verify(inputs, run.outputs, seededRandom(9)).ok) refused.push(`${name} ${JSON.stringify(shapes)} data ${data}`);
          }
        }
      }
      expect(refused).toEqual([]);
    } finally {
      await pool.stop();
    }
  });

  it('stop() ends a running kernel with UNAVAILABLE and refuses later runs', async () => {
    const pool = await createKernelPool({ threads: 1, maxQueue: 1, backend: 'cpu', log: silentLogger() });
    expect(pool.backend).toBe('cpu');
    const running = swarmErrorOf(pool.run('matmul', long(), { timeoutMs: 60_000 }));
    await waitFor(() => pool.stats().running > 0, { what: 'kernel running' });
    await pool.stop();
    expect((await running).code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
    expect(await swarmErrorOf(pool.run('vecadd', small(), { timeoutMs: 1_000 }))).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true });
    await pool.stop();
  });
});

describe('kernel pool - the inline lane for tiny tasks', () => {
  it('answers a tiny task on its own thread while the only worker is busy, and still queues a large one', async () => {
    const pool = await createKernelPool({ threads: 1, maxQueue: 2, backend: 'webasm', inlineMaxWork: INLINE_MAX_WORK, log: silentLogger() });
    try {
      const blocking = swarmErrorOf(pool.run('matmul', long(), { timeoutMs: 60_000 }));
      await waitFor(() => pool.stats().running > 0, { what: 'kernel running' });
      const inputs = small();
      const tiny = await pool.run('vecadd', inputs, { timeoutMs: 10_000 });
      expect(getSkill('vecadd').verify(inputs, tiny.outputs, seededRandom(1)).ok).toBe(true);
      // Above the lane's bound a task waits for the worker: here behind a kernel of seconds.
      const larger = demoDenseInputs('vecadd', INLINE_MAX_WORK + 1, seededRandom(2));
      expect((await swarmErrorOf(pool.run('vecadd', larger, { timeoutMs: 300 }))).code).toBe(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
      // A task already cancelled is not begun (the pool's check, before the lane is asked).
      expect((await swarmErrorOf(pool.run('vecadd', inputs, { timeoutMs: 1_000, signal: AbortSignal.abort() }))).code).toBe(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
      await pool.stop();
      expect((await blocking).code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
      expect(pool.stats()).toMatchObject({ completed: 1, running: 0, inlineRuns: 1, inlineCompiles: 1 });
    } finally {
      await pool.stop();
    }
  });
});

import { toTensor } from '@swarm/contracts';
import { seededRandom, systemRandom } from '@swarm/determinism';
import { demoDenseInputs, getSkill } from '@swarm/skills';
import { createVerifyPool, INLINE_VERIFY_MAX_VALUES } from './verify-pool';

/** A task of `skill` at `size` with its true result, and the same result with one value 1% off. */
function task(skill: string, size: number) {
  const inputs = demoDenseInputs(skill, size, seededRandom(size));
  const outputs = getSkill(skill).reference(inputs);
  const wrong = outputs.map((t, i) => {
    const data = Float32Array.from(t.data);
    if (i === 0) data[data.length >> 1] *= 1.01;
    return { ...t, data };
  });
  const values = [...inputs, ...outputs].reduce((n, t) => n + t.data.length, 0);
  const wire = (ts: typeof outputs) => ts.map((t) => toTensor(t.name, t.shape, t.data));
  return { inputs, good: wire(outputs), wrong: wire(wrong), values };
}

describe('verify pool', () => {
  const pool = createVerifyPool(1, systemRandom);
  afterAll(() => pool.stop());

  it('checks small results on the event loop and large ones on its threads, with the same verdicts', async () => {
    const small = task('matmul', 16);
    const large = task('matmul', 32);
    expect(small.values).toBeLessThanOrEqual(INLINE_VERIFY_MAX_VALUES);
    expect(large.values).toBeGreaterThan(INLINE_VERIFY_MAX_VALUES);
    const before = pool.counts();
    expect((await pool.verify('matmul', large.inputs, large.good)).ok).toBe(true);
    expect((await pool.verify('matmul', large.inputs, large.wrong)).ok).toBe(false);
    expect(pool.counts()).toEqual({ inline: before.inline, threaded: before.threaded + 2 });
    expect((await pool.verify('matmul', small.inputs, small.good)).ok).toBe(true);
    expect((await pool.verify('matmul', small.inputs, small.wrong)).ok).toBe(false);
    expect(pool.counts()).toEqual({ inline: before.inline + 2, threaded: before.threaded + 2 });
  });

  it('sizes a result by the bytes received, not the shapes an executor claims', async () => {
    const large = task('vecadd', 1024);
    const before = pool.counts();
    // A claimed shape of one value does not bring a large result onto the event loop; the check refuses it.
    const lying = large.good.map((t) => ({ ...t, shape: [1] }));
    expect((await pool.verify('vecadd', large.inputs, lying)).ok).toBe(false);
    expect(pool.counts()).toEqual({ inline: before.inline, threaded: before.threaded + 1 });
  });
});

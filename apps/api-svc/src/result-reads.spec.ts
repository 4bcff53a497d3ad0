import type { SwarmError } from '@swarm/contracts';
import { ErrorCode, SubmitTaskResponse, toTensor } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import { ANSWER_BUDGET_BYTES, createResultReads, RESULT_READ_LIMITS, resultJsonBytes } from './result-reads';

const MIB = 1024 * 1024;
/** What `fn` threw. */
function thrownBy(fn: () => unknown): SwarmError {
  try {
    fn();
  } catch (err) {
    return err as SwarmError;
  }
  throw new Error('it did not throw');
}

/** A held result of `floats` float32 values. */
const resultOf = (floats: number) => SubmitTaskResponse.fromPartial({ taskId: 't', outputs: [toTensor('c', [floats], new Float32Array(floats))] });

describe('result reads - what reading a held result back costs an agent', () => {
  it('estimates an answer as at least its JSON: 25 bytes a float and the status around it', () => {
    const res = resultOf(1000);
    expect(resultJsonBytes(res)).toBeGreaterThanOrEqual(JSON.stringify({ data: Array.from(new Float32Array(1000).fill(-1.2345678e-38)) }).length);
    expect(resultJsonBytes(resultOf(1 << 20))).toBeGreaterThan(25 * MIB);
  });

  it('lets an agent read a result now and then, and refuses a large one read again at once, until its rate allows', () => {
    const watch = manualClock();
    const reads = createResultReads(watch);
    const large = resultOf(2 * 1024 * 1024); // ~50 MiB as JSON
    reads.take('a', large).release();
    const err = thrownBy(() => reads.take('a', large));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_RATE_LIMITED, retryable: true, message: expect.stringContaining('reads its results back too often') });
    // 64 MiB burst less ~50 MiB: the next ~50 MiB take ~4.5 s of the 8 MiB/s.
    expect(err.retryAfterMs).toBeGreaterThan(4_000);
    // Another agent reads its own meanwhile; small results are never held back in practice.
    reads.take('b', large).release();
    for (let i = 0; i < 100; i++) reads.take('a', resultOf(16)).release();
    // Once the rate has refilled what the answer costs (and the small reads' few KiB), it goes through.
    watch.advance((err.retryAfterMs ?? 0) + 100);
    expect(() => reads.take('a', large).release()).not.toThrow();
    expect(RESULT_READ_LIMITS).toEqual({ ratePerSecond: 8 * MIB, burst: 64 * MIB });
  });

  it('bounds the answer bytes held unsent: a quarter of the budget per agent, until each answer closes', () => {
    const watch = manualClock();
    const budget = 8 * MIB;
    const reads = createResultReads(watch, budget, { ratePerSecond: 1024 * MIB, burst: 1024 * MIB });
    const answer = resultOf(20 * 1024); // ~0.5 MiB
    const held = Array.from({ length: 3 }, () => reads.take('slow', answer));
    // An agent whose clients never read: its unsent answers reach its share (2 MiB), then OVERLOADED.
    const past = Array.from({ length: 8 }, () => {
      try {
        return reads.take('slow', answer);
      } catch (err) {
        return err as Error;
      }
    });
    const refused = past.filter((r) => r instanceof Error);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, message: expect.stringContaining('of result answers in flight') });
    // Others still read; once the held answers close, the agent reads again.
    expect(() => reads.take('other', answer).release()).not.toThrow();
    for (const h of [...held, ...past]) if (!(h instanceof Error)) h.release();
    expect(() => reads.take('slow', answer).release()).not.toThrow();
    // An answer larger than the share is charged the share: it is served when nothing else is held.
    expect(() => reads.take('slow', resultOf(1024 * 1024)).release()).not.toThrow();
    expect(ANSWER_BUDGET_BYTES).toBe(128 * MIB);
  });
});

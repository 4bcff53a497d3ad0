import { SubmitTaskResponse, toTensor } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import { swarmErrorThrownBy } from '@swarm/testing';
import { createResultReads } from './result-reads';

/** A result of `floats` float32 values. */
const resultOf = (floats: number) => SubmitTaskResponse.fromPartial({ taskId: 't', outputs: [toTensor('c', [floats], new Float32Array(floats))] });

describe('result reads - the wait a refused re-read is told (helper-176)', () => {
  it('asks a burst-sized re-read to wait exactly what the bucket lacks (8 s less the 347 ms refilled), not a millisecond more', () => {
    const clock = manualClock();
    const reads = createResultReads(clock);
    const large = resultOf(3 * 1024 * 1024); // ~75 MiB as JSON: charged one burst, 64 MiB
    reads.charge('a', 't1', large, 'json'); // first delivery: the full bucket is emptied
    clock.advance(347); // 347 ms at 8 MiB/s refilled
    const err = swarmErrorThrownBy(() => reads.charge('a', 't1', large, 'json'));
    // (64 MiB - 0.347 s * 8 MiB/s) / (8 MiB/s) = 7.653 s exactly: @swarm/rate-limit's refill,
    // (dt * rate) / 1000, with a wait of (deficit * 1000) / rate rounded up to 7654.
    expect(err.retryAfterMs).toBe(7_653);
  });
});

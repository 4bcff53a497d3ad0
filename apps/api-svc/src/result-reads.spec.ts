import { MCP_MAX_RESULT_VALUES } from '@swarm/client';
import { ErrorCode, SubmitTaskResponse, toTensor } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import { swarmErrorThrownBy } from '@swarm/testing';
import { createResultReads, RESULT_READ_LIMITS, resultAnswerBytes } from './result-reads';

const MIB = 1024 * 1024;

/** A result of `floats` float32 values. */
const resultOf = (floats: number) => SubmitTaskResponse.fromPartial({ taskId: 't', outputs: [toTensor('c', [floats], new Float32Array(floats))] });

describe('result reads - what handing a result to an agent costs it', () => {
  it('sizes an answer as at least its JSON (25 bytes a float), its bytes as base64, and an MCP call as its base64 and three JSON builds', () => {
    const res = resultOf(1000);
    expect(resultAnswerBytes(res, 'json')).toBeGreaterThanOrEqual(JSON.stringify({ data: Array.from(new Float32Array(1000).fill(-1.2345678e-38)) }).length);
    expect(resultAnswerBytes(res, 'bytes')).toBeGreaterThanOrEqual(Buffer.alloc(4000).toString('base64').length);
    expect(resultAnswerBytes(res, 'bytes')).toBeLessThan(resultAnswerBytes(res, 'json') / 4);
    expect(resultAnswerBytes(res, 'mcp')).toBe(resultAnswerBytes(res, 'bytes') + 3 * resultAnswerBytes(res, 'json'));
    // Beyond MCP_MAX_RESULT_VALUES an MCP answer carries the shapes only: its base64 and little more.
    const large = resultOf(MCP_MAX_RESULT_VALUES + 1);
    const shapesOnlyAnswers = 4 * 1024; // three JSON builds of the fields around the shapes, at most
    expect(resultAnswerBytes(large, 'mcp')).toBeLessThan(resultAnswerBytes(large, 'bytes') + shapesOnlyAnswers);
  });

  it("never refuses a result's first delivery, and refuses a later one past the agent's rate until it has refilled", () => {
    const clock = manualClock();
    const reads = createResultReads(clock);
    const large = resultOf(2 * 1024 * 1024); // ~50 MiB as JSON
    // Four large results, each delivered once, back to back: all answered (the bucket goes into debt).
    for (const task of ['t1', 't2', 't3', 't4']) expect(() => reads.charge('a', task, large, 'json')).not.toThrow();
    // The first one again: refused, with the wait until the bucket holds its cost.
    const err = swarmErrorThrownBy(() => reads.charge('a', 't1', large, 'json'));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_RATE_LIMITED, retryable: true, message: expect.stringContaining('results handed back too often') });
    // The debt is at most a burst: (64 + 50) MiB at 8 MiB/s, about 14 s.
    expect(err.retryAfterMs).toBeGreaterThan(13_000);
    expect(err.retryAfterMs).toBeLessThan(15_000);
    // Another agent is not held back, nor a first delivery of this one's.
    expect(() => reads.charge('b', 't1', large, 'json')).not.toThrow();
    expect(() => reads.charge('a', 't5', large, 'json')).not.toThrow();
    clock.advance(30_000);
    expect(() => reads.charge('a', 't1', large, 'json')).not.toThrow();
    expect(RESULT_READ_LIMITS).toEqual({ ratePerSecond: 8 * MIB, burst: 64 * MIB });
  });

  it('lets small results be read back often, and charges a result larger than a burst one burst', () => {
    const clock = manualClock();
    const reads = createResultReads(clock);
    reads.charge('a', 'small', resultOf(16), 'json');
    for (let i = 0; i < 1000; i++) reads.charge('a', 'small', resultOf(16), 'json');
    const huge = resultOf(8 * 1024 * 1024); // ~200 MiB as JSON: charged 64 MiB
    reads.charge('a', 'huge', huge, 'json');
    clock.advance(16_000);
    expect(() => reads.charge('a', 'huge', huge, 'json')).not.toThrow();
  });
});

import { ErrorCode, SwarmError } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { swarmErrorThrownBy } from '@swarm/testing';
import { createAdmission, INITIAL_TASK_MS_ESTIMATE, MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS, submitBytes } from './admission';

describe('pipeline - admission', () => {
  it('admits up to the task limit, then refuses with OVERLOADED, retryable, with a retry-after hint', () => {
    const a = createAdmission({ maxInFlight: 2, maxInFlightBytes: 1_000 }, seededRandom(1));
    const t1 = a.admit(10);
    a.admit(10);
    const err = swarmErrorThrownBy(() => a.admit(10));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, message: expect.stringMatching(/2 tasks in flight \(limit 2\)/) });
    expect(err.retryAfterMs).toBeGreaterThanOrEqual(INITIAL_TASK_MS_ESTIMATE);
    expect(err.retryAfterMs).toBeLessThan(2 * INITIAL_TASK_MS_ESTIMATE);
    t1.release(50);
    expect(() => a.admit(10)).not.toThrow();
    expect(a.stats()).toEqual({ inFlight: 2, inFlightBytes: 20, admitted: 3, refused: 1 });
  });

  it('refuses a request whose bytes would pass the byte limit, while a smaller one still fits', () => {
    const a = createAdmission({ maxInFlight: 10, maxInFlightBytes: 1_000 }, seededRandom(1));
    a.admit(600);
    expect(swarmErrorThrownBy(() => a.admit(500))).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, message: expect.stringMatching(/request bytes/) });
    expect(() => a.admit(400)).not.toThrow();
    expect(a.stats().inFlightBytes).toBe(1_000);
  });

  it('releases a ticket once, however often it is released', () => {
    const a = createAdmission({ maxInFlight: 1, maxInFlightBytes: 100 }, seededRandom(1));
    const t = a.admit(100);
    t.release(1);
    t.release(1);
    expect(a.stats()).toMatchObject({ inFlight: 0, inFlightBytes: 0 });
    a.admit(100);
    expect(() => a.admit(1)).toThrow(SwarmError);
  });

  it('bases the hint on how long tasks take, spread over one to two task times, within bounds', () => {
    const a = createAdmission({ maxInFlight: 1, maxInFlightBytes: 100 }, seededRandom(3));
    for (let i = 0; i < 200; i++) a.admit(1).release(2_000);
    const hints = Array.from({ length: 50 }, () => a.retryAfterMs());
    expect(Math.min(...hints)).toBeGreaterThanOrEqual(1_990);
    expect(Math.max(...hints)).toBeLessThan(4_000);
    expect(new Set(hints).size).toBeGreaterThan(10);
    for (let i = 0; i < 200; i++) a.admit(1).release(1);
    expect(a.retryAfterMs()).toBe(MIN_RETRY_AFTER_MS);
    for (let i = 0; i < 200; i++) a.admit(1).release(10 * MAX_RETRY_AFTER_MS);
    expect(a.retryAfterMs()).toBe(MAX_RETRY_AFTER_MS);
  });

  it('counts a submit by its tensor bytes and strings', () => {
    const data = new Uint8Array(4_000);
    const bytes = submitBytes({
      skill: 'matmul',
      inputs: [
        { name: 'a', shape: [20, 50], data },
        { name: 'b', shape: [50, 20], data },
      ],
    });
    expect(bytes).toBeGreaterThanOrEqual(8_000);
    expect(bytes).toBeLessThan(8_100);
  });
});

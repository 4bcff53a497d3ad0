import { ErrorCode } from '@swarm/contracts';
import { deadlineSignal } from './deadline-signal';

describe('deadlineSignal - time limit and caller abort', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('aborts at the time limit and says so', () => {
    const d = deadlineSignal({ timeoutMs: 100 });
    jest.advanceTimersByTime(99);
    expect(d.signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(d.signal.aborted).toBe(true);
    expect(d.timedOut()).toBe(true);
  });

  it("follows the caller's signal, already aborted or later", () => {
    const caller = new AbortController();
    const d = deadlineSignal({ timeoutMs: 1_000, signal: caller.signal });
    caller.abort('gone');
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBe('gone');
    expect(d.timedOut()).toBe(false);
    expect(deadlineSignal({ timeoutMs: 1_000, signal: caller.signal }).signal.aborted).toBe(true);
  });

  it('clear() stops the timer and detaches from the caller', () => {
    const caller = new AbortController();
    const d = deadlineSignal({ timeoutMs: 100, signal: caller.signal });
    d.clear();
    jest.advanceTimersByTime(1_000);
    caller.abort();
    expect(d.signal.aborted).toBe(false);
  });

  it('refuses a non-positive limit with INVALID_ARGUMENT', () => {
    expect(() => deadlineSignal({ timeoutMs: 0 })).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }));
    expect(() => deadlineSignal({ timeoutMs: NaN })).toThrow(/timeoutMs must be positive/);
  });
});

/**
 * Two kinds of time, never mixed:
 * - WallClock: epoch ms, the same in every process and on the wire (deadlines, escrow expiries,
 *   ledger timestamps). It can jump when the system clock is set.
 * - Stopwatch: monotonic ms from an arbitrary zero, for durations in this process only (timings,
 *   ages of cache entries and records, token-bucket refills). It never jumps, and its readings mean
 *   nothing to another process.
 * Both have the same shape, so one manual or virtual clock can stand in for either in tests.
 */
export interface WallClock {
  /** ms since the Unix epoch. */
  now(): number;
}

export interface Stopwatch {
  /** Monotonic ms; only differences between two readings mean anything. */
  now(): number;
}

export const systemClock: WallClock = Object.freeze({ now: () => Date.now() });
/** Sub-millisecond, zero at this process's start; does not follow changes of the wall clock. */
export const systemStopwatch: Stopwatch = Object.freeze({ now: () => performance.now() });

/** A clock that moves only when told: a WallClock or a Stopwatch in tests. */
export interface ManualClock extends WallClock, Stopwatch {
  advance(ms: number): void;
  set(ms: number): void;
}

export function manualClock(startMs = 0): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

/** Time and chance as values, so pure logic runs the same in services, tests and the simulator. */
export type Clock = { now(): number }; // ms since epoch
export type Random = () => number; // uniform in [0, 1)

/** Wall-clock epoch ms: comparable across processes (deadlines, expiries). */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
/**
 * Monotonic ms with sub-millisecond precision, for measuring durations only: it does not follow
 * wall-clock changes and its zero is this process's start.
 */
export const monotonicClock: Clock = Object.freeze({ now: () => performance.now() });
export const systemRandom: Random = Math.random;

export interface ManualClock extends Clock {
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

/** mulberry32: tiny, fast, good enough for tests and simulation (not for keys). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Time and chance as values, so pure logic runs the same in services, tests and the simulator.
 *
 * Time has two meanings, with a type each (see time.ts):
 * - `WallClock` (`systemClock`): epoch ms, comparable across processes: deadlines, expiries.
 * - `Stopwatch` (`systemStopwatch`): monotonic ms for durations inside one process: timings, ages,
 *   refill rates. A wall clock that is set back must not stall a rate limiter or keep a record.
 * Waiting is a third value, the `Scheduler` (`systemScheduler`): sleeps, timers and deadline
 * signals. A `Time` holds all three: `systemTime` in services, `virtualTime()` in tests and the
 * simulator (one virtual timeline that moves only when advanced, firing timers as it passes them).
 * Chance is a `Random` (`systemRandom`, a CSPRNG; `seededRandom` for tests and simulation).
 */
export { systemClock, systemStopwatch, manualClock } from './time';
export type { WallClock, Stopwatch, ManualClock } from './time';
export { createSystemScheduler, systemScheduler, systemTime, MAX_TIMER_MS } from './scheduler';
export type { Scheduler, CancelTimer, Time } from './scheduler';
export { virtualTime, MAX_TIMERS_PER_ADVANCE } from './virtual-time';
export type { VirtualTime } from './virtual-time';
export { systemRandom, cryptoRandom, randomUuid, seededRandom } from './random';
export type { Random, RandomValuesSource } from './random';

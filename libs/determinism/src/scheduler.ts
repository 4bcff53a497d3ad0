/**
 * Timers as a value, so whatever waits or paces itself (the escrow sweeper, task deadlines, settle
 * retries) can run on real time in a service and on virtual time in tests and the simulator.
 */
import type { Stopwatch, WallClock } from './time';
import { systemClock, systemStopwatch } from './time';

/** Cancels a timer; nothing happens if it has fired or was cancelled already. */
export type CancelTimer = () => void;

export interface Scheduler {
  /** Resolves after `ms`; early (never rejecting) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` once, `ms` from now. */
  setTimer(ms: number, fn: () => void): CancelTimer;
  /**
   * Aborts when the wall clock reaches `atMs` (epoch ms), with the reason AbortSignal.timeout
   * gives: a DOMException named "TimeoutError".
   */
  deadlineSignal(atMs: number): AbortSignal;
}

/** The longest delay a Node or browser timer keeps; a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay both schedulers accept alike: negative means now; NaN or beyond MAX_TIMER_MS is a bug. */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms) || ms > MAX_TIMER_MS) throw new RangeError(`a timer delay must be a number of ms up to ${MAX_TIMER_MS}, got ${ms}`);
  return Math.max(0, ms);
}

export function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/** `sleep` on top of a `setTimer`: the timer is dropped as soon as the signal aborts. */
export function sleepWith(setTimer: Scheduler['setTimer']): Scheduler['sleep'] {
  return (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return resolve();
      let cancel: CancelTimer = () => undefined;
      const done = () => {
        cancel();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      try {
        cancel = setTimer(ms, done);
      } catch (err) {
        reject(err);
        return;
      }
      signal?.addEventListener('abort', done, { once: true });
    });
}

/**
 * Real timers. `setTimer`'s timer does not keep the process alive (it paces background work, and
 * the bus connection is what keeps a service running); a `sleep` does, since someone awaits it.
 */
export function createSystemScheduler(clock: WallClock = systemClock): Scheduler {
  return Object.freeze({
    sleep: sleepWith((ms, fn) => {
      const timer = setTimeout(fn, timerDelay(ms));
      return () => clearTimeout(timer);
    }),
    setTimer(ms: number, fn: () => void): CancelTimer {
      const timer = setTimeout(fn, timerDelay(ms));
      timer.unref();
      return () => clearTimeout(timer);
    },
    // AbortSignal.timeout's timer holds neither the process nor the signal (a finished task's
    // signal can be collected before its deadline); it takes whole ms, rounded up so it never
    // aborts before `atMs`.
    deadlineSignal: (atMs: number) => AbortSignal.timeout(Math.ceil(timerDelay(atMs - clock.now()))),
  });
}

export const systemScheduler: Scheduler = createSystemScheduler();

/** The three together, as a service takes them: `startX({ ...deps, ...systemTime })`. */
export interface Time {
  readonly clock: WallClock;
  readonly stopwatch: Stopwatch;
  readonly scheduler: Scheduler;
}

export const systemTime: Time = Object.freeze({ clock: systemClock, stopwatch: systemStopwatch, scheduler: systemScheduler });

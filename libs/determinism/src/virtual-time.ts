/**
 * Time that moves only when told, with timers that fire as it passes: tests and the simulator run
 * sweepers, deadlines and retries through hours of virtual time without waiting.
 */
import type { CancelTimer, Scheduler, Time } from './scheduler';
import { sleepWith, timeoutReason, timerDelay } from './scheduler';
import type { Stopwatch, WallClock } from './time';

export interface VirtualTime extends Time {
  /** `startMs` plus the virtual time elapsed. */
  readonly clock: WallClock;
  /** The virtual time elapsed, from 0. */
  readonly stopwatch: Stopwatch;
  /**
   * Moves time `ms` forward, firing each timer that falls due in order of due time (ties: in the
   * order they were set) with both clocks reading its due time. Between timers it lets pending
   * promise callbacks run (one macrotask turn), so a timer that an awaited callback sets fires in
   * the same call if it is due; it does not wait for real I/O.
   */
  advance(ms: number): Promise<void>;
  /** Timers set and neither fired nor cancelled yet. */
  pending(): number;
}

/** Timers one advance() may fire: more means one keeps setting itself at delay 0. */
export const MAX_TIMERS_PER_ADVANCE = 100_000;

interface Timer {
  readonly dueMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** One macrotask turn: every microtask queued so far (and those they queue) runs first. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `maxTimersPerAdvance` (MAX_TIMERS_PER_ADVANCE): more timers than this due in one advance() is an error. */
export function virtualTime(startMs = 0, maxTimersPerAdvance = MAX_TIMERS_PER_ADVANCE): VirtualTime {
  let elapsed = 0;
  let seq = 0;
  let advancing = false;
  const timers = new Set<Timer>();
  const clock: WallClock = { now: () => startMs + elapsed };
  const stopwatch: Stopwatch = { now: () => elapsed };

  function setTimer(ms: number, fn: () => void): CancelTimer {
    const timer: Timer = { dueMs: elapsed + timerDelay(ms), seq: seq++, fn };
    timers.add(timer);
    return () => void timers.delete(timer);
  }

  function nextDue(untilMs: number): Timer | undefined {
    let next: Timer | undefined;
    for (const t of timers) {
      if (t.dueMs <= untilMs && (!next || t.dueMs < next.dueMs || (t.dueMs === next.dueMs && t.seq < next.seq))) next = t;
    }
    return next;
  }

  const scheduler: Scheduler = {
    sleep: sleepWith(setTimer),
    setTimer,
    deadlineSignal(atMs) {
      const controller = new AbortController();
      setTimer(atMs - clock.now(), () => controller.abort(timeoutReason()));
      return controller.signal;
    },
  };

  return {
    clock,
    stopwatch,
    scheduler,
    async advance(ms) {
      if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`advance takes a finite number of ms >= 0, got ${ms}`);
      if (advancing) throw new Error('virtual time is already advancing: await the running advance() first');
      advancing = true;
      try {
        const untilMs = elapsed + ms;
        await settle();
        for (let fired = 0; ; fired++) {
          const timer = nextDue(untilMs);
          if (!timer) break;
          if (fired === maxTimersPerAdvance) throw new Error(`more than ${maxTimersPerAdvance} timers fell due in one advance: does one keep setting itself at delay 0?`);
          timers.delete(timer);
          elapsed = timer.dueMs;
          timer.fn();
          await settle();
        }
        elapsed = untilMs;
        await settle();
      } finally {
        advancing = false;
      }
    },
    pending: () => timers.size,
  };
}

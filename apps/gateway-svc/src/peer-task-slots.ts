/**
 * Room for peers' tasks on this node, handed out by contribution standing when it is full
 * (docs/priority.md). Up to `slots` tasks run at once; beyond that a task waits in a bounded queue,
 * best standing first (ties: first come, first served), for at most `maxWaitMs`. A freed slot goes
 * straight to the best waiter. When the queue is full, a newcomer with a better standing than the
 * worst waiter takes that waiter's place (the waiter hears OVERLOADED); any other newcomer hears
 * OVERLOADED at once. A free rider (standing 0) so never displaces anyone and is served last.
 * OVERLOADED is retryable with a retry hint: the submitter tries another provider or comes back.
 *
 * No I/O: the scheduler paces the waits, so tests run it on virtual time.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { CancelTimer, Scheduler } from '@swarm/determinism';

/** Gives the slot back (to the best waiter, if any). Calling it again does nothing. */
export type ReleaseSlot = () => void;

export interface PeerTaskSlotsInit {
  /** Tasks run at once. */
  readonly slots: number;
  /** Tasks waiting at most; 0: none wait, a full node refuses at once. */
  readonly maxWaiting: number;
  /** Longest wait for a slot before OVERLOADED. */
  readonly maxWaitMs: number;
  /** The retry hint of an OVERLOADED answer. */
  readonly retryAfterMs: number;
  readonly scheduler: Scheduler;
}

export interface PeerTaskSlots {
  /** A slot now, if one is free and nobody waits for it (no standing needed then). */
  tryAcquire(): ReleaseSlot | undefined;
  /**
   * A slot as soon as one is this task's by `standing`. Rejects OVERLOADED when the queue has no
   * room for it, when a better newcomer displaces it, or after `maxWaitMs`; with the abort reason
   * (DEADLINE_EXCEEDED unless it is a SwarmError) when `signal` aborts first.
   */
  acquire(standing: bigint, signal: AbortSignal): Promise<ReleaseSlot>;
  running(): number;
  waiting(): number;
}

interface Waiter {
  readonly standing: bigint;
  readonly seq: number;
  readonly grant: (release: ReleaseSlot) => void;
  readonly refuse: (err: Error) => void;
}

export function createPeerTaskSlots(init: PeerTaskSlotsInit): PeerTaskSlots {
  const { slots, maxWaiting, maxWaitMs, retryAfterMs, scheduler } = init;
  for (const [name, value, min] of [
    ['slots', slots, 1],
    ['maxWaiting', maxWaiting, 0],
    ['maxWaitMs', maxWaitMs, 1],
    ['retryAfterMs', retryAfterMs, 0],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number >= ${min}, got ${value}`);
  }
  let running = 0;
  let arrivals = 0;
  const queue: Waiter[] = [];

  const overloaded = (why: string) => new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, `this node runs ${running} tasks for peers (limit ${slots}); ${why}`, true, { retryAfterMs });
  /** Higher standing first, then earlier arrival. */
  const before = (a: Waiter, b: Waiter) => a.standing > b.standing || (a.standing === b.standing && a.seq < b.seq);

  function slot(): ReleaseSlot {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = queue.reduce<Waiter | undefined>((best, w) => (best && before(best, w) ? best : w), undefined);
      if (next) {
        queue.splice(queue.indexOf(next), 1);
        next.grant(slot());
      } else running -= 1;
    };
  }

  return {
    tryAcquire() {
      if (running >= slots || queue.length > 0) return undefined;
      running += 1;
      return slot();
    },
    acquire(standing, signal) {
      if (running < slots && queue.length === 0) {
        running += 1;
        return Promise.resolve(slot());
      }
      return new Promise<ReleaseSlot>((resolve, reject) => {
        if (signal.aborted) return reject(abortError(signal));
        let cancelTimer: CancelTimer = () => undefined;
        const done = () => {
          cancelTimer();
          signal.removeEventListener('abort', onAbort);
          const at = queue.indexOf(waiter);
          if (at >= 0) queue.splice(at, 1);
        };
        const waiter: Waiter = {
          standing,
          seq: arrivals++,
          grant: (release) => {
            done();
            resolve(release);
          },
          refuse: (err) => {
            done();
            reject(err);
          },
        };
        const onAbort = () => waiter.refuse(abortError(signal));
        if (queue.length >= maxWaiting) {
          const worst = queue.reduce<Waiter | undefined>((w, x) => (w && before(x, w) ? w : x), undefined);
          if (!worst || !before(waiter, worst)) {
            return reject(overloaded(maxWaiting === 0 ? 'no task waits here' : `${queue.length} tasks wait, none with a lower standing`));
          }
          worst.refuse(overloaded('a task of a peer with a better standing took this one’s place in the queue'));
        }
        queue.push(waiter);
        signal.addEventListener('abort', onAbort, { once: true });
        cancelTimer = scheduler.setTimer(maxWaitMs, () => waiter.refuse(overloaded(`no slot came free within ${maxWaitMs} ms`)));
      });
    },
    running: () => running,
    waiting: () => queue.length,
  };
}

function abortError(signal: AbortSignal): SwarmError {
  const reason: unknown = signal.reason;
  return reason instanceof SwarmError
    ? reason
    : new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'the task was cancelled while it waited for a slot', true, { cause: reason });
}

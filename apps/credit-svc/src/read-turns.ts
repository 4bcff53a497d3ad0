/**
 * Turns for reading payers' chains (payer-views.ts): one budget of audit time for all payers, and a
 * queue served in order. A read starts at once when nothing waits and there is room and budget; a
 * short one (a chain read to its head before, read on by a page or two, each page given at most
 * FAIR_WALL_MS) also starts ahead of those waiting, on one of SHORT_READS_AT_ONCE slots of its own
 * (never one the queue waits for), while the budget is overdrawn by less than its burst; any other waits
 * its turn and runs in the background as the budget refills. A turn ends when the budget is spent,
 * or when others wait and it has had FAIR_SLICE_MS of audit or FAIR_WALL_MS of time (a payer
 * answering its pages slowly holds a slot no longer); a read that goes on joins the queue's end. So
 * N payers with long chains leave each one a 1/(N+1) share, however often their receipts come.
 */
import type { CancelTimer, Scheduler, Stopwatch } from '@swarm/determinism';
import { createRateLimiter } from '@swarm/rate-limit';

/**
 * Reads going on at once (most of a read's time is waiting on the payer's pages; the budget bounds
 * the audit), and two more for short reads. Reads started together may overdraw the budget by a
 * page each (about 13 ms), far inside its burst.
 */
export const READS_AT_ONCE = 4;
export const SHORT_READS_AT_ONCE = 2;
/** Audit time one turn takes at most while others wait. */
export const FAIR_SLICE_MS = 200;
/** Wall time one turn takes at most while others wait (checked between pages). */
export const FAIR_WALL_MS = 1_000;

export interface ReadTurnsOptions {
  readonly stopwatch: Stopwatch;
  /** Resumes the queue as the budget refills. */
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  /** The budget: audit ms per second, and at most this many ms at once. */
  readonly msPerSecond: number;
  readonly burstMs: number;
  /** One turn of reading the payer's chain on (`short`: a page or two); true when it should go on at a later turn. Never rejects. */
  readonly run: (payer: string, short: boolean) => Promise<boolean>;
}

export interface ReadTurns {
  /** A read of `payer`'s chain: the one going on, one started now, or none (queued, or stopped). */
  request(payer: string, short: boolean): Promise<void> | undefined;
  /** Whether `payer` is being read or waits its turn. */
  isWaiting(payer: string): boolean;
  /** Payers waiting their turn. */
  waiting(): number;
  /** Charges a page's audit time to the budget. */
  charge(ms: number): void;
  /** 0 while the budget has audit time left; else how long until it has (a payer's offer waits that long). */
  budgetWaitMs(): number;
  /** Whether a turn that took `spentMs` of audit in `wallMs` should end here (and go on later). Also true once stopped. */
  turnOver(spentMs: number, wallMs: number): boolean;
  /** Resolves once no read is going on. */
  idle(): Promise<void>;
  /** No more turns: the queue is dropped and its timer cancelled; reads going on end at their next page. */
  stop(): void;
}

export function createReadTurns(options: ReadTurnsOptions): ReadTurns {
  const { stopwatch, scheduler, msPerSecond, burstMs, run } = options;
  const going = new Map<string, Promise<void>>();
  // Slots taken: a short read takes one of its own, never one the queue waits for.
  let normalGoing = 0;
  let shortGoing = 0;
  /** In order; an id no longer in `queued` is passed over. */
  const queue: string[] = [];
  const queued = new Set<string>();
  let stopped = false;
  let timer: CancelTimer | undefined;
  // Audit ms that may still be spent: refills with time, charged after each page (so it can owe).
  const budget = createRateLimiter({ perSecond: msPerSecond, burst: burstMs }, stopwatch);

  /** `onShortSlot`: a short read on a slot of its own (else it takes one of the READS_AT_ONCE). */
  const start = (payer: string, short: boolean, onShortSlot = false): Promise<void> => {
    if (onShortSlot) shortGoing += 1;
    else normalGoing += 1;
    const read = run(payer, short).then((goesOn) => {
      going.delete(payer);
      if (onShortSlot) shortGoing -= 1;
      else normalGoing -= 1;
      // Back in the queue once this turn has ended, so the queue never holds a payer being read.
      if (goesOn) enqueue(payer);
      pump();
    });
    going.set(payer, read);
    return read;
  };

  const enqueue = (payer: string) => {
    if (stopped || queued.has(payer)) return;
    queued.add(payer);
    queue.push(payer);
    pump();
  };

  /** Takes `payer` out of the queue (its place too: queued again, it goes to the end). */
  const unqueue = (payer: string) => {
    if (!queued.delete(payer)) return;
    const at = queue.indexOf(payer);
    if (at >= 0) queue.splice(at, 1);
  };

  /** Starts the turns waiting, in order, while there is room and budget; else looks again once the budget has refilled. */
  const pump = () => {
    while (!stopped && queue.length > 0 && normalGoing < READS_AT_ONCE && budget.left() > 0) {
      const payer = queue.shift() as string;
      if (!queued.delete(payer) || going.has(payer)) continue;
      void start(payer, false);
    }
    if (!stopped && queued.size > 0 && normalGoing < READS_AT_ONCE && timer === undefined) {
      timer = scheduler.setTimer(Math.max(1, budget.waitMs()), () => {
        timer = undefined;
        pump();
      });
    }
  };

  return {
    request(payer, short) {
      if (stopped) return undefined;
      const read = going.get(payer);
      if (read) return read;
      const left = budget.left();
      if (!queued.has(payer) && normalGoing < READS_AT_ONCE && queued.size === 0 && left > 0) return start(payer, short);
      if (short && shortGoing < SHORT_READS_AT_ONCE && left > -burstMs) {
        unqueue(payer);
        return start(payer, true, true);
      }
      enqueue(payer);
      return undefined;
    },
    isWaiting: (payer) => going.has(payer) || queued.has(payer),
    waiting: () => queued.size,
    charge: (ms) => budget.charge(ms),
    budgetWaitMs: () => (budget.left() > 0 ? 0 : Math.max(1, budget.waitMs())),
    turnOver: (spentMs, wallMs) => stopped || budget.left() <= 0 || (queued.size > 0 && (spentMs >= FAIR_SLICE_MS || wallMs >= FAIR_WALL_MS)),
    async idle() {
      while (going.size > 0) await Promise.all([...going.values()]);
    },
    stop() {
      stopped = true;
      queue.length = 0;
      queued.clear();
      timer?.();
      timer = undefined;
    },
  };
}

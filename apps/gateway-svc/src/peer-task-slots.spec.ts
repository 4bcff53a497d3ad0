import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { virtualTime } from '@swarm/determinism';
import type { PeerTaskSlotsInit, ReleaseSlot } from './peer-task-slots';
import { createPeerTaskSlots } from './peer-task-slots';

const RETRY_AFTER_MS = 500;

function setup(init: Partial<PeerTaskSlotsInit> = {}) {
  const time: VirtualTime = virtualTime(0);
  const slots = createPeerTaskSlots({ slots: 1, maxWaiting: 3, maxWaitMs: 2_000, retryAfterMs: RETRY_AFTER_MS, scheduler: time.scheduler, ...init });
  const order: string[] = [];
  /** A waiter named `name`; records when it gets a slot or is refused (with its code). */
  const wait = (name: string, standing: bigint, signal = new AbortController().signal) =>
    slots.acquire(standing, signal).then(
      (release) => {
        order.push(name);
        return release;
      },
      (err: SwarmError) => {
        order.push(`${name}:${ErrorCode[err.code]}`);
        return undefined;
      },
    );
  /** Lets granted and refused waiters record themselves. */
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return { time, slots, order, wait, flush };
}

describe('peer task slots - running', () => {
  it('hands out free slots at once, with no standing asked, and none beyond the limit', () => {
    const { slots } = setup({ slots: 2 });
    const a = slots.tryAcquire();
    const b = slots.tryAcquire();
    expect([a, b].every((r) => typeof r === 'function')).toBe(true);
    expect(slots.tryAcquire()).toBeUndefined();
    a?.();
    a?.();
    expect(slots.running()).toBe(1);
    expect(typeof slots.tryAcquire()).toBe('function');
  });
});

describe('peer task slots - waiting by standing', () => {
  it('gives a freed slot to the best standing, ties first come first served, free riders last', async () => {
    const { slots, order, wait, flush } = setup({ maxWaiting: 4 });
    const first = slots.tryAcquire() as ReleaseSlot;
    const names = ['free-rider', 'low-1', 'high', 'low-2'];
    const waiting = [wait('free-rider', 0n), wait('low-1', 5n), wait('high', 50n), wait('low-2', 5n)];
    await flush();
    expect(order).toEqual([]);
    expect(slots.waiting()).toBe(4);
    first();
    // Each granted task finishes in turn, freeing its slot for the next best.
    for (let i = 0; i < names.length; i += 1) {
      await flush();
      const granted = order.at(-1) ?? '';
      (await waiting[names.indexOf(granted)])?.();
    }
    expect(order).toEqual(['high', 'low-1', 'low-2', 'free-rider']);
    expect([slots.running(), slots.waiting()]).toEqual([0, 0]);
  });

  it('when the queue is full, a better newcomer displaces the worst waiter, which hears OVERLOADED with a retry hint', async () => {
    const { slots, order, wait, flush } = setup({ maxWaiting: 2 });
    const release = slots.tryAcquire() as ReleaseSlot;
    void wait('mid', 10n);
    const rider = slots.acquire(0n, new AbortController().signal);
    const better = wait('better', 20n);
    const refused = await rider.catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: ErrorCode.ERROR_CODE_OVERLOADED,
      retryable: true,
      retryAfterMs: RETRY_AFTER_MS,
      message: expect.stringMatching(/better standing took this one/),
    });
    // Not better than the worst waiter (a tie is not better): refused at once, nobody displaced.
    void wait('tie', 10n);
    await flush();
    expect(order).toEqual(['tie:ERROR_CODE_OVERLOADED']);
    release();
    (await better)?.();
    await flush();
    expect(order).toEqual(['tie:ERROR_CODE_OVERLOADED', 'better', 'mid']);
  });

  it('refuses a waiter with OVERLOADED after maxWaitMs, and a full node at once when none may wait', async () => {
    const { time, slots, order, wait, flush } = setup({ maxWaitMs: 2_000 });
    slots.tryAcquire();
    void wait('patient', 9n);
    await time.advance(1_999);
    await flush();
    expect(order).toEqual([]);
    await time.advance(1);
    await flush();
    expect(order).toEqual(['patient:ERROR_CODE_OVERLOADED']);
    expect([slots.waiting(), time.pending()]).toEqual([0, 0]);

    const none = setup({ maxWaiting: 0 });
    none.slots.tryAcquire();
    await expect(none.slots.acquire(100n, new AbortController().signal)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, message: /no task waits here/ });
  });

  it('drops a waiter whose call is aborted, with the abort reason, and gives the slot to the next', async () => {
    const { time, slots, order, wait, flush } = setup();
    const release = slots.tryAcquire() as ReleaseSlot;
    const cancel = new AbortController();
    void wait('cancelled', 50n, cancel.signal);
    void wait('next', 1n);
    cancel.abort();
    await flush();
    expect(order).toEqual(['cancelled:ERROR_CODE_DEADLINE_EXCEEDED']);
    const reason = new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'going away', true);
    const gone = new AbortController();
    gone.abort(reason);
    await expect(slots.acquire(5n, gone.signal)).rejects.toBe(reason);
    release();
    await flush();
    expect(order).toEqual(['cancelled:ERROR_CODE_DEADLINE_EXCEEDED', 'next']);
    expect(time.pending()).toBe(0);
  });

  it('grants at once when a slot came free before the task queued (no one waiting)', async () => {
    const { slots } = setup();
    const release = await slots.acquire(0n, new AbortController().signal);
    expect(slots.running()).toBe(1);
    release();
    expect(slots.running()).toBe(0);
  });

  it('refuses settings it cannot honour', () => {
    expect(() => setup({ slots: 0 })).toThrow(/slots must be a whole number >= 1/);
    expect(() => setup({ maxWaiting: -1 })).toThrow(/maxWaiting/);
    expect(() => setup({ maxWaitMs: 0 })).toThrow(/maxWaitMs/);
  });
});

import { manualClock, MAX_TIMER_MS, createSystemScheduler } from './index';

// Real timers, kept to a few ms: these check the wiring to Node's timers, virtual-time.spec the logic.
// Node starts a timer from the event loop's cached time, which can lag performance.now() by the
// current turn's work (over a millisecond on a loaded box): lower bounds allow for that.
const LOOP_TIME_LAG_MS = 5;
describe('systemScheduler', () => {
  it('sleeps at least the time asked, and ends a sleep early when its signal aborts', async () => {
    const scheduler = createSystemScheduler();
    const started = performance.now();
    await scheduler.sleep(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(20 - LOOP_TIME_LAG_MS);
    const stop = new AbortController();
    const sleeping = scheduler.sleep(60_000, stop.signal);
    stop.abort();
    await sleeping;
  });

  it('fires a timer once unless cancelled first', async () => {
    const scheduler = createSystemScheduler();
    const fired: string[] = [];
    scheduler.setTimer(1, () => fired.push('kept'));
    scheduler.setTimer(1, () => fired.push('cancelled'))();
    await scheduler.sleep(20);
    expect(fired).toEqual(['kept']);
  });

  it('aborts a deadline signal with a TimeoutError at the wall-clock time given, not before', async () => {
    const clock = manualClock(1_000_000);
    const scheduler = createSystemScheduler(clock);
    const signal = scheduler.deadlineSignal(1_000_015);
    const started = performance.now();
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(15 - LOOP_TIME_LAG_MS);
    expect(signal.reason).toMatchObject({ name: 'TimeoutError' });
    expect(scheduler.deadlineSignal(0).aborted).toBe(false); // passed already: aborts on the next timer turn
  });

  it('refuses a delay no timer keeps instead of firing it at once', async () => {
    const scheduler = createSystemScheduler();
    expect(() => scheduler.setTimer(MAX_TIMER_MS + 1, () => undefined)).toThrow(RangeError);
    await expect(scheduler.sleep(Number.NaN)).rejects.toThrow(RangeError);
  });
});

import { MAX_TIMER_MS, virtualTime } from './index';

describe('virtualTime - timers', () => {
  it('fires due timers in order of due time, ties in the order set, with the clocks at each due time', async () => {
    const vt = virtualTime(1_000);
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${vt.stopwatch.now()}/${vt.clock.now()}`);
    vt.scheduler.setTimer(30, at('c'));
    vt.scheduler.setTimer(10, at('a'));
    vt.scheduler.setTimer(10, at('b'));
    vt.scheduler.setTimer(31, at('late'));
    await vt.advance(30);
    expect(fired).toEqual(['a@10/1010', 'b@10/1010', 'c@30/1030']);
    expect(vt.pending()).toBe(1);
    expect(vt.stopwatch.now()).toBe(30);
    await vt.advance(1);
    expect(fired.at(-1)).toBe('late@31/1031');
  });

  it('fires timers set by awaited callbacks within the same advance when they fall due', async () => {
    const vt = virtualTime();
    const ticks: number[] = [];
    const tick = () =>
      vt.scheduler.setTimer(100, () => {
        ticks.push(vt.stopwatch.now());
        // The next timer is set after an await, as a sweep loop does.
        void Promise.resolve().then(tick);
      });
    tick();
    await vt.advance(350);
    expect(ticks).toEqual([100, 200, 300]);
  });

  it('cancels a timer that has not fired', async () => {
    const vt = virtualTime();
    let fired = false;
    const cancel = vt.scheduler.setTimer(5, () => (fired = true));
    cancel();
    await vt.advance(10);
    expect(fired).toBe(false);
    expect(vt.pending()).toBe(0);
  });

  it('stops a timer that keeps setting itself at delay 0 with a clear error, after the timers allowed one advance', async () => {
    // A small limit: each timer fired costs a macrotask turn, and MAX_TIMERS_PER_ADVANCE of them take seconds.
    const vt = virtualTime(0, 1_000);
    let fired = 0;
    const again = () => {
      fired += 1;
      vt.scheduler.setTimer(0, again);
    };
    vt.scheduler.setTimer(0, again);
    await expect(vt.advance(1)).rejects.toThrow(/more than 1000 timers fell due in one advance: does one keep setting itself at delay 0/);
    expect(fired).toBe(1_000);
  });

  it('refuses a bad advance, a concurrent advance and a delay no real timer keeps', async () => {
    const vt = virtualTime();
    await expect(vt.advance(-1)).rejects.toThrow(RangeError);
    await expect(vt.advance(Number.NaN)).rejects.toThrow(RangeError);
    const first = vt.advance(1);
    await expect(vt.advance(1)).rejects.toThrow(/already advancing/);
    await first;
    expect(() => vt.scheduler.setTimer(MAX_TIMER_MS + 1, () => undefined)).toThrow(RangeError);
  });
});

describe('virtualTime - sleep and deadlines', () => {
  it('ends a sleep when time passes it, or at once when its signal aborts', async () => {
    const vt = virtualTime();
    let woke = false;
    const sleeping = vt.scheduler.sleep(50).then(() => (woke = true));
    await vt.advance(49);
    expect(woke).toBe(false);
    await vt.advance(1);
    await sleeping;
    expect(woke).toBe(true);

    const stop = new AbortController();
    const cut = vt.scheduler.sleep(1_000, stop.signal);
    stop.abort();
    await cut;
    expect(vt.pending()).toBe(0);
  });

  it('aborts a deadline signal with a TimeoutError when the wall clock reaches it', async () => {
    const vt = virtualTime(5_000);
    const signal = vt.scheduler.deadlineSignal(5_200);
    await vt.advance(199);
    expect(signal.aborted).toBe(false);
    await vt.advance(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: 'TimeoutError' });
  });
});

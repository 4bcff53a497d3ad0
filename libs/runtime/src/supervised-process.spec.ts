import { MAX_RESTART_BACKOFF_MS, nextRestart, RESTART_DELAY_MS, RESTART_WINDOW_MS } from './supervised-process';

/** Feeds exits at `times` through nextRestart, as the supervisor does, and returns each decision. */
function decide(times: number[], maxRestarts: number) {
  let recent: number[] = [];
  return times.map((now) => {
    const next = nextRestart(recent, now, maxRestarts);
    recent = next.recentExits;
    return { delayMs: next.delayMs, crashLoop: next.crashLoop };
  });
}

describe('supervised process - restart backoff', () => {
  it('restarts after the short pause while exits stay within maxRestarts', () => {
    expect(decide([0, 1_000, 2_000], 3)).toEqual([
      { delayMs: RESTART_DELAY_MS, crashLoop: false },
      { delayMs: RESTART_DELAY_MS, crashLoop: false },
      { delayMs: RESTART_DELAY_MS, crashLoop: false },
    ]);
  });

  it('doubles the pause per exit past maxRestarts, then holds it at the cap and never gives up', () => {
    const times = Array.from({ length: 12 }, (_, i) => i);
    const decisions = decide(times, 2);
    expect(decisions.slice(0, 2)).toEqual([
      { delayMs: RESTART_DELAY_MS, crashLoop: false },
      { delayMs: RESTART_DELAY_MS, crashLoop: false },
    ]);
    expect(decisions.slice(2, 5).map((d) => d.delayMs)).toEqual([RESTART_DELAY_MS * 2, RESTART_DELAY_MS * 4, RESTART_DELAY_MS * 8]);
    // Every decision restarts after a finite pause: the loop is slowed, not abandoned.
    expect(decisions.every((d) => d.delayMs > 0 && d.delayMs <= MAX_RESTART_BACKOFF_MS)).toBe(true);
    expect(decisions.at(-1)).toEqual({ delayMs: MAX_RESTART_BACKOFF_MS, crashLoop: true });
  });

  it('stays at the cap however long the loop lasts (no overflow past it)', () => {
    const times = Array.from({ length: 2_000 }, (_, i) => i);
    expect(decide(times, 0).at(-1)).toEqual({ delayMs: MAX_RESTART_BACKOFF_MS, crashLoop: true });
  });

  it('forgets exits older than the window, so a service whose fault cleared restarts quickly again', () => {
    const loop = [0, 10, 20, 30];
    const later = 30 + RESTART_WINDOW_MS;
    const decisions = decide([...loop, later], 2);
    expect(decisions[3]).toMatchObject({ crashLoop: true });
    expect(decisions[4]).toEqual({ delayMs: RESTART_DELAY_MS, crashLoop: false });
  });

  it('keeps only the exits inside the window (bounded memory)', () => {
    const { recentExits } = nextRestart([0, 5_000, RESTART_WINDOW_MS], RESTART_WINDOW_MS + 5_000, 5);
    expect(recentExits).toEqual([RESTART_WINDOW_MS, RESTART_WINDOW_MS + 5_000]);
  });
});

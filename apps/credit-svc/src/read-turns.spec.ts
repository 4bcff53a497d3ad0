import { createReadTurns, READS_AT_ONCE, SHORT_READS_AT_ONCE } from './read-turns';

/** Turns whose reads run until the test ends them; time stands still (the budget never refills). */
function harness() {
  const started: string[] = [];
  const ends = new Map<string, (goesOn: boolean) => void>();
  const turns = createReadTurns({
    stopwatch: { now: () => 0 },
    scheduler: { setTimer: () => () => {} },
    msPerSecond: 1,
    burstMs: 1_000,
    run: (payer, short) => {
      started.push(short ? `${payer} short` : payer);
      return new Promise<boolean>((resolve) => ends.set(payer, resolve));
    },
  });
  const end = async (payer: string, goesOn = false) => {
    ends.get(payer)?.(goesOn);
    // Let the read's continuation (which frees its slot and pumps the queue) run.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { turns, started, end };
}

describe('read turns - reads of payers chains take turns', () => {
  it('starts reads at once while nothing waits, then queues them in order', async () => {
    const h = harness();
    const payers = Array.from({ length: READS_AT_ONCE + 2 }, (_, i) => `p${i}`);
    for (const p of payers) void h.turns.request(p, false);
    expect(h.started).toEqual(payers.slice(0, READS_AT_ONCE));
    expect(h.turns.waiting()).toBe(2);
    expect(h.turns.isWaiting('p5')).toBe(true);
    // One ends and goes on later: it joins the queue's end; the first waiting starts.
    await h.end('p0', true);
    expect(h.started.at(-1)).toBe(`p${READS_AT_ONCE}`);
    await h.end('p1');
    expect(h.started.at(-1)).toBe(`p${READS_AT_ONCE + 1}`);
    await h.end('p2');
    expect(h.started.at(-1)).toBe('p0');
    h.turns.stop();
  });

  it('gives short reads slots of their own, never one the queue waits for', async () => {
    const h = harness();
    // Short reads fill the slots while nothing waits...
    for (let i = 0; i < READS_AT_ONCE; i += 1) void h.turns.request(`s${i}`, true);
    // ...then a payer read for the first time waits, and short reads take only their own slots.
    expect(h.turns.request('honest', false)).toBeUndefined();
    for (let i = READS_AT_ONCE; i < READS_AT_ONCE + SHORT_READS_AT_ONCE + 2; i += 1) void h.turns.request(`s${i}`, true);
    expect(h.started).toHaveLength(READS_AT_ONCE + SHORT_READS_AT_ONCE);
    expect(h.turns.waiting()).toBe(3);
    // A short read on its own slot ends and asks again at once: it takes its own slot again, not the queue's.
    await h.end(`s${READS_AT_ONCE}`);
    void h.turns.request(`s${READS_AT_ONCE}`, true);
    expect(h.started.at(-1)).toBe(`s${READS_AT_ONCE} short`);
    expect(h.turns.waiting()).toBe(3);
    // The first slot the queue can use goes to the payer waiting longest.
    await h.end('s0');
    expect(h.started.at(-1)).toBe('honest');
    h.turns.stop();
  });

  it('stops: nothing queued starts, and a request starts nothing', async () => {
    const h = harness();
    for (let i = 0; i < READS_AT_ONCE + 1; i += 1) void h.turns.request(`p${i}`, false);
    h.turns.stop();
    expect(h.turns.turnOver(0, 0)).toBe(true);
    await h.end('p0');
    expect(h.turns.request('late', true)).toBeUndefined();
    expect(h.started).toHaveLength(READS_AT_ONCE);
    expect(h.turns.waiting()).toBe(0);
  });
});

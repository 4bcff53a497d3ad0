import { manualClock } from '@swarm/determinism';
import { createUnpaidServes, MAX_ROUNDING_RUNS } from './unpaid-serves';

const LIMITS = { maxCredits: 100n, windowMs: 60_000, maxTasksPerPeer: 3, maxEntries: 5 };

describe('unpaid serves - what each peer owes for tasks run for it', () => {
  it('counts a task from its admission, takes a receipt off once, and forgets a task after the window', () => {
    const clock = manualClock(0);
    const unpaid = createUnpaidServes(LIMITS, clock);
    expect(unpaid.admit('p', 't1', 40n)).toBeUndefined();
    clock.advance(30_000);
    expect(unpaid.admit('p', 't2', 30n)).toBeUndefined();
    // The same task id run again (another block of a split task) adds to it.
    expect(unpaid.admit('p', 't2', 20n)).toBeUndefined();
    expect(unpaid.owed('p')).toBe(90n);
    // Its receipt pays 48 of the 50 (a credit of rounding a run is forgiven): t2 is paid.
    unpaid.paid('p', 't2', 48n);
    expect(unpaid.owed('p')).toBe(40n);
    unpaid.paid('p', 'never-run', 1_000n);
    unpaid.paid('stranger', 't1', 1_000n);
    clock.advance(30_000);
    // t1 was run 60 s ago: out of the window, as a task its requester rightly never pays.
    expect([unpaid.owed('p'), unpaid.owed('stranger')]).toEqual([0n, 0n]);
  });

  it('refuses a peer owing too much (what it owes answered), any first task, and a peer holding maxTasksPerPeer tasks', () => {
    const unpaid = createUnpaidServes(LIMITS, manualClock(0));
    // Owing nothing, any task is run, however dear.
    expect(unpaid.admit('p', 'big', 500n)).toBeUndefined();
    expect(unpaid.admit('p', 'next', 1n)).toBe(500n);
    expect(unpaid.owed('p')).toBe(500n);
    const q = createUnpaidServes(LIMITS, manualClock(0));
    for (let i = 0; i < 3; i++) expect(q.admit('q', `t${i}`, 1n)).toBeUndefined();
    expect(q.admit('q', 't3', 1n)).toBe(3n);
  });

  it('gives a peer that pays room for its unpaid remainders: what it paid within the window on top of the bound', () => {
    const clock = manualClock(0);
    const unpaid = createUnpaidServes({ ...LIMITS, maxTasksPerPeer: 10 }, clock);
    unpaid.admit('p', 'paid', 200n);
    unpaid.paid('p', 'paid', 199n);
    unpaid.admit('p', 'refunded', 90n);
    // Owes 90 (a task it never paid, for a reason of its own); 90 + 150 is past 100, but not past 100 + 199.
    expect(unpaid.admit('p', 'next', 150n)).toBeUndefined();
    expect(unpaid.admit('p', 'more', 100n)).toBe(240n);
    clock.advance(LIMITS.windowMs);
    expect(unpaid.owed('p')).toBe(0n);
  });

  it('counts runs of a task id after its receipt in full (a receipt is appended once: a receipt sent again never reaches here, ledger-batch.spec.ts)', () => {
    const unpaid = createUnpaidServes(LIMITS, manualClock(0));
    unpaid.admit('p', 'x', 1n);
    unpaid.paid('p', 'x', 1n);
    for (let i = 0; i < 3; i++) unpaid.admit('p', 'x', 30n);
    expect(unpaid.owed('p')).toBe(90n);
    expect(unpaid.admit('p', 'x', 30n)).toBe(90n);
  });

  it('forgives a credit of rounding per run of a task only up to MAX_ROUNDING_RUNS: one 1-credit receipt does not clear thousands of runs', () => {
    const unpaid = createUnpaidServes({ ...LIMITS, maxCredits: 1_000_000n }, manualClock(0));
    for (let i = 0; i < 100; i++) expect(unpaid.admit('p', 'cheap', 1n)).toBeUndefined();
    unpaid.paid('p', 'cheap', 1n);
    expect(unpaid.owed('p')).toBe(BigInt(100 - 1 - MAX_ROUNDING_RUNS));
  });

  it('uncounts a run the executors failed, and holds at most maxEntries tasks, forgetting the peer served least recently', () => {
    const unpaid = createUnpaidServes(LIMITS, manualClock(0));
    unpaid.admit('p', 't', 10n);
    unpaid.release('p', 't', 10n);
    expect(unpaid.owed('p')).toBe(0n);
    for (let i = 0; i < 3; i++) unpaid.admit('p', `t${i}`, 1n);
    for (let i = 0; i < 3; i++) unpaid.admit('q', `t${i}`, 1n);
    expect([unpaid.owed('p'), unpaid.owed('q')]).toEqual([0n, 3n]);
  });

  it('holds no task its receipt paid off: a peer that pays is never refused for tasks it paid for', () => {
    const unpaid = createUnpaidServes(LIMITS, manualClock(0));
    // Thrice maxTasksPerPeer tasks, each paid as it ends: all admitted (before, the fourth was refused for 10 minutes).
    for (let i = 0; i < 9; i++) {
      expect(unpaid.admit('p', `t${i}`, 5n)).toBeUndefined();
      unpaid.paid('p', `t${i}`, 5n);
    }
    expect(unpaid.owed('p')).toBe(0n);
    // A paid task run again counts in full.
    expect(unpaid.admit('p', 't0', 30n)).toBeUndefined();
    expect(unpaid.owed('p')).toBe(30n);
    // Unpaid ones still fill its room.
    for (let i = 0; i < 2; i++) expect(unpaid.admit('p', `u${i}`, 1n)).toBeUndefined();
    expect(unpaid.admit('p', 'u2', 1n)).toBe(32n);
  });
});

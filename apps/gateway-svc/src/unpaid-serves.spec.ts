import { manualClock } from '@swarm/determinism';
import { createUnpaidServes } from './unpaid-serves';

const LIMITS = { maxCredits: 100n, windowMs: 60_000, maxPeers: 2, maxTasksPerPeer: 3 };

describe('unpaid serves - what each peer owes for tasks run for it', () => {
  it('adds each task served, clears it when its receipt is countersigned, and forgets it after the window', () => {
    const clock = manualClock(0);
    const unpaid = createUnpaidServes(LIMITS, clock);
    unpaid.served('p', 't1', 40n);
    clock.advance(30_000);
    unpaid.served('p', 't2', 70n);
    // The same task id served again (another block of a split task) adds to it.
    unpaid.served('p', 't2', 5n);
    expect(unpaid.owed('p')).toBe(115n);
    unpaid.paid('p', 't2');
    expect(unpaid.owed('p')).toBe(40n);
    unpaid.paid('p', 'never-served');
    unpaid.paid('stranger', 't1');
    clock.advance(30_000);
    // t1 was served 60 s ago: out of the window, as a task its requester rightly never pays.
    expect(unpaid.owed('p')).toBe(0n);
    expect(unpaid.owed('stranger')).toBe(0n);
  });

  it('holds at most maxTasksPerPeer tasks a peer and maxPeers peers, dropping the oldest', () => {
    const unpaid = createUnpaidServes(LIMITS, manualClock(0));
    for (let i = 0; i < 5; i++) unpaid.served('p', `t${i}`, 10n);
    expect(unpaid.owed('p')).toBe(30n);
    unpaid.served('q', 't', 1n);
    unpaid.served('r', 't', 1n);
    expect([unpaid.owed('p'), unpaid.owed('q'), unpaid.owed('r')]).toEqual([0n, 1n, 1n]);
    expect(unpaid.maxCredits).toBe(100n);
  });
});

import { createPeerBudgets } from './peer-budgets';

describe('gateway-svc - per-peer budgets', () => {
  it('gives each peer its own bucket, refilled by the stopwatch, and says how long to wait', () => {
    let now = 0;
    const budgets = createPeerBudgets({ perSecond: 2, burst: 3, maxPeers: 10 }, { now: () => now });
    expect([1, 2, 3, 4].map(() => budgets.take('a'))).toEqual([0, 0, 0, 500]);
    expect(budgets.take('b')).toBe(0);
    now += 500;
    expect([budgets.take('a'), budgets.take('a')]).toEqual([0, 500]);
  });

  it('holds at most maxPeers buckets, forgetting the least recently used first (it starts full again)', () => {
    const budgets = createPeerBudgets({ perSecond: 1, burst: 1, maxPeers: 2 }, { now: () => 0 });
    for (const peer of ['a', 'b']) budgets.take(peer);
    expect(budgets.take('a')).toBeGreaterThan(0);
    budgets.take('c');
    // b was used least recently: forgotten (full again when it comes back); a is still held, empty.
    expect(budgets.take('a')).toBeGreaterThan(0);
    expect(budgets.take('b')).toBe(0);
  });
});

import { createPeerBudgets } from './peer-budgets';

describe('gateway-svc - per-peer and per-network budgets', () => {
  it('gives each peer its own bucket, refilled by the stopwatch, and says how long to wait', () => {
    let now = 0;
    const budgets = createPeerBudgets({ perPeer: { perSecond: 2, burst: 3 }, perNetwork: { perSecond: 100, burst: 100 }, maxKeys: 10 }, { now: () => now });
    expect([1, 2, 3, 4].map(() => budgets.take('a', 'net'))).toEqual([0, 0, 0, 500]);
    expect(budgets.take('b', 'net')).toBe(0);
    now += 500;
    expect([budgets.take('a', 'net'), budgets.take('a', 'net')]).toEqual([0, 500]);
  });

  it('holds identities of one network to the network bucket, and a refusal there costs the peer nothing', () => {
    let now = 0;
    const budgets = createPeerBudgets({ perPeer: { perSecond: 1, burst: 2 }, perNetwork: { perSecond: 1, burst: 3 }, maxKeys: 100 }, { now: () => now });
    expect(['p1', 'p2', 'p3', 'p4', 'p5'].map((p) => budgets.take(p, 'net-1'))).toEqual([0, 0, 0, 1_000, 1_000]);
    // Another network is apart.
    expect(budgets.take('p4', 'net-2')).toBe(0);
    now += 1_000;
    // p5 was refused by its network, not charged: it still holds both its tokens.
    expect([budgets.take('p5', 'net-2'), budgets.take('p5', 'net-2'), budgets.take('p5', 'net-2')]).toEqual([0, 0, 1_000]);
  });

  it('holds at most maxKeys buckets of each kind, forgetting the least recently used first (it starts full again)', () => {
    const budgets = createPeerBudgets({ perPeer: { perSecond: 1, burst: 1 }, perNetwork: { perSecond: 100, burst: 100 }, maxKeys: 2 }, { now: () => 0 });
    for (const peer of ['a', 'b']) budgets.take(peer, 'net');
    expect(budgets.take('a', 'net')).toBeGreaterThan(0);
    budgets.take('c', 'net');
    // b was used least recently: forgotten (full again when it comes back); a is still held, empty.
    expect(budgets.take('a', 'net')).toBeGreaterThan(0);
    expect(budgets.take('b', 'net')).toBe(0);
  });
});

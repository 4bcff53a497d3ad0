import type { Candidate } from '@swarm/scoring';
import { ESCROW_MAX_PAYEES, payeesOf } from './payees';

describe('pipeline - who an escrow names', () => {
  const fake = (i: number): Candidate => ({ nodeId: `fake-${i}`, local: false, load: 0, price: 0, rttMs: 1 });
  const honest: Candidate = { nodeId: 'honest', local: false, load: 0.5, price: 5, rttMs: 20 };

  it('names every distinct candidate while they fit, in the order given', () => {
    expect(payeesOf([honest, fake(1), honest, fake(2)])).toEqual(['honest', 'fake-1', 'fake-2']);
  });

  it('past 16, keeps the best-ranked, and leaves suspects out before honest providers: fakes cannot crowd them out of the escrow', () => {
    const fakes = Array.from({ length: 20 }, (_, i) => fake(i));
    // By claims alone the 20 idle, free fakes fill every slot.
    expect(payeesOf([...fakes, honest])).not.toContain('honest');
    // Once they are suspects (they stalled, or lied), the honest provider is named first.
    const named = payeesOf([...fakes, honest], { isSuspect: (c) => c.nodeId.startsWith('fake-') });
    expect(named).toHaveLength(ESCROW_MAX_PAYEES);
    expect(named[0]).toBe('honest');
    // Trusted ones that say "full" to everything (busy, no suspects) are left out before it too.
    expect(payeesOf([...fakes, honest], { isBusy: (c) => c.nodeId.startsWith('fake-') })[0]).toBe('honest');
  });

  it('past 16, keeps proven providers first, whatever load and price new identities claim', () => {
    const fakes = Array.from({ length: 16 }, (_, i) => fake(i));
    const proven = ['p1', 'p2', 'p3', 'p4'].map((nodeId): Candidate => ({ nodeId, local: false, load: 0.1, price: 1, rttMs: 5 }));
    const named = payeesOf([...fakes, ...proven], { isProven: (c) => c.nodeId.startsWith('p') });
    expect(named).toHaveLength(ESCROW_MAX_PAYEES);
    expect(named.slice(0, 4)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(named.slice(4)).toEqual(fakes.slice(0, 12).map((c) => c.nodeId));
  });
});

import { manualClock } from '@swarm/determinism';
import { createKeyedRateLimiters } from './keyed-rate-limiters';

describe('keyed rate limiters - a token bucket per key', () => {
  it('gives each key a full bucket of its own on first use, and the same bucket after', () => {
    const clock = manualClock(0);
    const buckets = createKeyedRateLimiters({ perSecond: 1, burst: 2 }, 8, clock);
    expect([buckets('a').take(), buckets('a').take(), buckets('a').take()]).toEqual([true, true, false]);
    expect(buckets('b').take()).toBe(true);
    expect(buckets('a').waitMs()).toBe(1_000);
    clock.advance(1_000);
    expect([buckets('a').take(), buckets('a').take()]).toEqual([true, false]);
  });

  it('forgets the least recently used key past maxKeys (it starts full again), and no other', () => {
    const buckets = createKeyedRateLimiters({ perSecond: 1, burst: 1 }, 2, manualClock(0));
    buckets('a').take();
    buckets('b').take();
    buckets('a'); // used: now b is the least recent
    buckets('c').take();
    expect([buckets('a').left(), buckets('c').left()]).toEqual([0, 0]);
    expect(buckets('b').left()).toBe(1);
  });

  it('refuses limits or a key count no bucket could work with, when made', () => {
    const clock = manualClock(0);
    expect(() => createKeyedRateLimiters({ perSecond: 0, burst: 1 }, 8, clock)).toThrow('a rate limiter needs perSecond > 0 and burst >= 1');
    for (const maxKeys of [0, 1.5, Number.NaN])
      expect(() => createKeyedRateLimiters({ perSecond: 1, burst: 1 }, maxKeys, clock)).toThrow(`keyed rate limiters need maxKeys >= 1, got ${maxKeys}`);
  });
});

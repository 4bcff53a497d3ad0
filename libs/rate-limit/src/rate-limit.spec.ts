import { manualClock } from '@swarm/determinism';
import { createRateLimiter } from './rate-limit';

describe('rate limiter - token bucket', () => {
  it('allows a burst, then one request per refill interval, and says how long to wait', () => {
    const clock = manualClock(0);
    const limiter = createRateLimiter({ perSecond: 10, burst: 3 }, clock);
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()]).toEqual([true, true, true, false]);
    expect(limiter.waitMs()).toBe(100);
    clock.advance(100);
    expect([limiter.take(), limiter.take()]).toEqual([true, false]);
    clock.advance(10_000);
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()]).toEqual([true, true, true, false]);
  });

  it('takes a guessed cost while a token is left, charges the real one after, and makes takes wait out what is owed', () => {
    const clock = manualClock(0);
    const limiter = createRateLimiter({ perSecond: 1_000, burst: 4_000 }, clock);
    // 3,000 guessed, then 4,500 taken though only 1,000 are left: the bucket owes 3,500.
    expect([limiter.take(3_000), limiter.take(4_500)]).toEqual([true, true]);
    expect(limiter.take()).toBe(false);
    expect(limiter.left()).toBe(-3_500);
    expect(limiter.waitMs()).toBe(3_501);
    // The first cost was 2,000 really: 1,000 back, then 2,501 ms to a token.
    limiter.charge(-1_000);
    expect(limiter.waitMs()).toBe(2_501);
    clock.advance(2_501);
    expect([limiter.take(10), limiter.take()]).toEqual([true, false]);
    // Giving back fills no more than the burst.
    clock.advance(60_000);
    limiter.charge(-1_000_000);
    expect([limiter.take(4_000), limiter.take()]).toEqual([true, false]);
  });

  it('refuses a limiter that could never allow anything', () => {
    expect(() => createRateLimiter({ perSecond: 0, burst: 1 }, manualClock(0))).toThrow(RangeError);
  });
});

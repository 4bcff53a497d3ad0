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

  it('refuses a limiter that could never allow anything', () => {
    expect(() => createRateLimiter({ perSecond: 0, burst: 1 }, manualClock(0))).toThrow(RangeError);
  });
});

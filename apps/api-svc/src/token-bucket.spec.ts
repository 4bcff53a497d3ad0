import { manualClock } from '@swarm/determinism';
import { MAX_AGENTS } from './agent-rules';
import { createAgentRateLimiter } from './token-bucket';

describe('token bucket - per agent token', () => {
  it('lets a burst through, then one request per refill interval', () => {
    const clock = manualClock(1_000);
    const limiter = createAgentRateLimiter({ ratePerSecond: 10, burst: 3 }, clock);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(100);
    clock.advance(50);
    expect(limiter.take('a')).toBe(50);
    clock.advance(50);
    expect(limiter.take('a')).toBe(0);
  });

  it('takes several tokens for one request that counts as several, and never more than the burst', () => {
    const clock = manualClock();
    const limiter = createAgentRateLimiter({ ratePerSecond: 10, burst: 5 }, clock);
    expect(limiter.take('a', 4)).toBe(0);
    expect(limiter.take('a', 2)).toBe(100);
    expect(limiter.take('a', 1)).toBe(0);
    expect(limiter.take('a', 6)).toBe(Infinity);
  });

  it('keeps each key apart', () => {
    const limiter = createAgentRateLimiter({ ratePerSecond: 1, burst: 1 }, manualClock());
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1_000);
    expect(limiter.take('b')).toBe(0);
  });

  it("never holds more than the burst, and keeps an agent's empty bucket while the node's every other agent is used", () => {
    const clock = manualClock();
    const limiter = createAgentRateLimiter({ ratePerSecond: 1, burst: 2 }, clock);
    limiter.take('a');
    clock.advance(60_000);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 1_000]);
    // A node's agents (at most 1,000) all fit: one emptying its bucket stays empty.
    for (let i = 0; i < MAX_AGENTS; i++) limiter.take(`k${i}`);
    expect(limiter.take('a')).toBe(1_000);
  });
});

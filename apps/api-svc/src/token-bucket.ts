/**
 * Per-key token buckets (one per agent token): each request takes a token; tokens refill at
 * `ratePerSecond` up to `burst`. Pure: time is a Stopwatch, so a wall clock set back cannot stall
 * a limiter. Buckets full again are forgotten, so the table holds only keys active lately.
 */
import type { Stopwatch } from '@swarm/determinism';

export interface RateLimiter {
  /** 0 when the request may go now (a token was taken), else ms until one token is back. */
  take(key: string): number;
  /** Keys with a bucket now (for health). */
  size(): number;
}

export interface RateLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** Forgetting full buckets is amortised: a sweep after this many takes. */
const SWEEP_EVERY = 1_024;

export function createRateLimiter(limits: RateLimits, stopwatch: Stopwatch): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = limits.ratePerSecond / 1000;
  let takes = 0;

  const refill = (b: { tokens: number; at: number }, now: number) => {
    b.tokens = Math.min(limits.burst, b.tokens + (now - b.at) * perMs);
    b.at = now;
  };

  const sweep = (now: number) => {
    for (const [key, b] of buckets) {
      refill(b, now);
      if (b.tokens >= limits.burst) buckets.delete(key);
    }
  };

  return {
    take(key) {
      const now = stopwatch.now();
      if (++takes % SWEEP_EVERY === 0) sweep(now);
      let b = buckets.get(key);
      if (!b) {
        b = { tokens: limits.burst, at: now };
        buckets.set(key, b);
      }
      refill(b, now);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - b.tokens) / perMs);
    },
    size: () => buckets.size,
  };
}

/**
 * Per-key token buckets (one per agent token): each request takes a token; tokens refill at
 * `ratePerSecond` up to `burst`. Pure: time is a Stopwatch, so a wall clock set back cannot stall
 * a limiter. Buckets full again are forgotten, so the table holds only keys active lately.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';

export interface RateLimiter {
  /**
   * 0 when the request may go now (`cost` tokens, default 1, were taken), else ms until that many
   * are back (Infinity when `cost` is more than the burst: never).
   */
  take(key: string, cost?: number): number;
  /** Keys with a bucket now (for health). */
  size(): number;
}

export interface RateLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** The refusal of a request over an agent token's rate (`how`: what counted, e.g. a batch's messages), retryable after `waitMs`. */
export function rateLimited(limits: RateLimits, waitMs: number, how = ''): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_RATE_LIMITED, `too many requests from this agent token: ${how}at most ${limits.ratePerSecond}/s (bursts of ${limits.burst})`, true, {
    retryAfterMs: waitMs,
  });
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
    take(key, cost = 1) {
      const now = stopwatch.now();
      if (++takes % SWEEP_EVERY === 0) sweep(now);
      let b = buckets.get(key);
      if (!b) {
        b = { tokens: limits.burst, at: now };
        buckets.set(key, b);
      }
      refill(b, now);
      if (cost > limits.burst) return Infinity;
      if (b.tokens >= cost) {
        b.tokens -= cost;
        return 0;
      }
      return Math.ceil((cost - b.tokens) / perMs);
    },
    size: () => buckets.size,
  };
}

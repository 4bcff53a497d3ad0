/**
 * A token bucket: `burst` requests at once, refilled at `perSecond`. Pure (stopwatch injected), for
 * work a client can ask for at no cost, such as a status request that reaches the ledger. Refills
 * are durations, so a Stopwatch: on a wall clock set back an hour the bucket would stay empty an hour.
 */
import type { Stopwatch } from '@swarm/determinism';

export interface RateLimiter {
  /** Takes a token: true when allowed now. */
  take(): boolean;
  /** Ms until the next token. */
  waitMs(): number;
}

export function createRateLimiter(opts: { perSecond: number; burst: number }, stopwatch: Stopwatch): RateLimiter {
  if (!(opts.perSecond > 0) || !(opts.burst >= 1)) throw new RangeError('a rate limiter needs perSecond > 0 and burst >= 1');
  let tokens = opts.burst;
  let at = stopwatch.now();
  const refill = () => {
    const now = stopwatch.now();
    tokens = Math.min(opts.burst, tokens + ((now - at) * opts.perSecond) / 1000);
    at = now;
  };
  return {
    take() {
      refill();
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    waitMs() {
      refill();
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / opts.perSecond);
    },
  };
}

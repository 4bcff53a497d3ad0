/**
 * A token bucket: `burst` requests at once, refilled at `perSecond`. Pure (stopwatch injected), for
 * work a client can ask for at no cost, such as a status request that reaches the ledger. Refills
 * are durations, so a Stopwatch: on a wall clock set back an hour the bucket would stay empty an hour.
 * A cost known only once the work is done (bytes sent, say) is taken as a guess and charged after:
 * the bucket may then owe tokens, and takes wait until it is paid back.
 */
import type { Stopwatch } from '@swarm/determinism';

export interface RateLimiter {
  /** Takes `count` tokens (default 1) when at least one is there: true when allowed now. More than are left leaves the bucket owing. */
  take(count?: number): boolean;
  /** Adds `count` to what was taken, once the real cost is known (a negative count gives tokens back, up to `burst`). */
  charge(count: number): void;
  /** Ms until the next token. */
  waitMs(): number;
  /** The tokens there now: below 0 while the bucket owes (charged more than it held). */
  left(): number;
}

export interface RateLimits {
  readonly perSecond: number;
  readonly burst: number;
}

export function createRateLimiter(opts: RateLimits, stopwatch: Stopwatch): RateLimiter {
  if (!(opts.perSecond > 0) || !(opts.burst >= 1)) throw new RangeError('a rate limiter needs perSecond > 0 and burst >= 1');
  let tokens = opts.burst;
  let at = stopwatch.now();
  const refill = () => {
    const now = stopwatch.now();
    tokens = Math.min(opts.burst, tokens + ((now - at) * opts.perSecond) / 1000);
    at = now;
  };
  return {
    take(count = 1) {
      refill();
      if (tokens < 1) return false;
      tokens -= count;
      return true;
    },
    charge(count) {
      refill();
      tokens = Math.min(opts.burst, tokens - count);
    },
    waitMs() {
      refill();
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / opts.perSecond);
    },
    left() {
      refill();
      return tokens;
    },
  };
}

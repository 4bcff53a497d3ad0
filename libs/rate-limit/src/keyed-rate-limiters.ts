/**
 * Token buckets kept per key (a peer's node id, a network, a host), made full on first use. At most
 * `maxKeys` are kept, the least recently used forgotten first; a forgotten key starts full again,
 * so `maxKeys` must exceed the keys a caller can make in the time a bucket takes to refill (each
 * user says how it bounds them).
 */
import type { Stopwatch } from '@swarm/determinism';
import { RecencyMap } from '@swarm/recency-map';
import type { RateLimiter, RateLimits } from './rate-limit';
import { createRateLimiter } from './rate-limit';

/** The bucket of `key`, made on first use, and now the most recently used. */
export type KeyedRateLimiters = (key: string) => RateLimiter;

export function createKeyedRateLimiters(limits: RateLimits, maxKeys: number, stopwatch: Stopwatch): KeyedRateLimiters {
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`keyed rate limiters need maxKeys >= 1, got ${maxKeys}`);
  // Checks the limits once, here, rather than at a key's first use.
  createRateLimiter(limits, stopwatch);
  const buckets = new RecencyMap<string, RateLimiter>(maxKeys);
  return (key) => {
    let bucket = buckets.use(key);
    if (bucket === undefined) buckets.set(key, (bucket = createRateLimiter(limits, stopwatch)));
    return bucket;
  };
}

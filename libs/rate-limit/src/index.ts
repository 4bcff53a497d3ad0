/**
 * Token buckets on a Stopwatch, for work a caller can ask of a node at little cost to itself: one
 * bucket (rate-limit.ts), and buckets per key (keyed-rate-limiters.ts).
 */
export { createRateLimiter } from './rate-limit';
export type { RateLimiter, RateLimits } from './rate-limit';
export { createKeyedRateLimiters } from './keyed-rate-limiters';
export type { KeyedRateLimiters } from './keyed-rate-limiters';

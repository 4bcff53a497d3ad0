/**
 * Shapley values (exact or estimated) to integer micro-credit payouts that sum exactly to the pool.
 * Rule: a negative value (a harmful player, or sampling noise around a free rider's 0) is paid 0; the
 * pool is split in proportion to the positive values (renormalised to their sum), each payout
 * rounded down, and the micro-credits left over (fewer than the number of players) go one each by
 * largest remainder, ties to the lower player index. All arithmetic after scaling is bigint, so the
 * sum is exact for any pool.
 */
import { MAX_PLAYERS, checkValue, invalid, quote } from './game';

/**
 * Weights become integers of up to 52 bits relative to the largest: every double's ratio to the
 * largest survives to 2^-52, and equal values stay equal (symmetric players are paid alike).
 */
const WEIGHT_SCALE = 2 ** 52;

export function shapleyPayouts(values: readonly number[], pool: bigint): bigint[] {
  if (!Array.isArray(values) || values.length < 1 || values.length > MAX_PLAYERS) {
    throw invalid(`shapleyPayouts: values must be an array of 1..${MAX_PLAYERS} numbers, got ${Array.isArray(values) ? `${values.length} numbers` : quote(typeof values)}`);
  }
  if (typeof pool !== 'bigint' || pool < 0n) throw invalid(`shapleyPayouts: pool must be a bigint >= 0 micro-credits, got ${quote(pool)}`);
  const clamped = values.map((x, i) => Math.max(0, checkValue(x, `shapleyPayouts: values[${i}]`)));
  const largest = Math.max(...clamped);
  if (pool === 0n) return clamped.map(() => 0n);
  // An even split would pay free riders and wrong replicas: the caller refunds the pool instead.
  if (largest <= 0) throw invalid('shapleyPayouts: no player has a positive value, so there is nothing to pay for: refund the pool');
  const weights = clamped.map((x) => BigInt(Math.round((x / largest) * WEIGHT_SCALE)));
  const total = weights.reduce((a, b) => a + b, 0n);
  const payouts = weights.map((w) => (pool * w) / total);
  const remainders = weights.map((w) => (pool * w) % total);
  let left = pool - payouts.reduce((a, b) => a + b, 0n);
  const byRemainder = remainders.map((_, i) => i).sort((a, b) => (remainders[a] === remainders[b] ? a - b : remainders[a] > remainders[b] ? -1 : 1));
  for (const i of byRemainder) {
    if (left === 0n) break;
    payouts[i] += 1n;
    left -= 1n;
  }
  return payouts;
}

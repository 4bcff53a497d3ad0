/**
 * Exact Shapley values by subset enumeration: φ_i = Σ_{S ⊆ N∖{i}} w(|S|)·(v(S ∪ {i}) − v(S)),
 * w(s) = s!(n−s−1)!/n! (Shapley 1953). v is read once per coalition (2^n calls), then the sum
 * costs O(2^n·n).
 */
import type { MaskValue } from './game';
import { checkPlayers, invalid, quote } from './game';

/** 2^20 coalitions: 8 MiB of values and ~20 M additions (tens of ms); beyond, use approxShapley. */
export const MAX_EXACT_PLAYERS = 20;

/**
 * w(s) = s!(n−s−1)!/n! = 1/(n·C(n−1, s)), built by the ratio w(s+1)/w(s) = (s+1)/(n−1−s): no
 * factorial is formed, so nothing overflows and each weight carries a few ulps of error at most.
 */
export function shapleyWeights(n: number): Float64Array {
  const w = new Float64Array(n);
  w[0] = 1 / n;
  for (let s = 0; s + 1 < n; s++) w[s + 1] = (w[s] * (s + 1)) / (n - 1 - s);
  return w;
}

/** Shapley values of players 0..n-1 (n ≤ MAX_EXACT_PLAYERS); coalitions are bitmasks. */
export function exactShapley(n: number, v: MaskValue): number[] {
  checkPlayers(n, MAX_EXACT_PLAYERS, 'exactShapley');
  const size = 1 << n;
  const values = new Float64Array(size);
  const cardinality = new Uint8Array(size);
  for (let mask = 0; mask < size; mask++) {
    const value = v(mask);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`exactShapley: v(0x${mask.toString(16)}) must be a finite number, got ${quote(value)}`);
    values[mask] = value;
    if (mask > 0) cardinality[mask] = cardinality[mask >>> 1] + (mask & 1);
  }
  const weights = shapleyWeights(n);
  const phi = new Float64Array(n);
  // Player-major: each pass reads values[S] and values[S | bit] as two sequential streams, which
  // for n = 20 (8 MiB of values) is several times faster than jumping across the array per subset.
  for (let i = 0; i < n; i++) {
    const bit = 1 << i;
    let sum = 0;
    // Subsets without i: blocks of `bit` masks, every other block.
    for (let block = 0; block < size; block += 2 * bit) {
      for (let mask = block; mask < block + bit; mask++) sum += weights[cardinality[mask]] * (values[mask | bit] - values[mask]);
    }
    phi[i] = sum;
  }
  return Array.from(phi);
}

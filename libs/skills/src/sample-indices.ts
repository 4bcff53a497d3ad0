import type { Random } from '@swarm/determinism';

/**
 * `count` distinct indices in [0, n), sorted (all of them when count >= n). Floyd's algorithm:
 * O(count) draws whatever the ratio of count to n.
 */
export function sampleIndices(n: number, count: number, random: Random): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  const picked = new Set<number>();
  for (let j = n - count; j < n; j++) {
    const t = Math.floor(random() * (j + 1));
    picked.add(picked.has(t) ? j : t);
  }
  return [...picked].sort((x, y) => x - y);
}

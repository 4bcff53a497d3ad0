/**
 * Several request paths measured one request at a time (c = 1), in blocks taken in turns: each
 * path runs `blockSize` requests back to back, then the next path, round after round. Back to back
 * keeps each path in its steady state (its processes awake, as under a stream of requests); taking
 * turns spreads a burst of other work on the machine (2 shared cores) over all paths instead of
 * one row. Every latency is kept: exact percentiles are cheap at these counts, and p90 (which
 * stats.ts' HDR recorder does not report) comes with them.
 */
export interface SequentialLatency {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** One request at a time: 1000 / mean latency (the paths share the run's wall time). */
  opsPerSec: number;
}

export interface InterleaveOptions {
  /** Measured requests per path. */
  requests: number;
  /** Unmeasured requests per path before the first block: JIT, connections, caches. */
  warmup: number;
  blockSize: number;
}

/** Latencies of every op by name; each block starts with one unmeasured request (the switch's wake-up). */
export async function measureInterleaved<K extends string>(opts: InterleaveOptions, ops: Readonly<Record<K, () => Promise<unknown>>>): Promise<Record<K, SequentialLatency>> {
  const names = Object.keys(ops) as K[];
  const samples = new Map<K, number[]>(names.map((n) => [n, []]));
  for (const name of names) for (let i = 0; i < opts.warmup; i++) await ops[name]();
  for (let done = 0; done < opts.requests; done += opts.blockSize) {
    const block = Math.min(opts.blockSize, opts.requests - done);
    for (const name of names) {
      await ops[name]();
      for (let i = 0; i < block; i++) {
        const start = performance.now();
        await ops[name]();
        samples.get(name)?.push(performance.now() - start);
      }
    }
  }
  return Object.fromEntries(names.map((n) => [n, summarize(samples.get(n) ?? [])])) as Record<K, SequentialLatency>;
}

function summarize(latencies: number[]): SequentialLatency {
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return { count: sorted.length, p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), p99Ms: percentile(sorted, 99), opsPerSec: 1000 / mean };
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

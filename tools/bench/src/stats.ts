import * as hdr from 'hdr-histogram-js';

export interface LatencyStats {
  count: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

/** Latencies recorded in microseconds into an HDR histogram (3 significant digits). */
export function latencyRecorder() {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  return {
    record(ms: number) {
      h.recordValue(Math.max(1, Math.round(ms * 1000)));
    },
    stats(): LatencyStats {
      return { count: h.totalCount, p50Ms: h.getValueAtPercentile(50) / 1000, p99Ms: h.getValueAtPercentile(99) / 1000, meanMs: h.mean / 1000, maxMs: h.maxValue / 1000 };
    },
  };
}

/**
 * Runs `op` `total` times with at most `concurrency` in flight; returns ops/s and latencies. `rec`:
 * a recorder shared by several runs (blocks of one side, tracing-bench.ts), whose latencies these add to.
 */
export async function measure(total: number, concurrency: number, op: () => Promise<unknown>, rec = latencyRecorder()) {
  let started = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (started < total) {
      started += 1;
      const s = performance.now();
      await op();
      rec.record(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - t0) / 1000;
  return { opsPerSec: total / seconds, ...rec.stats() };
}

/**
 * Runs `op` with `concurrency` in flight for `durationMs` (none starts after it), counting ops/s in
 * windows of `windowMs`, so a rate that sags as the run goes on shows. A failed op is counted by its
 * error's code (or name) and the run goes on; its latency is not recorded.
 */
export async function measureFor(durationMs: number, concurrency: number, windowMs: number, op: () => Promise<unknown>) {
  const rec = latencyRecorder();
  const windows: number[] = [];
  const errors = new Map<string, number>();
  const t0 = performance.now();
  const lane = async () => {
    for (;;) {
      const s = performance.now();
      if (s - t0 >= durationMs) return;
      try {
        await op();
      } catch (err) {
        const { code, name } = err as { code?: unknown; name?: unknown };
        const key = typeof code === 'number' || typeof code === 'string' ? String(code) : typeof name === 'string' ? name : 'unknown';
        errors.set(key, (errors.get(key) ?? 0) + 1);
        // A turn of the event loop: failures that come at once (a closed connection) must not spin the lane.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const done = performance.now();
      rec.record(done - s);
      const w = Math.floor((done - t0) / windowMs);
      windows[w] = (windows[w] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - t0) / 1000;
  const stats = rec.stats();
  return {
    ...stats,
    opsPerSec: stats.count / seconds,
    seconds,
    // Whole windows only: the last ops finish just past the duration.
    windowOpsPerSec: Array.from(windows.slice(0, Math.max(1, Math.floor(durationMs / windowMs))), (n) => ((n ?? 0) * 1000) / windowMs),
    errors,
  };
}

/** The fastest of `reps` runs of `op`, in ms: the figure least disturbed by other work on the machine. */
export async function best(reps: number, op: () => unknown): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await op();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

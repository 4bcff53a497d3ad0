/**
 * What tracing costs a task (`npm run bench -- --tracing`), measured so that the machine's drift
 * hits both sides alike: two nodes run side by side (ledger fsync off, where the services' CPU sets
 * the pace), one untraced and one exporting to a local stand-in collector (otlp-sink.ts) at the
 * default sample ratio, and blocks of tasks go to each in turn. Each side's CPU is read over its own
 * blocks only: a span export (every 5 s) that lands in the other side's block goes uncounted, a
 * small share at 1% sampling; /proc counts in 10 ms steps, which averages out over the blocks. Run one after the other, the same
 * comparison moved by ±10% between runs on a shared 2-core machine, more than tracing costs.
 */
import type { BenchNode } from './bench-node';
import { startBenchNode } from './bench-node';
import { startOtlpSink } from './otlp-sink';
import { usagePerOp } from './proc-usage';
import { latencyRecorder, measure } from './stats';

export interface TracingBenchOptions {
  /** Blocks per side, taken in turns (untraced, traced, untraced, …). */
  readonly blocks: number;
  /** Tasks per block at `concurrency` in flight, and per block one at a time. */
  readonly blockTasks: number;
  readonly sequentialBlockTasks: number;
  readonly concurrency: number;
}

export interface TracingSide {
  readonly name: string;
  /** Tasks per second over all its blocks, `concurrency` in flight, and one at a time. */
  readonly tasksPerSec: number;
  readonly sequentialTasksPerSec: number;
  readonly p50Ms: number;
  readonly sequentialP50Ms: number;
  /** CPU ms per task, all the node's processes together (nats-server included). */
  readonly cpuMsPerTask: number;
}

interface Side extends BenchNode {
  readonly name: string;
}

async function startSide(name: string, env: Readonly<Record<string, string>>): Promise<Side> {
  return { name, ...(await startBenchNode({ executors: 1, syncWrites: false, vecaddSize: 16, env })) };
}

/** `tasks` submits at `concurrency` in flight; its time, CPU and latencies go to `into`. */
async function runBlock(side: Side, tasks: number, concurrency: number, into: { ms: number; cpuMs: number; tasks: number; rec: ReturnType<typeof latencyRecorder> }) {
  let opsPerSec = 0;
  const usage = await usagePerOp(side.processes(), 1, async () => {
    ({ opsPerSec } = await measure(tasks, concurrency, side.submit, into.rec));
  });
  into.ms += (tasks * 1000) / opsPerSec;
  into.cpuMs += usage.reduce((sum, u) => sum + u.cpuMsPerOp, 0);
  into.tasks += tasks;
}

export async function benchTracing(opts: TracingBenchOptions): Promise<TracingSide[]> {
  const sink = await startOtlpSink();
  const sides: Side[] = [];
  try {
    sides.push(await startSide('untraced', {}));
    // The default ratio (SWARM_TRACE_SAMPLE_RATIO unset): what a node with tracing on pays.
    sides.push(await startSide('traced (OTLP export, default sample ratio)', { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }));
    const totals = sides.map(() => ({
      par: { ms: 0, cpuMs: 0, tasks: 0, rec: latencyRecorder() },
      seq: { ms: 0, cpuMs: 0, tasks: 0, rec: latencyRecorder() },
    }));
    const warm = { ms: 0, cpuMs: 0, tasks: 0, rec: latencyRecorder() };
    for (const side of sides) await runBlock(side, Math.max(50, opts.blockTasks / 2), 4, warm); // JIT, kernel compile, provider cache
    for (let round = 0; round < opts.blocks; round++) {
      // Each side goes first in every other round, so neither always follows the other's work.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        await runBlock(sides[i], opts.blockTasks, opts.concurrency, totals[i].par);
        await runBlock(sides[i], opts.sequentialBlockTasks, 1, totals[i].seq);
      }
    }
    return sides.map((side, i) => {
      const { par, seq } = totals[i];
      return {
        name: side.name,
        tasksPerSec: (par.tasks * 1000) / par.ms,
        sequentialTasksPerSec: (seq.tasks * 1000) / seq.ms,
        p50Ms: par.rec.stats().p50Ms,
        sequentialP50Ms: seq.rec.stats().p50Ms,
        cpuMsPerTask: par.cpuMs / par.tasks,
      };
    });
  } finally {
    await Promise.allSettled(sides.map((side) => side.stop()));
    await sink.close();
  }
}

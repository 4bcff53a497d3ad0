/**
 * Two (or more) nodes side by side, taking blocks of tasks in turns, so that the machine's drift
 * hits every side alike: what a setting costs or saves a task, measured where one run after another
 * moves by more than the setting does (±10% on a shared 2-core machine). Each side's CPU is read
 * over its own blocks only; /proc counts in 10 ms steps, which averages out over the blocks.
 * Used by `--tracing` (tracing-bench.ts) and `--fold` (main.ts).
 *
 * Each spec runs as two nodes, started in mirrored order (A, B, B, A): of two identical untraced
 * nodes started one after the other, the second ran 4–7% fewer tasks a second in three runs of three
 * (a bias of start order, not of the blocks' order, which rotates every round), which is the size of
 * what `--tracing` measures. Mirrored, the bias of one start position is cancelled by the other.
 */
import type { BenchNode } from './bench-node';
import { startBenchNode } from './bench-node';
import { usagePerOp } from './proc-usage';
import { latencyRecorder, measure } from './stats';

export interface SideBySideOptions {
  /** Blocks per spec, half on each of its two nodes (an even number), taken in turns (the order rotates every round). */
  readonly blocks: number;
  /** Tasks per block at `concurrency` in flight, and per block one at a time. */
  readonly blockTasks: number;
  readonly sequentialBlockTasks: number;
  readonly concurrency: number;
}

/** One node of the comparison: its ledger fsync and extra service environment. */
export interface SideSpec {
  readonly name: string;
  readonly syncWrites: boolean;
  readonly env: Readonly<Record<string, string>>;
}

export interface SideResult {
  readonly name: string;
  /** Tasks per second over all its blocks, `concurrency` in flight, and one at a time. */
  readonly tasksPerSec: number;
  readonly sequentialTasksPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly sequentialP50Ms: number;
  /** CPU ms per task, all the node's processes together (nats-server included). */
  readonly cpuMsPerTask: number;
}

interface Side extends BenchNode {
  readonly name: string;
  /** Index of its spec: two sides share each. */
  readonly spec: number;
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

export async function benchSideBySide(specs: readonly SideSpec[], opts: SideBySideOptions): Promise<SideResult[]> {
  if (!Number.isInteger(opts.blocks / 2) || opts.blocks < 2) throw new RangeError(`blocks must be an even number of 2 or more, got ${opts.blocks}`);
  const sides: Side[] = [];
  try {
    const mirrored = [...specs.keys(), ...[...specs.keys()].reverse()];
    for (const i of mirrored) {
      const spec = specs[i];
      sides.push({ name: spec.name, spec: i, ...(await startBenchNode({ executors: 1, syncWrites: spec.syncWrites, vecaddSize: 16, env: spec.env })) });
    }
    // Per spec: its two nodes' blocks count together.
    const totals = specs.map(() => ({
      par: { ms: 0, cpuMs: 0, tasks: 0, rec: latencyRecorder() },
      seq: { ms: 0, cpuMs: 0, tasks: 0, rec: latencyRecorder() },
    }));
    const warm = { ms: 0, cpuMs: 0, tasks: 0, rec: latencyRecorder() };
    for (const side of sides) await runBlock(side, Math.max(50, opts.blockTasks / 2), 4, warm); // JIT, kernel compile, provider cache
    // Each node takes half its spec's blocks.
    for (let round = 0; round < opts.blocks / 2; round++) {
      // The order rotates every round, so no side always follows the same one's work (reversing
      // A, B, B, A would give the same order every round).
      const order = sides.map((_, i) => (i + round) % sides.length);
      for (const i of order) {
        const { par, seq } = totals[sides[i].spec];
        await runBlock(sides[i], opts.blockTasks, opts.concurrency, par);
        await runBlock(sides[i], opts.sequentialBlockTasks, 1, seq);
      }
    }
    return specs.map((spec, i) => {
      const { par, seq } = totals[i];
      return {
        name: spec.name,
        tasksPerSec: (par.tasks * 1000) / par.ms,
        sequentialTasksPerSec: (seq.tasks * 1000) / seq.ms,
        p50Ms: par.rec.stats().p50Ms,
        p99Ms: par.rec.stats().p99Ms,
        sequentialP50Ms: seq.rec.stats().p50Ms,
        cpuMsPerTask: par.cpuMs / par.tasks,
      };
    });
  } finally {
    await Promise.allSettled(sides.map((side) => side.stop()));
  }
}

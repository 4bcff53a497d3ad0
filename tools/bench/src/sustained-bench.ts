/**
 * The whole task held at 16 in flight for a minute (issue 12's sustained row): a tiny vecadd on a
 * node as `swarm up` runs it, ledger fsync on, after the raw NATS floor at the same concurrency
 * (nats-floor.ts, its responder in another process) in the same run. Tasks per second in 10 s
 * windows show whether the rate holds as the ledger grows; p99 and the slowest task cover the whole
 * run; CPU per task per process from /proc.
 */
import { startBenchNode } from './bench-node';
import { startNatsFloor } from './nats-floor';
import type { ProcUsage } from './proc-usage';
import { readProcUsage } from './proc-usage';
import { measure, measureFor } from './stats';

export interface SustainedBenchOptions {
  readonly seconds: number;
  readonly concurrency: number;
  readonly windowSeconds: number;
  readonly vecaddSize: number;
  readonly executors: number;
}

/** What the floor carries: about a tiny vecadd's size on the wire. */
const FLOOR_PAYLOAD_BYTES = 64;

export async function benchSustained(opts: SustainedBenchOptions) {
  const floor = await startNatsFloor(FLOOR_PAYLOAD_BYTES);
  let floorPar: Awaited<ReturnType<typeof measure>>;
  try {
    await measure(200, 4, () => floor.request()); // warm-up: connections, JIT
    floorPar = await measure(opts.concurrency * 500, opts.concurrency, () => floor.request());
  } finally {
    await floor.stop();
  }
  const bench = await startBenchNode({ executors: opts.executors, syncWrites: true, vecaddSize: opts.vecaddSize });
  try {
    await measure(200, 4, bench.submit); // warm-up: JIT, kernel compile, provider cache
    const processes = bench.processes();
    const before = await Promise.all(processes.map((p) => readProcUsage(p.pid)));
    const run = await measureFor(opts.seconds * 1000, opts.concurrency, opts.windowSeconds * 1000, bench.submit);
    const after = await Promise.all(processes.map((p) => readProcUsage(p.pid)));
    const perTask = processes.flatMap((p, i) => cpuPerTask(p.name, before[i], after[i], run.count));
    return { floorPar, run, perTask };
  } finally {
    await bench.stop();
  }
}

function cpuPerTask(name: string, before: ProcUsage | undefined, after: ProcUsage | undefined, tasks: number) {
  return before && after && tasks > 0 ? [{ name, cpuMsPerTask: (after.cpuMs - before.cpuMs) / tasks }] : [];
}

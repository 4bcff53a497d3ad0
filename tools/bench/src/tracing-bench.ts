/**
 * What tracing costs a task (`npm run bench -- --tracing`), measured so that the machine's drift
 * hits both sides alike: two nodes run side by side (ledger fsync off, where the services' CPU sets
 * the pace), one untraced and one exporting to a local stand-in collector (otlp-sink.ts) at the
 * default sample ratio, and blocks of tasks go to each in turn. Each side's CPU is read over its own
 * blocks only: a span export (every 5 s) that lands in the other side's block goes uncounted, a
 * small share at 1% sampling; /proc counts in 10 ms steps, which averages out over the blocks. Run one after the other, the same
 * comparison moved by ±10% between runs on a shared 2-core machine, more than tracing costs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import { fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import type { RunningNode } from '@swarm/node';
import { startNode } from '@swarm/node';
import { demoInputs, priceOf } from '@swarm/skills';
import { startOtlpSink } from './otlp-sink';
import { usagePerOp } from './proc-usage';
import { latencyRecorder } from './stats';

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

interface Side {
  readonly name: string;
  readonly node: RunningNode;
  readonly client: SwarmClient;
  readonly home: string;
  submit(): Promise<unknown>;
  processes(): Array<{ name: string; pid: number }>;
}

async function startSide(name: string, env: Readonly<Record<string, string>>): Promise<Side> {
  const home = await mkdtemp(join(tmpdir(), 'swarm-bench-'));
  const node = await startNode({
    home,
    executors: 1,
    env: { SWARM_NATS_URL: '', SWARM_LOG_LEVEL: 'warn', SWARM_GENESIS_GRANT: '1000000', SWARM_CREDIT_SYNC_WRITES: 'false', ...env },
  });
  const client = await connectSwarm(node.natsUrl, { nkeyFile: node.clientKeyFile });
  const inputs = demoInputs('vecadd', 16, seededRandom(3));
  const budget = priceOf('vecadd', inputs.map(fromTensor));
  return {
    name,
    node,
    client,
    home,
    submit: () => client.submit({ skill: 'vecadd', inputs, budget, timeoutMs: 10_000 }),
    processes: () => [...node.services.flatMap(({ name: n, pid }) => (pid === undefined ? [] : [{ name: n, pid }])), { name: 'nats-server', pid: node.natsPid() }],
  };
}

async function stopSide(side: Side): Promise<void> {
  await side.client.close();
  await side.node.stop();
  await rm(side.home, { recursive: true, force: true });
}

/** `tasks` submits at `concurrency` in flight; its wall time, CPU and latencies go to `into`. */
async function runBlock(side: Side, tasks: number, concurrency: number, into: { ms: number; cpuMs: number; tasks: number; rec: ReturnType<typeof latencyRecorder> }) {
  let started = 0;
  const t0 = performance.now();
  const usage = await usagePerOp(side.processes(), 1, async () => {
    const lane = async () => {
      while (started < tasks) {
        started += 1;
        const s = performance.now();
        await side.submit();
        into.rec.record(performance.now() - s);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  });
  into.ms += performance.now() - t0;
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
    await Promise.allSettled(sides.map(stopSide));
    await sink.close();
  }
}

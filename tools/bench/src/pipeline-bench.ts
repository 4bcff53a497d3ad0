/**
 * The node pipeline (submit → escrow → execute → verify → settle → reply, five processes) for a
 * tiny vecadd, next to a raw NATS request/reply round trip: the floor (nats-floor.ts: a second,
 * open nats-server of the same binary, the echo responder in its own process).
 */
import { startBenchNode } from './bench-node';
import { startNatsFloor } from './nats-floor';
import { usagePerOp } from './proc-usage';
import { measure } from './stats';

export interface PipelineBenchOptions {
  sequential: number;
  concurrent: number;
  concurrency: number;
  vecaddSize: number;
  executors: number;
  /** fsync each ledger batch (credit-svc's default); off shows what durability costs. */
  syncWrites: boolean;
  /** Extra service environment, e.g. an OTLP endpoint for the tracing-on run. */
  env?: Readonly<Record<string, string>>;
}

/** Tasks before the timed runs; 50 left the first one-at-a-time run partly unoptimised. */
const PIPELINE_WARMUP_TASKS = 500;
/** What the floor carries: about a tiny vecadd's size on the wire. */
const FLOOR_PAYLOAD_BYTES = 64;

export async function benchPipeline(opts: PipelineBenchOptions) {
  const bench = await startBenchNode(opts);
  try {
    const floor = await startNatsFloor(FLOOR_PAYLOAD_BYTES);
    type Latency = Awaited<ReturnType<typeof measure>>;
    let rawSeq: Latency;
    let rawPar: Latency | undefined;
    let floorPerOp: Awaited<ReturnType<typeof usagePerOp>>;
    try {
      await measure(200, 4, () => floor.request()); // warm-up: connections, JIT
      rawSeq = await measure(opts.sequential * 4, 1, () => floor.request());
      floorPerOp = await usagePerOp(floor.processes, opts.concurrent * 4, async () => {
        rawPar = await measure(opts.concurrent * 4, opts.concurrency, () => floor.request());
      });
    } finally {
      await floor.stop();
    }
    if (!rawPar) throw new Error('the concurrent floor run did not finish');
    // One service call (credit.balance: a read, no ledger write) beside the whole task.
    const balance = () => bench.client.balance();
    await measure(200, 4, balance);
    const callSeq = await measure(opts.sequential * 4, 1, balance);
    const callPar = await measure(opts.concurrent * 4, opts.concurrency, balance);
    // Warm-up: JIT (a few hundred tasks before the hot paths are optimised), kernel compile, provider cache.
    await measure(PIPELINE_WARMUP_TASKS, 4, bench.submit);
    const seq = await measure(opts.sequential, 1, bench.submit);
    let par: Latency | undefined;
    // CPU and socket writes of each process over the concurrent run, per task.
    const perTask = await usagePerOp(bench.processes(), opts.concurrent, async () => {
      par = await measure(opts.concurrent, opts.concurrency, bench.submit);
    });
    if (!par) throw new Error('the concurrent run did not finish');
    return { rawSeq, rawPar, floorPerOp, callSeq, callPar, seq, par, perTask };
  } finally {
    await bench.stop();
  }
}

/**
 * The node pipeline (submit → escrow → execute → verify → settle → reply, five processes) for a
 * tiny vecadd, next to a raw NATS request/reply round trip: the floor (nats-floor.ts: a second,
 * open nats-server of the same binary, the echo responder in its own process).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectSwarm } from '@swarm/client';
import { fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, priceOf } from '@swarm/skills';
import { startNode } from '@swarm/node';
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

/** What the floor carries: about a tiny vecadd's size on the wire. */
const FLOOR_PAYLOAD_BYTES = 64;

export async function benchPipeline(opts: PipelineBenchOptions) {
  const home = await mkdtemp(join(tmpdir(), 'swarm-bench-'));
  // A real node as `swarm up` runs it; a large grant so the run never runs out of credit.
  const node = await startNode({
    home,
    executors: opts.executors,
    env: { SWARM_NATS_URL: '', SWARM_LOG_LEVEL: 'warn', SWARM_GENESIS_GRANT: '1000000', SWARM_CREDIT_SYNC_WRITES: String(opts.syncWrites), ...opts.env },
  });
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
    const client = await connectSwarm(node.natsUrl, { nkeyFile: node.clientKeyFile });
    // One service call (credit.balance: a read, no ledger write) beside the whole task.
    const balance = () => client.balance();
    await measure(200, 4, balance);
    const callSeq = await measure(opts.sequential * 4, 1, balance);
    const callPar = await measure(opts.concurrent * 4, opts.concurrency, balance);
    const inputs = demoInputs('vecadd', opts.vecaddSize, seededRandom(3));
    const budget = priceOf('vecadd', inputs.map(fromTensor));
    const submit = () => client.submit({ skill: 'vecadd', inputs, budget, timeoutMs: 10_000 });
    await measure(50, 4, submit); // warm-up: JIT, kernel compile, provider cache
    const seq = await measure(opts.sequential, 1, submit);
    let par: Latency | undefined;
    // CPU and socket writes of each process over the concurrent run, per task.
    const processes = [...node.services.flatMap(({ name, pid }) => (pid === undefined ? [] : [{ name, pid }])), { name: 'nats-server', pid: node.natsPid() }];
    const perTask = await usagePerOp(processes, opts.concurrent, async () => {
      par = await measure(opts.concurrent, opts.concurrency, submit);
    });
    await client.close();
    if (!par) throw new Error('the concurrent run did not finish');
    return { rawSeq, rawPar, floorPerOp, callSeq, callPar, seq, par, perTask };
  } finally {
    await node.stop();
    await rm(home, { recursive: true, force: true });
  }
}

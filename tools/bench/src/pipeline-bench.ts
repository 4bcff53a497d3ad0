/**
 * The node pipeline (submit → escrow → execute → verify → settle → reply, five processes) for a
 * tiny vecadd, next to a raw NATS request/reply round trip: the floor. The floor runs on a second,
 * open nats-server of the same binary on the same machine: the node's own bus is closed, and no
 * identity may serve an echo subject on it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectSwarm } from '@swarm/client';
import { fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, priceOf } from '@swarm/skills';
import { spawnSwarmNode, startNatsServer } from '@swarm/testing';
import { connect } from 'nats';
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

export async function benchPipeline(opts: PipelineBenchOptions) {
  const home = await mkdtemp(join(tmpdir(), 'swarm-bench-'));
  // A real node as `swarm up` runs it; a large grant so the run never runs out of credit.
  const node = await spawnSwarmNode(home, {
    executors: opts.executors,
    env: { SWARM_LOG_LEVEL: 'warn', SWARM_GENESIS_GRANT: '1000000', SWARM_CREDIT_SYNC_WRITES: String(opts.syncWrites), ...opts.env },
  });
  try {
    const floorServer = await startNatsServer();
    const nc = await connect({ servers: floorServer.url });
    const echo = nc.subscribe('bench.echo', { callback: (_e, m) => m.respond(m.data) });
    const payload = new Uint8Array(64);
    const rawSeq = await measure(opts.sequential * 4, 1, () => nc.request('bench.echo', payload, { timeout: 5_000 }));
    const rawPar = await measure(opts.concurrent * 4, opts.concurrency, () => nc.request('bench.echo', payload, { timeout: 5_000 }));
    echo.unsubscribe();
    await nc.drain();
    await floorServer.stop();

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
    let par: Awaited<ReturnType<typeof measure>> | undefined;
    // CPU and socket writes of each process over the concurrent run, per task.
    const perTask = await usagePerOp(node.services, opts.concurrent, async () => {
      par = await measure(opts.concurrent, opts.concurrency, submit);
    });
    await client.close();
    if (!par) throw new Error('the concurrent run did not finish');
    return { rawSeq, rawPar, callSeq, callPar, seq, par, perTask };
  } finally {
    await node.stop();
    await rm(home, { recursive: true, force: true });
  }
}

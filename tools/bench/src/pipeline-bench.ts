/**
 * The node pipeline (submit → escrow → execute → verify → settle → reply, five processes) for a
 * tiny vecadd, next to a raw NATS request/reply round trip on the same nats-server: the floor.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectSwarm } from '@swarm/client';
import { fromTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, priceOf } from '@swarm/skills';
import { connect } from 'nats';
import { measure } from './stats';

const ROOT = resolve(__dirname, '../../..');

export interface PipelineBenchOptions {
  sequential: number;
  concurrent: number;
  concurrency: number;
  vecaddSize: number;
  executors: number;
}

export async function benchPipeline(opts: PipelineBenchOptions) {
  const home = await mkdtemp(join(tmpdir(), 'swarm-bench-'));
  const node = await startNode(home, opts.executors);
  try {
    const nc = await connect({ servers: node.natsUrl });
    const echo = nc.subscribe('bench.echo', { callback: (_e, m) => m.respond(m.data) });
    const payload = new Uint8Array(64);
    const rawSeq = await measure(opts.sequential * 4, 1, () => nc.request('bench.echo', payload, { timeout: 5_000 }));
    const rawPar = await measure(opts.concurrent * 4, opts.concurrency, () => nc.request('bench.echo', payload, { timeout: 5_000 }));
    echo.unsubscribe();
    await nc.drain();

    const client = await connectSwarm(node.natsUrl);
    const inputs = demoInputs('vecadd', opts.vecaddSize, seededRandom(3));
    const budget = priceOf('vecadd', inputs.map(fromTensor));
    const submit = () => client.submit({ skill: 'vecadd', inputs, budget, timeoutMs: 10_000 });
    await measure(50, 4, submit); // warm-up: JIT, kernel compile, provider cache
    const seq = await measure(opts.sequential, 1, submit);
    const par = await measure(opts.concurrent, opts.concurrency, submit);
    await client.close();
    return { rawSeq, rawPar, seq, par };
  } finally {
    await node.stop();
    await rm(home, { recursive: true, force: true });
  }
}

/** A real node via `swarm up --json` (as a user runs it); its JSON summary says where it listens. */
async function startNode(home: string, executors: number): Promise<{ natsUrl: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin/swarm.js'), 'up', '--json', '--data-dir', home, '--executors', String(executors)], {
    env: { ...process.env, SWARM_LOG_LEVEL: 'warn', SWARM_GENESIS_GRANT: '1000000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  const natsUrl = await new Promise<string>((resolveUrl, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      try {
        resolveUrl((JSON.parse(out) as { natsUrl: string }).natsUrl);
      } catch {
        // not a whole document yet
      }
    });
    void exited.then(() => reject(new Error(`swarm up exited before it was ready:\n${out}`)));
  });
  return {
    natsUrl,
    async stop() {
      child.kill('SIGINT');
      await exited;
    },
  };
}

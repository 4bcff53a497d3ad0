/**
 * The whole task held at 16 in flight for a minute (issue 12's sustained row): a tiny vecadd on a
 * node as `swarm up` runs it, ledger fsync on, after the raw NATS floor at the same concurrency
 * (nats-floor.ts, its responder in another process) in the same run. Tasks per second in 10 s
 * windows show whether the rate holds as the ledger grows; p99 and the slowest task cover the whole
 * run; CPU per task per process from /proc.
 */
import { connectSwarm } from '@swarm/client';
import { nodeProcesses, startBenchNode, vecaddSubmitter } from './bench-node';
import { startSwarmPair } from './swarm-pair';
import { startNatsFloor } from './nats-floor';
import { usagePerOp } from './proc-usage';
import { measure, measureFor } from './stats';

export interface SustainedBenchOptions {
  readonly seconds: number;
  readonly concurrency: number;
  readonly windowSeconds: number;
  readonly vecaddSize: number;
  readonly executors: number;
  /** Node A submits, node B runs every task: two nodes, their gateways and receipts. */
  readonly remote?: boolean;
}

/** What a run submits to, and the processes whose CPU it counts. */
interface Target {
  readonly submit: () => Promise<unknown>;
  readonly processes: () => Array<{ name: string; pid: number }>;
  readonly stop: () => Promise<void>;
}

/**
 * Two nodes for the remote run: grants and the chain's starter allowance large enough that credit
 * never runs out, and gateway call rates above what 16 in flight send (the defaults, 100 calls/s a
 * peer and 200 a host, would set the pace).
 */
const REMOTE_ENV = {
  SWARM_LOG_LEVEL: 'warn',
  SWARM_EXECUTOR_THREADS: '1',
  SWARM_GENESIS_GRANT: '100000000',
  SWARM_CHAIN_GENESIS_GRANT: '100000000',
  SWARM_CHAIN_STARTER_ALLOWANCE: '100000000',
  SWARM_GATEWAY_PEER_RATE: '100000',
  SWARM_GATEWAY_PEER_BURST: '100000',
  SWARM_GATEWAY_HOST_RATE: '100000',
  SWARM_GATEWAY_HOST_BURST: '100000',
};

async function startTarget(opts: SustainedBenchOptions): Promise<Target> {
  if (!opts.remote) return startBenchNode({ executors: opts.executors, syncWrites: true, vecaddSize: opts.vecaddSize });
  const pair = await startSwarmPair('vecadd', REMOTE_ENV);
  const client = await connectSwarm(pair.a.natsUrl, { nkeyFile: pair.a.clientKeyFile });
  const of = (label: string, node: typeof pair.a) => nodeProcesses(node).map((p) => ({ ...p, name: `${label} ${p.name}` }));
  return {
    submit: vecaddSubmitter(client, opts.vecaddSize),
    processes: () => [...of('A', pair.a), ...of('B', pair.b)],
    stop: async () => {
      await client.close();
      await pair.stop();
    },
  };
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
  const bench = await startTarget(opts);
  try {
    await measure(200, 4, bench.submit); // warm-up: JIT, kernel compile, provider cache
    let run: Awaited<ReturnType<typeof measureFor>> | undefined;
    const perTask = await usagePerOp(
      bench.processes(),
      () => run?.count ?? 0,
      async () => {
        run = await measureFor(opts.seconds * 1000, opts.concurrency, opts.windowSeconds * 1000, bench.submit);
      },
    );
    if (!run) throw new Error('the sustained run did not finish');
    return { floorPar, run, perTask };
  } finally {
    await bench.stop();
  }
}

/**
 * A real node as `swarm up` runs it, for the benches that time the whole pipeline (pipeline-bench.ts,
 * tracing-bench.ts): a large grant so a run never runs out of credit, the ledger's fsync as asked, a
 * client, a tiny vecadd to submit, and its processes (nats-server included) for /proc usage.
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

export interface BenchNodeOptions {
  readonly executors: number;
  /** fsync each ledger batch (credit-svc's default); off shows what durability costs. */
  readonly syncWrites: boolean;
  readonly vecaddSize: number;
  /** Extra service environment, e.g. an OTLP endpoint for a traced node. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface BenchNode {
  readonly node: RunningNode;
  readonly client: SwarmClient;
  // Function-valued properties: the benches pass `submit` on unbound.
  /** One vecadd of the size asked, at its price. */
  readonly submit: () => Promise<unknown>;
  /** The node's processes now (a restarted one has a new pid). */
  readonly processes: () => Array<{ name: string; pid: number }>;
  readonly stop: () => Promise<void>;
}

export async function startBenchNode(opts: BenchNodeOptions): Promise<BenchNode> {
  const home = await mkdtemp(join(tmpdir(), 'swarm-bench-'));
  const removeHome = () => rm(home, { recursive: true, force: true });
  let node: RunningNode;
  try {
    node = await startNode({
      home,
      executors: opts.executors,
      env: { SWARM_NATS_URL: '', SWARM_LOG_LEVEL: 'warn', SWARM_GENESIS_GRANT: '1000000', SWARM_CREDIT_SYNC_WRITES: String(opts.syncWrites), ...opts.env },
    });
  } catch (err) {
    await removeHome();
    throw err;
  }
  let client: SwarmClient;
  try {
    client = await connectSwarm(node.natsUrl, { nkeyFile: node.clientKeyFile });
  } catch (err) {
    await node.stop();
    await removeHome();
    throw err;
  }
  return {
    node,
    client,
    submit: vecaddSubmitter(client, opts.vecaddSize),
    processes: () => nodeProcesses(node),
    stop: async () => {
      await client.close();
      await node.stop();
      await removeHome();
    },
  };
}

/** One vecadd of `size` at its price, submitted through `client` each call. */
export function vecaddSubmitter(client: SwarmClient, size: number): () => Promise<unknown> {
  const inputs = demoInputs('vecadd', size, seededRandom(3));
  const budget = priceOf('vecadd', inputs.map(fromTensor));
  return () => client.submit({ skill: 'vecadd', inputs, budget, timeoutMs: 10_000 });
}

/** A node's processes now (a restarted one has a new pid), nats-server included. */
export function nodeProcesses(node: RunningNode): Array<{ name: string; pid: number }> {
  return [...node.services.flatMap(({ name, pid }) => (pid === undefined ? [] : [{ name, pid }])), { name: 'nats-server', pid: node.natsPid() }];
}

/**
 * A whole node as `swarm up` runs it — nats-server and every service as supervised child processes,
 * node.json in its home — started through @swarm/node's startNode, the launcher the CLI uses.
 */
import { startNode } from '@swarm/node';
import type { NodeEvent, SupervisionReport } from '@swarm/node';

export interface SwarmNodeProcess {
  readonly natsUrl: string;
  readonly nodeId: string;
  /** The node's client bus key (`<home>/bus/client.nk`): what a client connects with. */
  readonly clientKeyFile: string;
  readonly services: ReadonlyArray<{ name: string; pid: number }>;
  /** The supervisor's view now: restarts, last exits, state of each process. */
  supervision(): SupervisionReport;
  /** Stops it as Ctrl-C on `swarm up` does; resolves with 0 if every process stopped cleanly. */
  stop(): Promise<number>;
}

export interface SwarmNodeOptions {
  executors?: number;
  env?: Record<string, string>;
  onEvent?: (event: NodeEvent) => void;
}

export async function spawnSwarmNode(home: string, opts: SwarmNodeOptions = {}): Promise<SwarmNodeProcess> {
  const node = await startNode({ home, executors: opts.executors ?? 1, env: { SWARM_NATS_URL: '', ...opts.env }, ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) });
  const services = node.services.flatMap(({ name, pid }) => (pid === undefined ? [] : [{ name, pid }]));
  if (services.length < node.services.length) {
    await node.stop();
    throw new Error('a service of the node has no process');
  }
  return { natsUrl: node.natsUrl, nodeId: node.nodeId, clientKeyFile: node.clientKeyFile, services, supervision: () => node.supervision(), stop: () => node.stop() };
}

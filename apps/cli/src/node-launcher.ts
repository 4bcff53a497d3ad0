/**
 * `swarm up`'s process around the node library (@swarm/node startNode): progress lines on stderr,
 * and Ctrl-C/SIGTERM/SIGHUP through libs/runtime's onShutdown, the one owner of signals. Its
 * handlers go in before start-up first waits, so a signal during start-up stops the nodes as soon
 * as they are up (exit 130). Services run in their own process groups: a Ctrl-C reaches only this
 * process, which stops each node's services in reverse start order (the nodes side by side).
 *
 * Several nodes make one swarm: node 1 starts first with no seeds (a new swarm), then the others
 * at once, each with node 1's peer address as its seed; the DHT tells them about each other.
 */
import type { RunningNode } from '@swarm/node';
import { LOOPBACK_HOST, nodeStopGraceMs, pinnedPorts, readListenPorts, startNode } from '@swarm/node';
import type { ShutdownLog } from '@swarm/runtime';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, onShutdown } from '@swarm/runtime';
import { CliError } from './cli-error';

export interface LaunchOptions {
  /** One home per node, node 1 first. */
  homes: readonly string[];
  executors: number;
  /** Skills installed on node i (1-based; SWARM_SKILLS), when not all of the catalog's. */
  skillsOf?(node: number): readonly string[] | undefined;
}

export interface LaunchedSwarm {
  /** Node 1 first. */
  readonly nodes: readonly RunningNode[];
  /** A signal came while they started: they are being stopped (`stopped` then resolves with 130). */
  readonly interrupted: boolean;
  /** Stops every node (once) and resolves with the command's exit status. */
  stop(reason: string): Promise<number>;
  /** Resolves with the command's exit status once the nodes have been stopped, by a signal or stop(). */
  readonly stopped: Promise<number>;
}

/** Shutdown's own lines, for a person at a terminal: only what went wrong. */
const terminalLog: ShutdownLog = {
  info: () => undefined,
  error: (fields, msg) => process.stderr.write(`${msg}${'err' in fields && fields.err instanceof Error ? `: ${fields.err.message}` : ''}\n`),
};

export async function launchSwarm(opts: LaunchOptions): Promise<LaunchedSwarm> {
  const count = opts.homes.length;
  // Every node that came up, in node order (stopped together on a signal or a failed start).
  const up: RunningNode[] = [];
  let nodeStatus = EXIT_OK;
  const stopAll = async (): Promise<number> => {
    const codes = await Promise.all(up.filter(Boolean).map((n) => n.stop()));
    return codes.some((c) => c !== EXIT_OK) ? EXIT_FAILURE : EXIT_OK;
  };
  const shutdown = onShutdown(
    // One Ctrl-C under `npm start` arrives twice (the terminal and npm both send it): not a second
    // request to cut the stop short. The nodes stop side by side: one node's grace bounds it.
    { graceMs: nodeStopGraceMs(opts.executors), log: terminalLog, signals: ['SIGINT', 'SIGTERM', 'SIGHUP'], repeatSignalInterrupts: false },
    async () => {
      await starting.catch(() => undefined);
      if (up.length === 0) return;
      process.stderr.write(count > 1 ? `stopping ${up.filter(Boolean).length} nodes…\n` : 'stopping the node…\n');
      nodeStatus = await stopAll();
      process.stderr.write(count > 1 ? 'nodes stopped\n' : 'node stopped\n');
    },
  );
  const starting = startAll(opts, up, () => shutdown.begun()).catch(async (err: unknown) => {
    await stopAll();
    throw err;
  });
  // A start that never ends (a system call that hangs) is given up when the shutdown asked meanwhile
  // runs out of time: the command then exits with its status instead of waiting on for ever.
  if ((await Promise.race([starting.then(() => 'started' as const), shutdown.exitCode.then(() => 'given up' as const)])) === 'given up') {
    return { nodes: up, interrupted: true, stop: () => shutdown.exitCode, stopped: shutdown.exitCode };
  }
  const interrupted = shutdown.begun();
  const stopped = shutdown.exitCode.then((code) => (code !== EXIT_OK ? code : interrupted ? EXIT_INTERRUPTED : nodeStatus));
  return {
    nodes: up,
    interrupted,
    stop(reason) {
      shutdown.trigger(reason);
      return stopped;
    },
    stopped,
  };
}

/** Node 1, then the rest at once with node 1 as their seed; fills `up` (index i-1 for node i). */
async function startAll(opts: LaunchOptions, up: RunningNode[], interrupted: () => boolean): Promise<void> {
  const count = opts.homes.length;
  // All gateway ports at once, pinned: distinct, though the nodes start side by side, and none of
  // them given to a nats-server of a node starting meanwhile; each the port it had last time when
  // free (listen-ports.json), so node 1's peer address, the seed others joined by, stays the same.
  const lastPorts = count > 1 ? await Promise.all(opts.homes.map(async (home) => (await readListenPorts(home)).gateway)) : [];
  const ports = count > 1 ? await pinnedPorts(count, LOOPBACK_HOST, lastPorts) : [];
  // Node 1 takes SWARM_SEEDS and SWARM_GATEWAY_LISTEN from the environment when set: a single
  // `swarm up` joins a swarm elsewhere that way. The others are on loopback, seeded by node 1.
  const start = (i: number, seeds: readonly string[] | undefined) => {
    const prefix = count > 1 ? `node-${i + 1}: ` : '';
    const skills = opts.skillsOf?.(i + 1);
    return startNode({
      home: opts.homes[i],
      executors: opts.executors,
      ...(count > 1 ? { gatewayListen: `${LOOPBACK_HOST}:${ports[i]}` } : {}),
      ...(seeds ? { seeds } : {}),
      ...(skills ? { skills } : {}),
      onEvent: (e) => process.stderr.write(`  ${prefix}${e.message}\n`),
    }).then((node) => {
      up[i] = node;
      return node;
    });
  };
  const first = await start(0, undefined);
  if (count === 1 || interrupted()) return;
  if (!first.peerAddress) {
    throw new CliError('SWARM_START_FAILED', `node-1's gateway named no address for peers to dial; see ${first.logDir}/gateway-svc.log`);
  }
  const rest = await Promise.allSettled(Array.from({ length: count - 1 }, (_, k) => start(k + 1, [first.peerAddress])));
  const failed = rest.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    const reason: unknown = (rest[failed] as PromiseRejectedResult).reason;
    // The error keeps its SWARM_* code; the message says which node.
    if (reason instanceof Error) reason.message = `node-${failed + 2}: ${reason.message}`;
    throw reason;
  }
}

/**
 * `swarm up`'s process around the node library (@swarm/node startNode): progress lines on stderr,
 * and Ctrl-C/SIGTERM/SIGHUP through libs/runtime's onShutdown, the one owner of signals. Its
 * handlers go in before start-up first waits, so a signal during start-up stops the node as soon
 * as it is up (exit 130). Services run in their own process groups: a Ctrl-C reaches only this process,
 * which stops them in reverse start order.
 */
import type { RunningNode } from '@swarm/node';
import { nodeStopGraceMs, startNode } from '@swarm/node';
import type { ShutdownLog } from '@swarm/runtime';
import { EXIT_INTERRUPTED, EXIT_OK, onShutdown } from '@swarm/runtime';

export interface LaunchOptions {
  home: string;
  executors: number;
}

export interface LaunchedNode {
  readonly node: RunningNode;
  /** A signal came while it started: it is being stopped (`stopped` then resolves with 130). */
  readonly interrupted: boolean;
  /** Stops the node (once) and resolves with the command's exit status. */
  stop(reason: string): Promise<number>;
  /** Resolves with the command's exit status once the node has been stopped, by a signal or stop(). */
  readonly stopped: Promise<number>;
}

const say = (line: string) => process.stderr.write(`  ${line}\n`);

/** Shutdown's own lines, for a person at a terminal: only what went wrong. */
const terminalLog: ShutdownLog = {
  info: () => undefined,
  error: (fields, msg) => process.stderr.write(`${msg}${'err' in fields && fields.err instanceof Error ? `: ${fields.err.message}` : ''}\n`),
};

export async function launchNode(opts: LaunchOptions): Promise<LaunchedNode> {
  const starting = startNode({ home: opts.home, executors: opts.executors, onEvent: (e) => say(e.message) });
  let nodeStatus = EXIT_OK;
  const shutdown = onShutdown(
    // One Ctrl-C under `npm start` arrives twice (the terminal and npm both send it): not a second
    // request to cut the stop short.
    { graceMs: nodeStopGraceMs(opts.executors), log: terminalLog, signals: ['SIGINT', 'SIGTERM', 'SIGHUP'], repeatSignalInterrupts: false },
    async () => {
      const node = await starting.catch(() => undefined);
      if (!node) return;
      process.stderr.write('stopping the node…\n');
      nodeStatus = await node.stop();
      process.stderr.write('node stopped\n');
    },
  );
  const node = await starting;
  const interrupted = shutdown.begun();
  const stopped = shutdown.exitCode.then((code) => (code !== EXIT_OK ? code : interrupted ? EXIT_INTERRUPTED : nodeStatus));
  return {
    node,
    interrupted,
    stop(reason) {
      shutdown.trigger(reason);
      return stopped;
    },
    stopped,
  };
}

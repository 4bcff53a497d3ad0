/**
 * A whole node as a user starts it: `swarm up --json` (bin/swarm.js) in a child process. Resolves
 * once the JSON summary arrives on stdout; stop() sends SIGINT (Ctrl-C) and waits for the exit.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const SWARM = resolve(__dirname, '../../../bin/swarm.js');
export const NODE_START_TIMEOUT_MS = 90_000;

export interface SwarmNodeProcess {
  readonly natsUrl: string;
  readonly nodeId: string;
  /** The node's client bus key (`<home>/bus/client.nk`): what a client connects with. */
  readonly clientKeyFile: string;
  readonly services: ReadonlyArray<{ name: string; pid: number }>;
  /** Resolves with the exit code after Ctrl-C (SIGINT). */
  stop(): Promise<number | null>;
}

export function spawnSwarmNode(home: string, opts: { executors?: number; env?: Record<string, string> } = {}): Promise<SwarmNodeProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [SWARM, 'up', '--json', '--data-dir', home, '--executors', String(opts.executors ?? 1)],
    { env: { ...process.env, SWARM_NATS_URL: '', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  return new Promise((resolveNode, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`swarm up was not ready within ${NODE_START_TIMEOUT_MS} ms:\n${err}`));
    }, NODE_START_TIMEOUT_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      let summary: { natsUrl: string; nodeId: string; clientKeyFile: string; services: Array<{ name: string; pid: number }> };
      try {
        summary = JSON.parse(out);
      } catch {
        return; // not a whole document yet
      }
      clearTimeout(timer);
      resolveNode({
        ...summary,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`swarm up exited with ${code} before it was ready:\n${err}`));
    });
  });
}

/**
 * Runs an app as a real child process from its compiled main.js, as `swarm up` does, for tests that
 * kill, restart or scale services (jest's global setup builds first).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { compiledNodeArgs } from '@swarm/runtime';

const ROOT = resolve(__dirname, '../../..');

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the process wrote to stderr so far (its JSON log lines). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnService(app: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, compiledNodeArgs(resolve(ROOT, 'apps', app), 'src/main.ts'), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const append = (chunk: Buffer) => {
    if (out.length < 1_000_000) out += chunk.toString('utf8');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return {
    child,
    pid: child.pid as number,
    output: () => out,
    exited,
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Runs an app as a real child process from its compiled main.js, as `swarm up` does, for tests that
 * kill, restart or scale services (jest's global setup builds first).
 */
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { compiledNodeArgs, spawnProcess } from '@swarm/runtime';

const ROOT = resolve(__dirname, '../../..');

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the process wrote so far (its JSON log lines), up to the capture cap. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnService(app: string, env: Record<string, string>): ServiceProcess {
  const proc = spawnProcess({ command: process.execPath, args: compiledNodeArgs(resolve(ROOT, 'apps', app), 'src/main.ts'), cwd: ROOT, env: { ...process.env, ...env } });
  const exitOf = ({ code, signal }: { code: number | null; signal: NodeJS.Signals | null }) => ({ code, signal });
  return {
    child: proc.child,
    pid: proc.pid as number,
    output: () => proc.output(),
    exited: proc.exited.then(exitOf),
    kill: (signal = 'SIGTERM') => proc.kill(signal).then(exitOf),
  };
}

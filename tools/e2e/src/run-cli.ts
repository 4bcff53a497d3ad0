import { resolve } from 'node:path';
import { spawnProcess } from '@swarm/runtime';

export const SWARM = resolve(__dirname, '../../../bin/swarm.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `swarm` command (bin/swarm.js) with no stdin, as a script or an agent would. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<CliResult> {
  return runProcess(process.execPath, [SWARM, ...args], env, timeoutMs);
}

/** A child with no stdin and SWARM_NATS_URL cleared; resolves with its exit code and output. */
export async function runProcess(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<CliResult> {
  // No cap: a test compares whole documents (an audit of many entries, a large result).
  const proc = spawnProcess({ command, args, env: { ...process.env, SWARM_NATS_URL: '', ...env }, captureChars: Number.MAX_SAFE_INTEGER, timeoutMs });
  const exit = await proc.exited;
  if (exit.timedOut) throw new Error(`${command} ${args.join(' ')} ran past ${timeoutMs} ms\n${proc.stderr()}`);
  return { code: exit.code, stdout: proc.stdout(), stderr: proc.stderr() };
}

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

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
export function runProcess(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env: { ...process.env, SWARM_NATS_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} ran past ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/**
 * A service child process under supervision: its output goes to a log file, an unexpected exit
 * restarts it after a short pause (at most `maxRestarts` in a row within `restartWindowMs`, so a
 * crash loop gives up instead of spinning), and stop() is SIGTERM, then SIGKILL after a grace.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';
import { EXIT_BAD_CONFIG } from './shutdown';

/** Set for a supervised child: its stdin stays open for as long as the supervisor lives. */
export const STOP_ON_STDIN_EOF = 'SWARM_STOP_ON_STDIN_EOF';
export const RESTART_DELAY_MS = 500;
export const DEFAULT_MAX_RESTARTS = 5;
export const RESTART_WINDOW_MS = 60_000;

export interface SupervisedOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  maxRestarts?: number;
  /** Told about every exit, and whether the supervisor will restart the process. */
  onExit?(info: { name: string; code: number | null; signal: NodeJS.Signals | null; restarting: boolean }): void;
}

export interface SupervisedProcess {
  readonly name: string;
  pid(): number | undefined;
  restarts(): number;
  /** Stops for good: SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit code. */
  stop(graceMs: number): Promise<number | null>;
}

export function startSupervised(opts: SupervisedOptions): SupervisedProcess {
  // One log per run of the supervisor (restarts append), so a start-up error is not mixed with old runs.
  const log: WriteStream = createWriteStream(opts.logFile, { flags: 'w' });
  const maxRestarts = opts.maxRestarts ?? DEFAULT_MAX_RESTARTS;
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);
  let stopping = false;
  let restarts = 0;
  let recent: number[] = [];
  let restartTimer: NodeJS.Timeout | undefined;

  const launch = () => {
    // Own process group: a terminal's Ctrl-C reaches only the supervisor, which stops children in
    // order. The open stdin pipe closes if the supervisor dies, and the child then stops itself.
    const c = spawn(opts.command, opts.args, { env: { ...opts.env, [STOP_ON_STDIN_EOF]: '1' }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    child = c;
    c.stdout?.pipe(log, { end: false });
    c.stderr?.pipe(log, { end: false });
    exited = new Promise((resolve) => {
      c.once('error', (err) => log.write(`supervisor: cannot start ${opts.name}: ${err.message}\n`));
      c.once('close', (code, signal) => {
        const now = Date.now();
        recent = [...recent.filter((t) => now - t < RESTART_WINDOW_MS), now];
        const restarting = !stopping && code !== EXIT_BAD_CONFIG && recent.length <= maxRestarts;
        opts.onExit?.({ name: opts.name, code, signal, restarting });
        if (restarting) {
          restarts += 1;
          restartTimer = setTimeout(launch, RESTART_DELAY_MS);
        }
        resolve(code);
      });
    });
  };
  launch();

  return {
    name: opts.name,
    pid: () => child?.pid,
    restarts: () => restarts,
    async stop(graceMs) {
      stopping = true;
      clearTimeout(restartTimer);
      const c = child;
      let code: number | null = null;
      if (c && c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        const killer = setTimeout(() => c.kill('SIGKILL'), graceMs);
        code = await exited;
        clearTimeout(killer);
      }
      await new Promise<void>((r) => log.end(() => r()));
      return code;
    },
  };
}

/**
 * A service child process under supervision: its output is appended to a log file of bounded size,
 * an unexpected exit restarts it after a short pause, and stop() is SIGTERM, then SIGKILL after a
 * grace. Supervision never gives up for good: past `maxRestarts` exits within RESTART_WINDOW_MS
 * (a crash loop) the pause doubles up to MAX_RESTART_BACKOFF_MS, so a loop does not spin, and a
 * service whose fault clears (its disk, its bus, its peer) comes back by itself. The one exit not
 * restarted is a configuration error (EXIT_BAD_CONFIG): restarting cannot fix it.
 */
import { setPriority } from 'node:os';
import { createRotatingLog, DEFAULT_LOG_MAX_BYTES } from './rotating-log';
import { EXIT_BAD_CONFIG } from './exit-codes';
import type { ProcessExit, SpawnedProcess } from './spawn-process';
import { spawnProcess } from './spawn-process';

/** Set for a supervised child: its stdin stays open for as long as the supervisor lives. */
export const STOP_ON_STDIN_EOF = 'SWARM_STOP_ON_STDIN_EOF';
export const RESTART_DELAY_MS = 500;
export const DEFAULT_MAX_RESTARTS = 5;
export const RESTART_WINDOW_MS = 60_000;
/** Longest pause between restarts of a crash-looping service. */
export const MAX_RESTART_BACKOFF_MS = 30_000;
/**
 * For executor-svc. Measured (1,000 matmul 512 sent at once to a 2-core node on a busy machine):
 * with executors at niceness 0, 12 requests got no answer before their clients gave up and the
 * flood took 35 s to answer; at 10, every request was answered, within 22 s.
 */
export const EXECUTOR_NICENESS = 10;

export interface SupervisedOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Size at which `logFile` is rotated; default DEFAULT_LOG_MAX_BYTES. */
  logMaxBytes?: number;
  /**
   * Scheduling niceness (0-19, higher yields more) for CPU-bound services: executors at
   * EXECUTOR_NICENESS keep the router and the bus able to read and answer requests (if only with
   * OVERLOADED) while every core runs kernels. Set right after the spawn, before the service
   * starts its worker threads, which inherit it.
   */
  niceness?: number;
  maxRestarts?: number;
  /** File-mode mask each launch starts with (see spawnProcess). */
  umask?: number;
  /**
   * Told about every exit: whether the supervisor will restart the process, after how long, and
   * whether it is crash-looping (more than `maxRestarts` exits within RESTART_WINDOW_MS).
   */
  onExit?(info: ExitInfo): void;
  /** Told each time the process is (re)launched. */
  onStart?(pid: number | undefined): void;
}

export interface ExitInfo {
  readonly name: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly restarting: boolean;
  readonly delayMs: number;
  readonly crashLoop: boolean;
}

export interface SupervisedProcess {
  readonly name: string;
  pid(): number | undefined;
  /** Whether a process runs now (false between an exit and its restart). */
  running(): boolean;
  restarts(): number;
  /** Stops for good: SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit code. */
  stop(graceMs: number): Promise<number | null>;
}

export function startSupervised(opts: SupervisedOptions): SupervisedProcess {
  // Appended, never truncated: the lines before a restart of the node are often the ones that
  // explain it. A marker line at each launch separates the runs.
  const log = createRotatingLog(opts.logFile, opts.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES);
  const maxRestarts = opts.maxRestarts ?? DEFAULT_MAX_RESTARTS;
  let proc: SpawnedProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let recent: number[] = [];
  let restartTimer: NodeJS.Timeout | undefined;

  const launch = () => {
    // Own process group: a terminal's Ctrl-C reaches only the supervisor, which stops children in
    // order. The open stdin pipe closes if the supervisor dies, and the child then stops itself.
    const p = spawnProcess({
      command: opts.command,
      args: opts.args,
      env: { ...opts.env, [STOP_ON_STDIN_EOF]: '1' },
      stdin: 'pipe',
      stdout: log,
      stderr: log,
      detached: true,
      ...(opts.umask !== undefined ? { umask: opts.umask } : {}),
    });
    proc = p;
    if (opts.niceness !== undefined && p.pid !== undefined) {
      try {
        setPriority(p.pid, opts.niceness);
      } catch (err) {
        log.write(`supervisor: cannot set the niceness of ${opts.name}: ${(err as Error).message}\n`);
      }
    }
    log.write(`${JSON.stringify({ level: 30, time: new Date().toISOString(), service: opts.name, pid: p.pid, msg: 'supervisor: started' })}\n`);
    opts.onStart?.(p.pid);
    void p.exited.then(({ code, signal, error }) => {
      if (error !== undefined) log.write(`supervisor: cannot start ${opts.name}: ${error}\n`);
      const next = nextRestart(recent, Date.now(), maxRestarts);
      recent = next.recentExits;
      const { delayMs, crashLoop } = next;
      const restarting = !stopping && code !== EXIT_BAD_CONFIG;
      opts.onExit?.({ name: opts.name, code, signal, restarting, delayMs, crashLoop });
      // onExit may itself have called stop(): no relaunch after it (it would outlive the stop).
      if (restarting && !stopping) {
        restarts += 1;
        restartTimer = setTimeout(launch, delayMs);
      }
    });
  };
  launch();

  return {
    name: opts.name,
    pid: () => proc?.pid,
    running: () => proc?.running() ?? false,
    restarts: () => restarts,
    async stop(graceMs) {
      stopping = true;
      clearTimeout(restartTimer);
      const p = proc;
      const exit: ProcessExit | undefined = p?.running() ? await p.stop(graceMs) : undefined;
      await new Promise<void>((r) => log.end(() => r()));
      return exit?.code ?? null;
    },
  };
}

/**
 * The pause before the next launch, given the exit times (ms) within RESTART_WINDOW_MS before this
 * exit at `now`: RESTART_DELAY_MS, doubling per exit past `maxRestarts` (a crash loop) up to
 * MAX_RESTART_BACKOFF_MS, and back to RESTART_DELAY_MS once a window passes without exits.
 */
export function nextRestart(recentExits: readonly number[], now: number, maxRestarts: number): { recentExits: number[]; delayMs: number; crashLoop: boolean } {
  const recent = [...recentExits.filter((t) => now - t < RESTART_WINDOW_MS), now];
  const crashLoop = recent.length > maxRestarts;
  const delayMs = crashLoop ? Math.min(RESTART_DELAY_MS * 2 ** (recent.length - maxRestarts), MAX_RESTART_BACKOFF_MS) : RESTART_DELAY_MS;
  return { recentExits: recent, delayMs, crashLoop };
}

/**
 * The one wrapper around `child_process.spawn` (supervisor, nats-server launcher, test helpers, CLI
 * runs in e2e tests, benchmarks): output kept in memory up to a cap, piped to a stream or dropped;
 * an exit promise that never rejects (a failed spawn is an exit with `error`); kill-with-grace.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

/** Enough for every log line a test looks for; a chatty child cannot fill the parent's memory. */
export const DEFAULT_CAPTURE_CHARS = 1_000_000;

/** Where a child's stdout or stderr goes: kept in memory (capped), piped into a stream, or dropped. */
export type OutputTarget = 'capture' | 'ignore' | Writable;

export interface SpawnProcessOptions {
  command: string;
  args?: readonly string[];
  /** The child's whole environment; default this process's. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * 'pipe' keeps a pipe open for as long as this process lives: the child sees end-of-file when
   * its parent dies, however it dies. Default 'ignore'.
   */
  stdin?: 'ignore' | 'pipe';
  /** Default 'capture'. */
  stdout?: OutputTarget;
  /** Default 'capture'. */
  stderr?: OutputTarget;
  /** Most characters kept of each captured stream; later output is dropped. */
  captureChars?: number;
  /** Told every chunk the child writes (readiness lines), whatever its target. */
  onOutput?(stream: 'stdout' | 'stderr', chunk: string): void;
  /** Own process group: a terminal's Ctrl-C reaches only the parent, which stops the child in order. */
  detached?: boolean;
  /** File-mode mask the child starts with (this process's own is restored at once). */
  umask?: number;
  /** Killed with SIGKILL once this long has passed; its exit then says `timedOut`. */
  timeoutMs?: number;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why it could not be started (no such file, no permission). */
  readonly error?: string;
  readonly timedOut?: boolean;
}

export interface SpawnedProcess {
  /** Undefined when the spawn failed. */
  readonly pid: number | undefined;
  readonly child: ChildProcess;
  /** Captured stdout so far. */
  stdout(): string;
  /** Captured stderr so far. */
  stderr(): string;
  /** Both captured streams, in arrival order. */
  output(): string;
  running(): boolean;
  /** Resolves once the process has exited and its output has been read; never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Sends `signal` (default SIGTERM) if it still runs; resolves with its exit. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** `signal` (default SIGTERM), then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs: number, signal?: NodeJS.Signals): Promise<ProcessExit>;
}

export function spawnProcess(opts: SpawnProcessOptions): SpawnedProcess {
  const limit = opts.captureChars ?? DEFAULT_CAPTURE_CHARS;
  const targets = { stdout: opts.stdout ?? 'capture', stderr: opts.stderr ?? 'capture' };
  const previousUmask = opts.umask === undefined ? undefined : process.umask(opts.umask);
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args ?? [], {
      env: opts.env ?? process.env,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      stdio: [opts.stdin ?? 'ignore', targets.stdout === 'ignore' && !opts.onOutput ? 'ignore' : 'pipe', targets.stderr === 'ignore' && !opts.onOutput ? 'ignore' : 'pipe'],
      detached: opts.detached ?? false,
    });
  } finally {
    if (previousUmask !== undefined) process.umask(previousUmask);
  }
  const captured = { stdout: '', stderr: '' };
  let both = '';
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = child[name];
    const target = targets[name];
    if (!stream) continue;
    if (typeof target === 'object') stream.pipe(target, { end: false });
    if (target === 'capture' || opts.onOutput) {
      stream.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        if (target === 'capture') {
          if (captured[name].length < limit) captured[name] += text.slice(0, limit - captured[name].length);
          if (both.length < 2 * limit) both += text;
        }
        opts.onOutput?.(name, text);
      });
    }
  }
  let error: string | undefined;
  let timedOut = false;
  child.once('error', (err) => (error = err.message));
  const timer =
    opts.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs);
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // A failed spawn closes with a negative errno as its code: not an exit status.
      resolve({ code: error !== undefined ? null : code, signal, ...(error !== undefined ? { error } : {}), ...(timedOut ? { timedOut } : {}) });
    }),
  );
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid,
    child,
    stdout: () => captured.stdout,
    stderr: () => captured.stderr,
    output: () => both,
    running,
    exited,
    kill(signal = 'SIGTERM') {
      if (running()) child.kill(signal);
      return exited;
    },
    async stop(graceMs, signal = 'SIGTERM') {
      if (!running()) return exited;
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(killer);
      return exit;
    },
  };
}

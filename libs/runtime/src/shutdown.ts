/**
 * The one place that listens for SIGTERM/SIGINT (and whatever else a process stops on): on the
 * first signal (or `trigger()`), run `stop` within `graceMs` plus a fixed slack for closing
 * connections and flushing traces. `exitCode` then resolves with the status the process should end
 * with: 0 if stop finished, 1 if it failed or ran out of time, 130 on a second signal (at once).
 * It never exits the process itself: runMain (run-main.ts) or the app's own main does.
 */
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK } from './exit-codes';

/** Time after the grace period for draining NATS and flushing telemetry. */
export const SHUTDOWN_SLACK_MS = 2_000;

/** What shutdown logs: a pino logger fits; the CLI passes one that writes a line to the terminal. */
export interface ShutdownLog {
  info(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  flush?(): void;
}

export interface ShutdownOptions {
  graceMs: number;
  log: ShutdownLog;
  signals?: NodeJS.Signals[];
  /**
   * Whether a second signal during shutdown cuts it short (default true). `swarm up` says false:
   * one Ctrl-C under `npm start` arrives twice (the terminal signals the group, npm forwards it).
   */
  repeatSignalInterrupts?: boolean;
}

export interface Shutdown {
  /** Begins the shutdown as a signal would (once; later calls do nothing). */
  trigger(reason: string): void;
  /** Whether it has begun. */
  begun(): boolean;
  /** The process's exit status, once shutdown has ended (or been cut short). */
  readonly exitCode: Promise<number>;
}

export function onShutdown(opts: ShutdownOptions, stop: () => Promise<void>): Shutdown {
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  let begun = false;
  let finish!: (code: number) => void;
  let finished = false;
  const exitCode = new Promise<number>((resolve) => (finish = resolve));
  const end = (code: number) => {
    if (finished) return;
    finished = true;
    for (const s of signals) process.off(s, onRepeat);
    finish(code);
  };
  const onRepeat = () => {
    if (opts.repeatSignalInterrupts ?? true) end(EXIT_INTERRUPTED);
  };
  const begin = (reason: string) => {
    if (begun) return;
    begun = true;
    for (const s of signals) process.off(s, onSignal);
    // A listener stays: without one, a second signal would kill the process by default action.
    for (const s of signals) process.on(s, onRepeat);
    const limitMs = opts.graceMs + SHUTDOWN_SLACK_MS;
    opts.log.info({ reason, graceMs: opts.graceMs }, 'shutting down');
    // Not unref'd: a stop awaiting something that never comes, with no handle left open, would
    // otherwise let the process end with code 0 as if it had stopped cleanly.
    const timer = setTimeout(() => {
      opts.log.error({ limitMs }, 'shutdown exceeded its grace period');
      end(EXIT_FAILURE);
    }, limitMs);
    stop().then(
      () => {
        clearTimeout(timer);
        opts.log.info({}, 'stopped');
        opts.log.flush?.();
        end(EXIT_OK);
      },
      (err: unknown) => {
        clearTimeout(timer);
        opts.log.error({ err }, 'shutdown failed');
        end(EXIT_FAILURE);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => begin(signal);
  for (const s of signals) process.on(s, onSignal);
  return { trigger: begin, begun: () => begun, exitCode };
}

/**
 * `work`, unless a signal comes first: then it rejects at once with `interrupted(signal)` (the work
 * is left to the process's exit, which the caller brings about). A one-shot command's way to say
 * what was under way when the user pressed Ctrl-C; its listeners go when it settles.
 */
export function interruptible<T>(work: Promise<T>, interrupted: (signal: NodeJS.Signals) => Error, signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onSignal = (signal: NodeJS.Signals) => {
      done();
      reject(interrupted(signal));
    };
    const done = () => {
      for (const s of signals) process.off(s, onSignal);
    };
    for (const s of signals) process.on(s, onSignal);
    work.then(
      (value) => {
        done();
        resolve(value);
      },
      (err: unknown) => {
        done();
        reject(err);
      },
    );
  });
}

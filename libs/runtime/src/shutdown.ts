/**
 * Graceful shutdown for a service process: on the first SIGTERM/SIGINT (or `trigger()`), run `stop`
 * within `graceMs` plus a fixed slack for closing connections and flushing traces; exit 0 if it
 * finished, 1 if it failed or ran out of time. A second signal exits at once. Only apps' main
 * code calls this; libs never exit the process.
 */
import type { Logger } from '@swarm/telemetry';

/** Time after the grace period for draining NATS and flushing telemetry. */
export const SHUTDOWN_SLACK_MS = 2_000;

export interface ShutdownOptions {
  graceMs: number;
  log: Logger;
  signals?: NodeJS.Signals[];
}

export function onShutdown(opts: ShutdownOptions, stop: () => Promise<void>): { trigger(reason: string): void } {
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  let begun = false;
  const begin = (reason: string) => {
    if (begun) return;
    begun = true;
    for (const s of signals) process.off(s, onSignal);
    for (const s of signals) process.once(s, () => process.exit(130));
    const limitMs = opts.graceMs + SHUTDOWN_SLACK_MS;
    opts.log.info({ reason, graceMs: opts.graceMs }, 'shutting down');
    // Not unref'd: a stop awaiting something that never comes, with no handle left open, would
    // otherwise let the process end with code 0 as if it had stopped cleanly.
    const timer = setTimeout(() => {
      opts.log.error({ limitMs }, 'shutdown exceeded its grace period');
      process.exit(1);
    }, limitMs);
    stop().then(
      () => {
        clearTimeout(timer);
        opts.log.info('stopped');
        opts.log.flush?.();
        // Give pino's async destination a tick to drain, then leave even if a handle lingers.
        setTimeout(() => process.exit(0), 50).unref();
      },
      (err: unknown) => {
        opts.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => begin(signal);
  for (const s of signals) process.on(s, onSignal);
  return { trigger: begin };
}

/** sysexits' EX_CONFIG: restarting cannot help, so a supervisor gives up at once. */
export const EXIT_BAD_CONFIG = 78;

/**
 * Runs an app's async main: an error during start-up is one clear line on stderr and exit 1, or
 * EXIT_BAD_CONFIG for invalid configuration (the message lists every bad variable).
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${name}: error ${typeof code === 'string' ? code : 'SWARM_START_FAILED'}: ${message}\n`);
    process.exit(code === 'SWARM_BAD_CONFIG' ? EXIT_BAD_CONFIG : 1);
  });
}

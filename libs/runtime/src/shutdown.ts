/**
 * Graceful shutdown for a service process: on the first SIGTERM/SIGINT run `stop` within
 * `graceMs`; exit 0 if it finished, 1 if it failed or ran out of time. A second signal exits at once.
 * Listeners are removed as soon as shutdown begins. Only apps' main.ts call this.
 */
import type { Logger } from '@swarm/telemetry';

export interface ShutdownOptions {
  graceMs: number;
  log: Logger;
  signals?: NodeJS.Signals[];
}

export function onShutdown(opts: ShutdownOptions, stop: () => Promise<void>): void {
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const begin = (signal: NodeJS.Signals) => {
    for (const s of signals) process.off(s, begin);
    for (const s of signals) process.once(s, () => process.exit(130));
    opts.log.info({ signal, graceMs: opts.graceMs }, 'shutting down');
    const timer = setTimeout(() => {
      opts.log.error({ graceMs: opts.graceMs }, 'shutdown exceeded its grace period');
      process.exit(1);
    }, opts.graceMs);
    timer.unref();
    stop().then(
      () => {
        clearTimeout(timer);
        opts.log.info('stopped');
        opts.log.flush?.();
        process.exitCode = 0;
        // Give pino's async destination a tick to drain, then leave even if a handle lingers.
        setTimeout(() => process.exit(0), 50).unref();
      },
      (err: unknown) => {
        opts.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const s of signals) process.on(s, begin);
}

/**
 * Runs an app's async main: an error during start-up is one clear line on stderr and exit 1
 * (config errors list every bad variable).
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${name}: error ${typeof code === 'string' ? code : 'SWARM_START_FAILED'}: ${message}\n`);
    process.exit(1);
  });
}

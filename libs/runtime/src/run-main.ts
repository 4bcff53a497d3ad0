/**
 * runMain is the only place in the libraries that ends the process (STYLE: libs never call
 * process.exit): apps hand it their async main, which resolves with the exit status once the
 * program is done (a service: when its shutdown has ended).
 */
import { EXIT_BAD_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes';

/** After a clean stop, pino's async destination gets this long to drain before the process leaves. */
const LOG_DRAIN_MS = 50;

/**
 * Runs an app's async main and exits with its status. An error during start-up is one clear line
 * on stderr and exit 1, or EXIT_BAD_CONFIG for invalid configuration (the message lists every bad
 * variable).
 */
export function runMain(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      if (code !== EXIT_OK) process.exit(code);
      // Leave even if a handle lingers, but let the last log lines out first.
      process.exitCode = EXIT_OK;
      setTimeout(() => process.exit(EXIT_OK), LOG_DRAIN_MS).unref();
    },
    (err: unknown) => {
      const code = (err as { code?: unknown }).code;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`${name}: error ${typeof code === 'string' ? code : 'SWARM_START_FAILED'}: ${message}\n`);
      process.exit(code === 'SWARM_BAD_CONFIG' ? EXIT_BAD_CONFIG : EXIT_FAILURE);
    },
  );
}

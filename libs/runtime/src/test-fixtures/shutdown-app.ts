/**
 * A stand-in for a service's main.ts, run as a child process by shutdown.int.spec.ts (from its
 * compiled dist/ file, as services run): it goes through onShutdown under runMain (as services do)
 * or runMain alone, as told on its command line, and says on stdout what its stop did, so the test
 * sees order and outcome.
 *   shutdown-app <resolve|slow|hang|hang-idle|throw> <graceMs>   stop behaviour under onShutdown
 *   shutdown-app main-fails <error code>                        runMain with a failing start
 */
import { createLogger } from '@swarm/telemetry';
import { runMain } from '../run-main';
import { onShutdown } from '../shutdown';

/** How long a `slow` stop takes: well inside the grace the test gives it. */
const SLOW_STOP_MS = 300;

const [mode = '', arg = ''] = process.argv.slice(2);
const say = (line: string) => process.stdout.write(`${line}\n`);

const stops: Record<string, () => Promise<void>> = {
  resolve: async () => undefined,
  slow: () => new Promise((resolve) => setTimeout(resolve, SLOW_STOP_MS)),
  // Waits on something that never comes while a handle (a socket, a timer) keeps the process up.
  hang: () => new Promise(() => setInterval(() => undefined, 1_000)),
  // Waits on a promise nobody settles, with nothing else keeping the event loop alive.
  'hang-idle': () => new Promise(() => undefined),
  throw: () => Promise.reject(new Error('ledger close failed')),
};

if (mode === 'main-fails') {
  const err = new Error("SWARM_GRACE_MS: expected an integer, got 'soon'");
  runMain('shutdown-app', () => Promise.reject(arg ? Object.assign(err, { code: arg }) : err));
} else {
  const stop = stops[mode];
  if (!stop) throw new Error(`unknown mode '${mode}'`);
  const log = createLogger({ service: 'shutdown-app' });
  // Keeps the process up until a signal, as a service's connections would; stop closes it.
  const keepAlive = setInterval(() => undefined, 1_000);
  runMain('shutdown-app', async () => {
    const shutdown = onShutdown({ graceMs: Number(arg), log }, async () => {
      clearInterval(keepAlive);
      say('stop begun');
      await stop();
      say('stop finished');
    });
    say('ready');
    return shutdown.exitCode;
  });
}

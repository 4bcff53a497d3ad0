/**
 * docker-compose's one-shot `bus-init` (see role-key-volumes.ts for what it writes where): the
 * node's keys in the node volume, nats-server's authorization block, and one key volume per
 * service role. The keys and permissions are the ones `swarm up` uses (libs/runtime
 * prepareClosedBus), so both deployments close the bus alike.
 *   node bin/run-ts.js tools/compose/init-bus.ts <node dir> <conf dir> <keys dir>
 */
import { join } from 'node:path';
import { AUTH_CONF_FILE, initComposeBus } from './role-key-volumes';

const USAGE = 'usage: init-bus.ts <node dir> <conf dir> <keys dir> (absolute paths)';
const EXIT_BAD_ARGS = 2;

async function main(args: readonly string[]): Promise<void> {
  const [nodeDir, confDir, keysDir] = args;
  if (args.length !== 3 || !nodeDir || !confDir || !keysDir || !args.every((a) => a.startsWith('/'))) {
    process.stderr.write(`error SWARM_BAD_ARGS: ${USAGE}\n`);
    process.exitCode = EXIT_BAD_ARGS;
    return;
  }
  await initComposeBus({ nodeDir, confDir, keysDir });
  process.stdout.write(`bus keys in ${nodeDir}; nats-server authorization in ${join(confDir, AUTH_CONF_FILE)}; one key volume per service in ${keysDir}\n`);
}

main(process.argv.slice(2)).catch((err: Error & { code?: string }) => {
  // IdentityError carries SWARM_BAD_IDENTITY; a failed file operation keeps its errno and path in the message.
  const code = err.code?.startsWith('SWARM_') ? err.code : err.code ? 'SWARM_OS_ERROR' : 'SWARM_INTERNAL';
  process.stderr.write(`error ${code}: ${err.message}\n`);
  process.exitCode = 1;
});

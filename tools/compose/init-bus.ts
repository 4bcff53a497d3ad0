/**
 * docker-compose's one-shot `bus-init`: creates the node's bus identities in the data volume
 * (`/data/bus/<role>.nk`, 0600) — or keeps the ones there — and writes the authorization block
 * nats-server includes (`<conf dir>/auth.conf`: public keys and permissions only). The same code
 * `swarm up` runs (libs/runtime prepareClosedBus), so both deployments close the bus alike.
 *   node bin/run-ts.js tools/compose/init-bus.ts <data dir> <conf dir>
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareClosedBus } from '@swarm/runtime';

async function main(dataDir: string | undefined, confDir: string | undefined): Promise<void> {
  if (!dataDir || !confDir) throw new Error('usage: init-bus.ts <data dir> <conf dir>');
  const bus = await prepareClosedBus(dataDir);
  // Public keys only: nats-server reads it, nobody learns a seed from it.
  await writeFile(join(confDir, 'auth.conf'), bus.authorization, { mode: 0o644 });
  process.stdout.write(`bus identities in ${join(dataDir, 'bus')}; nats-server authorization in ${join(confDir, 'auth.conf')}\n`);
}

main(process.argv[2], process.argv[3]).catch((err: Error) => {
  process.stderr.write(`error SWARM_BUS_INIT: ${err.message}\n`);
  process.exit(1);
});

/**
 * Watches a node from inside its network namespace (its nats-server listens on that namespace's
 * loopback, out of the test's reach): `ip netns exec <ns> node tools/e2e/dist/node-probe.js …`.
 *
 *   busy <home> <timeout ms>
 *       prints `watching` once connected (as the node's observer), then `busy` as soon as the
 *       node's executor runs a task; exit 1 if none does in time. Polled every few ms: a test cuts
 *       the node's link the moment the line comes.
 *   providers <home> <skill> <node id,node id,…> <timeout ms>
 *       waits until the node's registry, asked as its router asks, lists every node id given as a
 *       provider of the skill; prints the providers as one JSON line; exit 1 with the last answer
 *       if it does not in time.
 */
import { readNodeFile } from '@swarm/node';
import { connectSwarm } from '@swarm/client';
import type { Provider } from '@swarm/contracts';
import { busKeyFile } from '@swarm/identity';
import { runMain } from '@swarm/runtime';
import { registryProbe } from './swarm-processes';

const BUSY_POLL_MS = 20;
const HEALTH_TIMEOUT_MS = 1_000;
const PROVIDERS_POLL_MS = 250;

async function natsUrlOf(home: string): Promise<string> {
  const file = await readNodeFile(home);
  if (!file?.natsUrl) throw new Error(`no running node in ${home}`);
  return file.natsUrl;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function watchBusy(home: string, timeoutMs: number): Promise<number> {
  const client = await connectSwarm(await natsUrlOf(home), { name: 'e2e-node-probe', nkeyFile: busKeyFile(home, 'observer'), role: 'observer' });
  try {
    process.stdout.write('watching\n');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const health = await client.health('executor', HEALTH_TIMEOUT_MS).catch(() => undefined);
      if (Number(health?.details['running'] ?? 0) > 0) {
        process.stdout.write('busy\n');
        return 0;
      }
      await sleep(BUSY_POLL_MS);
    }
    process.stderr.write(`the executor ran no task within ${timeoutMs} ms\n`);
    return 1;
  } finally {
    await client.close();
  }
}

const summary = (providers: readonly Provider[]) =>
  providers.map((p) => ({ nodeId: p.nodeId, endpoint: p.endpoint, local: p.local, rttMs: p.rttMs, expiresAtMs: String(p.expiresAtMs) }));

async function waitProviders(home: string, skill: string, nodeIds: readonly string[], timeoutMs: number): Promise<number> {
  const registry = await registryProbe(await natsUrlOf(home), home);
  try {
    const deadline = Date.now() + timeoutMs;
    let last: Provider[] = [];
    while (Date.now() < deadline) {
      last = await registry.providers(skill).then(
        (r) => r.providers,
        () => last,
      );
      if (nodeIds.every((id) => last.some((p) => p.nodeId === id))) {
        process.stdout.write(`${JSON.stringify(summary(last))}\n`);
        return 0;
      }
      await sleep(PROVIDERS_POLL_MS);
    }
    process.stderr.write(`not every one of ${nodeIds.length} node(s) listed as a provider of ${skill} within ${timeoutMs} ms; last: ${JSON.stringify(summary(last))}\n`);
    return 1;
  } finally {
    await registry.close();
  }
}

runMain('node-probe', async () => {
  const [mode, home, ...rest] = process.argv.slice(2);
  if (mode === 'busy' && home && rest.length === 1) return watchBusy(home, Number(rest[0]));
  if (mode === 'providers' && home && rest.length === 3) return waitProviders(home, rest[0], rest[1].split(','), Number(rest[2]));
  throw new Error('usage: node-probe busy <home> <timeout ms> | providers <home> <skill> <node ids> <timeout ms>');
});

/**
 * Where a running node is found: `--nats URL`, then SWARM_NATS_URL, then the node.json that
 * `swarm up` writes into the node's home (SWARM_HOME, default ~/.swarmharness; @swarm/node keeps
 * that file), the way Ray finds RAY_ADDRESS; and which bus key a command connects with.
 */
import { existsSync } from 'node:fs';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import type { BusRole } from '@swarm/contracts';
import { busKeyFile } from '@swarm/identity';
import { isAlive, readNodeFile, resolveHome } from '@swarm/node';
import { CliError } from './cli-error';

export async function resolveNatsUrl(opts: { nats?: string; dataDir?: string }, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (opts.nats) return opts.nats;
  if (env['SWARM_NATS_URL']) return env['SWARM_NATS_URL'];
  const home = resolveHome(opts.dataDir, env);
  const node = await readNodeFile(home);
  if (node && isAlive(node.pid)) {
    if (node.natsUrl) return node.natsUrl;
    throw new CliError('SWARM_NO_NODE', `the node in ${home} is still starting; try again in a moment`);
  }
  throw new CliError('SWARM_NO_NODE', `no running node found (no --nats, no SWARM_NATS_URL, no live node in ${home}); start one with \`swarm up\``);
}

/**
 * The bus key and role a command connects with. An operator command (`observer`) uses the home's
 * observer key when it can read it; otherwise, and for every client command, SWARM_NATS_NKEY_FILE
 * (a client key) and then the home's client key; none for an open bus.
 */
export function resolveBusKey(opts: { dataDir?: string }, role: BusRole, env: NodeJS.ProcessEnv = process.env): { nkeyFile?: string; role: BusRole } {
  const home = resolveHome(opts.dataDir, env);
  const own = busKeyFile(home, role);
  if (role !== 'client' && existsSync(own)) return { nkeyFile: own, role };
  if (env['SWARM_NATS_NKEY_FILE']) return { nkeyFile: env['SWARM_NATS_NKEY_FILE'], role: 'client' };
  const client = busKeyFile(home, 'client');
  return existsSync(client) ? { nkeyFile: client, role: 'client' } : { role: 'client' };
}

/**
 * A connection to the running node as `role`: `client` (submit and read, nothing else) for every
 * command but the operator's (`observer`: `swarm health`, `swarm ledger --audit`), which fall back
 * to the client key when the observer's is not readable.
 */
export async function connectToNode(opts: { nats?: string; dataDir?: string }, role: BusRole = 'client', env: NodeJS.ProcessEnv = process.env): Promise<SwarmClient> {
  const natsUrl = await resolveNatsUrl(opts, env);
  try {
    return await connectSwarm(natsUrl, resolveBusKey(opts, role, env));
  } catch (err) {
    throw await explainStaleUrl(err, opts, natsUrl, env);
  }
}

/** A node restarted on a new port leaves an old SWARM_NATS_URL behind: say so instead of "start one". */
async function explainStaleUrl(err: unknown, opts: { nats?: string; dataDir?: string }, natsUrl: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  if ((err as { code?: string }).code !== 'SWARM_NO_NODE' || opts.nats || !env['SWARM_NATS_URL']) return err;
  const home = resolveHome(opts.dataDir, env);
  const node = await readNodeFile(home);
  if (!node?.natsUrl || node.natsUrl === natsUrl || !isAlive(node.pid)) return err;
  return new CliError(
    'SWARM_NO_NODE',
    `SWARM_NATS_URL is ${natsUrl}, which does not answer, but the node in ${home} listens on ${node.natsUrl}; unset SWARM_NATS_URL (or export the new URL)`,
  );
}

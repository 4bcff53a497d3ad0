/**
 * Where a running node is found: `--nats URL`, then SWARM_NATS_URL, then the node.json that
 * `swarm up` writes into the node's home (SWARM_HOME, default ~/.swarmharness; @swarm/node keeps
 * that file), the way Ray finds RAY_ADDRESS; and which bus key a command connects with. Node i of
 * a swarm (`swarm up --nodes N`) lives in `<home>/node-<i>`: `--node i` picks it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import type { BusRole } from '@swarm/contracts';
import { busKeyFile } from '@swarm/identity';
import { isAlive, NODE_FILE, readNodeFile, resolveHome, swarmNodeHome } from '@swarm/node';
import { CliError } from './cli-error';

/** How a command names its node: a NATS URL, a home, and which node of a swarm in that home. */
export interface NodeTarget {
  nats?: string;
  dataDir?: string;
  /** Node i (1-based) of `swarm up --nodes N`: home `<data dir>/node-<i>`. */
  node?: number;
}

/**
 * The node's home: `--node i` is `<home>/node-<i>`; without it the home itself, or node 1 of the
 * swarm there when the home holds a swarm and no node of its own (so `swarm submit` right after
 * `swarm up --nodes 3` talks to node 1, where the demo runs).
 */
export function resolveNodeHome(opts: Pick<NodeTarget, 'dataDir' | 'node'>, env: NodeJS.ProcessEnv = process.env): string {
  const base = resolveHome(opts.dataDir, env);
  if (opts.node !== undefined) return swarmNodeHome(base, opts.node);
  const first = swarmNodeHome(base, 1);
  return !existsSync(join(base, NODE_FILE)) && existsSync(join(first, NODE_FILE)) ? first : base;
}

export async function resolveNatsUrl(opts: NodeTarget, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (opts.nats) return opts.nats;
  if (env['SWARM_NATS_URL']) return env['SWARM_NATS_URL'];
  const home = resolveNodeHome(opts, env);
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
export function resolveBusKey(opts: Pick<NodeTarget, 'dataDir' | 'node'>, role: BusRole, env: NodeJS.ProcessEnv = process.env): { nkeyFile?: string; role: BusRole } {
  const home = resolveNodeHome(opts, env);
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
export async function connectToNode(opts: NodeTarget, role: BusRole = 'client', env: NodeJS.ProcessEnv = process.env): Promise<SwarmClient> {
  const natsUrl = await resolveNatsUrl(opts, env);
  try {
    return await connectSwarm(natsUrl, resolveBusKey(opts, role, env));
  } catch (err) {
    throw await explainStaleUrl(err, opts, natsUrl, env);
  }
}

/** A node restarted on a new port leaves an old SWARM_NATS_URL behind: say so instead of "start one". */
async function explainStaleUrl(err: unknown, opts: NodeTarget, natsUrl: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  if ((err as { code?: string }).code !== 'SWARM_NO_NODE' || opts.nats || !env['SWARM_NATS_URL']) return err;
  const home = resolveNodeHome(opts, env);
  const node = await readNodeFile(home);
  if (!node?.natsUrl || node.natsUrl === natsUrl || !isAlive(node.pid)) return err;
  return new CliError(
    'SWARM_NO_NODE',
    `SWARM_NATS_URL is ${natsUrl}, which does not answer, but the node in ${home} listens on ${node.natsUrl}; unset SWARM_NATS_URL (or export the new URL)`,
  );
}

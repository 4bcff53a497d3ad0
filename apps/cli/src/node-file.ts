/**
 * Where a running node is found: `--nats URL`, then SWARM_NATS_URL, then the node.json that
 * `swarm up` writes into the node's home (SWARM_HOME, default ~/.swarmharness), the way Ray finds
 * RAY_ADDRESS.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectSwarm, SwarmClient } from '@swarm/client';
import type { BusRole } from '@swarm/contracts';
import { busKeyFile } from '@swarm/identity';
import { CliError } from './cli-error';
import type { SupervisionReport } from './node-launcher';

export const NODE_FILE = 'node.json';

/** Written by `swarm up` when it starts (natsUrl empty until the node is ready). */
export interface NodeFile {
  natsUrl: string;
  nodeId: string;
  pid: number;
  /** The node's nats-server, so a later `swarm up` can stop it if this launcher was killed. */
  natsPid?: number;
  startedAt: string;
  /** The supervisor's view of nats-server and each service (restarts, last exit, state). */
  supervision?: SupervisionReport;
}

export function resolveHome(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(dataDir ?? env['SWARM_HOME'] ?? join(homedir(), '.swarmharness'));
}

export async function readNodeFile(home: string): Promise<NodeFile | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(home, NODE_FILE), 'utf8')) as NodeFile;
    return typeof parsed.natsUrl === 'string' && Number.isInteger(parsed.pid) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Atomic (temp file + rename): a reader never sees half a document, even mid-update. */
export async function writeNodeFile(home: string, node: NodeFile): Promise<void> {
  const tmp = join(home, `${NODE_FILE}.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(node, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, join(home, NODE_FILE));
}

/**
 * Claims the home for this process: create-exclusive, so of two `swarm up` started at once only
 * one gets it. A file left by a launcher that died is replaced, and its nats-server stopped.
 */
export async function claimNodeFile(home: string): Promise<void> {
  const path = join(home, NODE_FILE);
  const mine: NodeFile = { natsUrl: '', nodeId: '', pid: process.pid, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${JSON.stringify(mine, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const existing = await readNodeFile(home);
    if (existing && isAlive(existing.pid)) {
      throw new CliError('SWARM_NODE_RUNNING', `a node already runs from ${home} (pid ${existing.pid}${existing.natsUrl ? `, ${existing.natsUrl}` : ', starting'}); stop it first or use --data-dir`);
    }
    if (existing?.natsPid && isAlive(existing.natsPid)) process.kill(existing.natsPid, 'SIGTERM');
    await rm(path, { force: true });
  }
  throw new CliError('SWARM_NODE_RUNNING', `another \`swarm up\` is claiming ${home}`);
}

export async function removeNodeFile(home: string): Promise<void> {
  await rm(join(home, NODE_FILE), { force: true });
}

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
  return new CliError('SWARM_NO_NODE', `SWARM_NATS_URL is ${natsUrl}, which does not answer, but the node in ${home} listens on ${node.natsUrl}; unset SWARM_NATS_URL (or export the new URL)`);
}

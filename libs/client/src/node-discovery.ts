/**
 * Where a running node is found, for the CLI and any program: its NATS URL from `nats`, then
 * SWARM_NATS_URL, then the node.json that `swarm up` writes into the node's home (SWARM_HOME,
 * default ~/.swarmharness), the way Ray finds RAY_ADDRESS; its agent HTTP API from `apiUrl`, then
 * SWARM_API_URL, then node.json's httpAddress; and which bus key to connect with. Node i of a swarm
 * (`swarm up --nodes N`) lives in `<home>/node-<i>`.
 *
 * node.json is written by @swarm/node (which builds on this library, so it cannot be imported
 * here): only the fields read below are relied on.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BusRole } from '@swarm/contracts';
import { busKeyFile } from '@swarm/identity';
import type { SwarmClient } from './swarm-client';
import { connectSwarm, NodeUnreachableError, shownNatsUrl } from './swarm-client';

export const NODE_FILE = 'node.json';

/** How a program names its node: a NATS URL or API URL, a home, and which node of a swarm in that home. */
export interface NodeTarget {
  nats?: string;
  /** The agent HTTP API, e.g. http://127.0.0.1:8080. */
  apiUrl?: string;
  dataDir?: string;
  /** Node i (1-based) of `swarm up --nodes N`: home `<data dir>/node-<i>`. */
  node?: number;
}

/** What a running node announces in its node.json. */
export interface NodeAnnouncement {
  readonly natsUrl: string;
  readonly pid: number;
  readonly nodeId?: string;
  /** host:port of the agent HTTP API, once the node is ready. */
  readonly httpAddress?: string;
}

/** `dataDir`, then SWARM_HOME, then ~/.swarmharness. */
export function resolveHome(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(dataDir ?? env['SWARM_HOME'] ?? join(homedir(), '.swarmharness'));
}

export function swarmNodeHome(base: string, node: number): string {
  return join(base, `node-${node}`);
}

export async function readNodeAnnouncement(home: string): Promise<NodeAnnouncement | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(home, NODE_FILE), 'utf8')) as Partial<NodeAnnouncement>;
    if (typeof parsed.natsUrl !== 'string' || !Number.isInteger(parsed.pid)) return undefined;
    return {
      natsUrl: parsed.natsUrl,
      pid: parsed.pid as number,
      ...(typeof parsed.nodeId === 'string' ? { nodeId: parsed.nodeId } : {}),
      ...(typeof parsed.httpAddress === 'string' && parsed.httpAddress !== '' ? { httpAddress: parsed.httpAddress } : {}),
    };
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The node's home: `node: i` is `<home>/node-<i>`; without it the home itself, or node 1 of the
 * swarm there when the home holds a swarm and no node of its own (so a command right after
 * `swarm up --nodes 3` talks to node 1, where the demo runs).
 */
export function resolveNodeHome(opts: Pick<NodeTarget, 'dataDir' | 'node'>, env: NodeJS.ProcessEnv = process.env): string {
  const base = resolveHome(opts.dataDir, env);
  if (opts.node !== undefined) return swarmNodeHome(base, opts.node);
  const first = swarmNodeHome(base, 1);
  return !existsSync(join(base, NODE_FILE)) && existsSync(join(first, NODE_FILE)) ? first : base;
}

/** The live node in the home, or why there is none (and, for `--node i`, which nodes of that swarm run). */
async function liveNode(opts: NodeTarget, env: NodeJS.ProcessEnv, flags: string): Promise<NodeAnnouncement> {
  const home = resolveNodeHome(opts, env);
  const node = await liveAnnouncement(home);
  if (node) return node;
  const running = opts.node === undefined ? [] : await liveSwarmNodes(resolveHome(opts.dataDir, env));
  const others = running.length === 0 ? '' : `; this swarm runs ${running.length === 1 ? 'node' : 'nodes'} ${running.join(', ')}`;
  throw new NodeUnreachableError(`no running node found (${flags}, no live node in ${home})${others}; start one with \`swarm up\``);
}

/** The nodes of the swarm in `base` (its `node-<i>` homes) whose node.json names a live process. */
async function liveSwarmNodes(base: string): Promise<number[]> {
  const names = await readdir(base).catch(() => [] as string[]);
  const live: number[] = [];
  for (const i of names
    .map((name) => /^node-(\d{1,3})$/.exec(name)?.[1])
    .filter((n) => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b)) {
    if (await liveAnnouncement(swarmNodeHome(base, i))) live.push(i);
  }
  return live;
}

/** The home's node.json when the process it names is alive. */
async function liveAnnouncement(home: string): Promise<NodeAnnouncement | undefined> {
  const node = await readNodeAnnouncement(home);
  return node && isProcessAlive(node.pid) ? node : undefined;
}

export async function resolveNatsUrl(opts: NodeTarget, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (opts.nats) return opts.nats;
  // Node i of the swarm is asked for by name: a SWARM_NATS_URL exported for another node must not win.
  if (opts.node === undefined && env['SWARM_NATS_URL']) return env['SWARM_NATS_URL'];
  const node = await liveNode(opts, env, 'no --nats, no SWARM_NATS_URL');
  if (node.natsUrl) return node.natsUrl;
  throw new NodeUnreachableError(`the node in ${resolveNodeHome(opts, env)} is still starting; try again in a moment`);
}

/** `host:port` or a URL as an http(s) base URL without a trailing slash. */
export function apiBaseUrl(address: string): string {
  const url = /^https?:\/\//i.test(address) ? address : `http://${address}`;
  return url.replace(/\/+$/, '');
}

/** The agent HTTP API of the node: `apiUrl`, then SWARM_API_URL, then the live node's httpAddress. */
export async function resolveApiUrl(opts: NodeTarget, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (opts.apiUrl) return apiBaseUrl(opts.apiUrl);
  if (opts.node === undefined && env['SWARM_API_URL']) return apiBaseUrl(env['SWARM_API_URL']);
  const node = await liveNode(opts, env, 'no SWARM_API_URL');
  if (node.httpAddress) return apiBaseUrl(node.httpAddress);
  throw new NodeUnreachableError(`the node in ${resolveNodeHome(opts, env)} has no agent HTTP API address yet (still starting, or an older node); set SWARM_API_URL`);
}

/**
 * The bus key and role to connect with. An operator command (`observer`) uses the home's observer
 * key when it can read it; otherwise, and for every client, SWARM_NATS_NKEY_FILE (a client key)
 * and then the home's client key; none for an open bus.
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
 * A connection to the running node's bus as `role`: `client` (submit and read, nothing else) unless
 * an operator tool asks for `observer`, which falls back to the client key when it cannot read its own.
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
  if (!(err instanceof NodeUnreachableError) || opts.nats || opts.node !== undefined || !env['SWARM_NATS_URL']) return err;
  const home = resolveNodeHome(opts, env);
  const node = await readNodeAnnouncement(home);
  if (!node?.natsUrl || node.natsUrl === natsUrl || !isProcessAlive(node.pid)) return err;
  return new NodeUnreachableError(
    `SWARM_NATS_URL is ${shownNatsUrl(natsUrl)}, which does not answer, but the node in ${home} listens on ${node.natsUrl}; unset SWARM_NATS_URL (or export the new URL)`,
  );
}

/**
 * `<home>/node.json`: a running node announces itself there (its NATS URL, its launcher's pid, its
 * nats-server's pid, its peer address and the supervision report), so commands find it the way Ray finds RAY_ADDRESS,
 * and a second launcher on the same home is refused.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive, NODE_FILE } from '@swarm/client';
import { NodeError } from './node-error';
import type { SupervisionReport } from './supervision';

// Where a node's home is and how node.json is named are the SDK's (node discovery, @swarm/client),
// which reads what this module writes; the launcher uses the same.
export { NODE_FILE, resolveHome, swarmNodeHome, isProcessAlive as isAlive } from '@swarm/client';

/** Written when a node starts (natsUrl empty until the node is ready). */
export interface NodeFile {
  natsUrl: string;
  nodeId: string;
  pid: number;
  /** The node's nats-server, so a later launcher can stop it if this one was killed. */
  natsPid?: number;
  startedAt: string;
  /** host:port the node's gateway tells peers to dial (written when ready). */
  gatewayAddress?: string;
  /** `<node id>@host:port`: a seed for another node joining the swarm through this one. */
  peerAddress?: string;
  /** host:port of the agents' HTTP API (api-svc), written when ready. */
  httpAddress?: string;
  /** The supervisor's view of nats-server and each service (restarts, last exit, state). */
  supervision?: SupervisionReport;
}

export async function readNodeFile(home: string): Promise<NodeFile | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(home, NODE_FILE), 'utf8')) as NodeFile;
    return typeof parsed.natsUrl === 'string' && Number.isInteger(parsed.pid) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

let writes = 0;

/** Atomic (temp file + rename): a reader never sees half a document, even mid-update. */
export async function writeNodeFile(home: string, node: NodeFile): Promise<void> {
  // A temp file of its own per write: two writes sharing one would race to rename it.
  const tmp = join(home, `${NODE_FILE}.${process.pid}.${++writes}.tmp`);
  try {
    await writeFile(tmp, `${JSON.stringify(node, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, join(home, NODE_FILE));
  } catch (err) {
    // A full disk must not also fill the home with one orphan per supervision report.
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Claims the home for this process: create-exclusive, so of two launchers started at once only
 * one gets it. A file left by a launcher that died is replaced, and its nats-server stopped.
 */
export async function claimNodeFile(home: string, startedAt: string): Promise<void> {
  const path = join(home, NODE_FILE);
  const mine: NodeFile = { natsUrl: '', nodeId: '', pid: process.pid, startedAt };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${JSON.stringify(mine, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const existing = await readNodeFile(home);
    if (existing && isProcessAlive(existing.pid)) throw runningNodeError(home, existing);
    if (existing?.natsPid && isProcessAlive(existing.natsPid)) process.kill(existing.natsPid, 'SIGTERM');
    await rm(path, { force: true });
  }
  throw new NodeError('SWARM_NODE_RUNNING', `another \`swarm up\` is claiming ${home}`);
}

/** SWARM_NODE_RUNNING when a live process holds `home`'s node.json: said before a start is announced (claimNodeFile checks again). */
export async function refuseRunningNode(home: string): Promise<void> {
  const existing = await readNodeFile(home);
  if (existing && isProcessAlive(existing.pid)) throw runningNodeError(home, existing);
}

function runningNodeError(home: string, existing: NodeFile): NodeError {
  return new NodeError(
    'SWARM_NODE_RUNNING',
    `a node already runs from ${home} (pid ${existing.pid}${existing.natsUrl ? `, ${existing.natsUrl}` : ', starting'}); stop it first or use --data-dir`,
  );
}

export async function removeNodeFile(home: string): Promise<void> {
  await rm(join(home, NODE_FILE), { force: true });
}

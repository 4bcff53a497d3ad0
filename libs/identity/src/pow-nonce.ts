/**
 * The node's proof-of-work nonce (libs/records), found once and kept beside the key in
 * `<dataDir>/node-pow.json`, so restarts cost nothing and the node id never changes. A file for
 * another key, another difficulty (lower or higher) or a damaged one is replaced by a fresh search.
 * The search is deterministic (the first nonce from 0), so services starting together find and write
 * the same nonce, and a node's DHT id (which derives from it) is what its seeds' joiners compute from
 * its node id at the swarm's difficulty (apps/registry-svc swarm-dht.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findPowNonce, hasProofOfWork } from '@swarm/records';

export const POW_FILE = 'node-pow.json';

interface PowFile {
  readonly nodeId: string;
  readonly difficulty: number;
  /** Decimal: a uint64 does not fit a JSON number. */
  readonly nonce: string;
}

export async function loadOrCreatePowNonce(dataDir: string, nodeId: string, difficulty: number): Promise<bigint> {
  const path = join(dataDir, POW_FILE);
  const kept = await readKept(path, nodeId, difficulty);
  if (kept !== undefined) return kept;
  const nonce = findPowNonce(nodeId, difficulty);
  await writeAtomically(path, `${JSON.stringify({ nodeId, difficulty, nonce: nonce.toString() } satisfies PowFile)}\n`);
  return nonce;
}

async function readKept(path: string, nodeId: string, difficulty: number): Promise<bigint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const kept = JSON.parse(text) as Partial<PowFile>;
    if (kept.nodeId !== nodeId || kept.difficulty !== difficulty || typeof kept.nonce !== 'string' || !/^[0-9]{1,20}$/.test(kept.nonce)) return undefined;
    const nonce = BigInt(kept.nonce);
    return hasProofOfWork(nodeId, nonce, difficulty) ? nonce : undefined;
  } catch {
    return undefined; // damaged: search again
  }
}

async function writeAtomically(path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, { mode: 0o600 });
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Keeping the proof of a fork found by `swarm ledger`: `<data-dir>/chain-evidence/<node id>-<seq>.forkproof`
 * holds the encoded ForkProof (docs/chain.md), which anyone can check with verifyForkProof. A file
 * is written whole (under a temporary name, synced, then hard-linked, which fails if the name is
 * taken) and never replaced: the same proof again is already kept, and a different proof of the
 * same fork (another pair of blocks) goes beside the first as `<node id>-<seq>-2.forkproof`, ….
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeForkProof, verifyForkProof } from '@swarm/chain';
import type { ForkProof } from '@swarm/contracts';
import { CliError } from '../cli-error';

/** The folder of the node's home that holds the proofs. */
export const EVIDENCE_DIR = 'chain-evidence';
/** Different proofs kept of one node's fork at one seq; one convicts it, more only fill the disk. */
export const MAX_PROOFS_PER_FORK = 16;

/** Writes the proof into `dir` (created if need be) and answers the file that holds it. */
export async function keepForkProof(dir: string, proof: ForkProof): Promise<string> {
  // The proof names the node: its id is checked 64-hex before it becomes part of a file name.
  const { nodeId, seq } = verifyForkProof(proof);
  const bytes = encodeForkProof(proof);
  await mkdir(dir, { recursive: true });
  for (let i = 1; i <= MAX_PROOFS_PER_FORK; i++) {
    const file = join(dir, `${nodeId}-${seq}${i === 1 ? '' : `-${i}`}.forkproof`);
    if (await holdsOrPlaced(file, bytes)) return file;
  }
  throw new CliError('SWARM_OS_ERROR', `${dir} already holds ${MAX_PROOFS_PER_FORK} different proofs of the fork of ${nodeId} at seq ${seq}; this one was not kept`);
}

/** True when `file` now holds `bytes`: placed there now, or already there; false when it holds something else. */
async function holdsOrPlaced(file: string, bytes: Uint8Array): Promise<boolean> {
  const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return (await stat(file)).size === bytes.length && Buffer.from(bytes).equals(await readFile(file));
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * Keeping the proof of a fork found by `swarm ledger`: `<data-dir>/chain-evidence/<node id>-<seq>.forkproof`
 * holds the encoded ForkProof (docs/chain.md), which anyone can check with verifyForkProof. A file
 * is written whole and never replaced (@swarm/identity's writeFileOnce): the same proof again is
 * already kept, and a different proof of the same fork (another pair of blocks) goes beside the
 * first as `<node id>-<seq>-2.forkproof`, ….
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeForkProof, sameBytes, verifyForkProof } from '@swarm/chain';
import type { ForkProof } from '@swarm/contracts';
import { writeFileOnce } from '@swarm/identity';
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
  const once = await writeFileOnce(file, bytes);
  return once.written || sameBytes(bytes, once.content);
}

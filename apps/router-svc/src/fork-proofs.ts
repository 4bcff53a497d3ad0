/**
 * The fork proofs the router keeps (issue 14: "the node is marked untrusted and the proof is kept"):
 * `<data-dir>/router/fork-proofs/<node id>-<seq>.forkproof`, each the encoded ForkProof that
 * convicted the node (docs/chain.md "Fork proofs"), checkable by anyone with verifyForkProof.
 *
 * A file is written whole and never replaced (@swarm/identity's writeFileOnce: a temporary file,
 * synced, hard-linked to its name, the directory synced). So a crash leaves the proof or nothing,
 * and one node and seq keep the first proof reported (another pair of blocks proving the same fork
 * adds nothing). At each start every file is read and verified again, so a mark survives
 * restarts and a file altered on disk convicts nobody.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ForkEvidence } from '@swarm/chain';
import { MAX_FORK_PROOF_BYTES, sameBytes, verifyForkProof } from '@swarm/chain';
import { writeFileOnce } from '@swarm/identity';
import type { Logger } from '@swarm/telemetry';

/** Under the node's data dir: the router's own folder. */
export const FORK_PROOFS_DIR = join('router', 'fork-proofs');
const PROOF_FILE = /^([0-9a-f]{64})-(\d{1,20})\.forkproof$/;
const TEMPORARY_FILE = /\.forkproof\.\d+-[0-9a-f]{8}\.tmp$/;

/** 'kept' now; 'already-kept' the same bytes were there; 'other-kept' another proof of this fork was. */
export type KeepOutcome = 'kept' | 'already-kept' | 'other-kept';

/** Writes `bytes` (a proof verified as `evidence`) into `dir`, creating it if need be. */
export async function keepForkProof(dir: string, evidence: ForkEvidence, bytes: Uint8Array): Promise<KeepOutcome> {
  // verifyForkProof checked the node id (the hash of the block's key), so it is 64 hex here.
  await mkdir(dir, { recursive: true });
  const once = await writeFileOnce(join(dir, `${evidence.nodeId}-${evidence.seq}.forkproof`), bytes);
  if (once.written) return 'kept';
  return sameBytes(bytes, once.content) ? 'already-kept' : 'other-kept';
}

export interface LoadedProofs {
  /** The nodes and seqs the kept proofs convict, each verified again. */
  readonly convicted: ForkEvidence[];
  /** Files that were not a proof of what their name says (logged, left in place). */
  readonly skipped: number;
}

/**
 * Every proof kept in `dir` (none when it does not exist), at most `max` of them (beyond: logged,
 * not read). Temporary files a crash left behind are removed.
 */
export async function loadForkProofs(dir: string, log: Logger, max: number): Promise<LoadedProofs> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { convicted: [], skipped: 0 };
    throw err;
  }
  const convicted: ForkEvidence[] = [];
  let skipped = 0;
  for (const name of names.sort()) {
    const file = join(dir, name);
    if (TEMPORARY_FILE.test(name)) {
      await rm(file, { force: true });
      continue;
    }
    if (convicted.length >= max) {
      log.warn({ dir, max }, 'more kept fork proofs than untrusted marks the router holds; the rest were not read');
      break;
    }
    const why = await proofProblem(file, name, convicted);
    if (why !== undefined) {
      skipped += 1;
      log.warn({ file: name.slice(0, 120), why }, 'skipping a file among the kept fork proofs');
    }
  }
  return { convicted, skipped };
}

/** Reads one file into `convicted`; what is wrong with it otherwise. */
async function proofProblem(file: string, name: string, convicted: ForkEvidence[]): Promise<string | undefined> {
  const named = PROOF_FILE.exec(name);
  if (!named) return 'not named <node id>-<seq>.forkproof';
  try {
    const { size } = await stat(file);
    if (size > MAX_FORK_PROOF_BYTES) return `${size} bytes, more than a fork proof holds (${MAX_FORK_PROOF_BYTES})`;
    const evidence = verifyForkProof(new Uint8Array(await readFile(file)));
    if (evidence.nodeId !== named[1] || String(evidence.seq) !== named[2])
      return `the proof convicts ${evidence.nodeId.slice(0, 12)} at seq ${evidence.seq}, not what its name says`;
    convicted.push(evidence);
    return undefined;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).slice(0, 300);
  }
}

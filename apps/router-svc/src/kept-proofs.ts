/**
 * The proofs of misbehaviour the router keeps (issue 14: "the node is marked untrusted and the proof
 * is kept"), each kind in its own folder under the router's, one file per proof, named for what it
 * proves and checkable by anyone:
 * - fork proofs, `router/fork-proofs/<node id>-<seq>.forkproof` (docs/chain.md "Fork proofs");
 * - void breach proofs, `router/void-breach-proofs/<node id>-<receipt digest>.voidbreach`
 *   (docs/chain.md "Voids").
 *
 * A file is written whole and never replaced (@swarm/identity's writeFileOnce: a temporary file,
 * synced, hard-linked to its name, the directory synced). So a crash leaves the proof or nothing,
 * and one name keeps the first proof reported (another proof of the same thing adds nothing). At
 * each start every file is read and verified again, so a mark survives restarts and a file altered
 * on disk convicts nobody.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ForkEvidence, VoidBreachEvidence } from '@swarm/chain';
import { MAX_FORK_PROOF_BYTES, MAX_VOID_BREACH_PROOF_BYTES, sameBytes, verifyForkProof, verifyVoidBreachProof } from '@swarm/chain';
import { writeFileOnce } from '@swarm/identity';
import type { Logger } from '@swarm/telemetry';

/** One kind of proof: where it is kept, how it is checked, and the name each proof is kept under. */
export interface ProofKind<E extends { readonly nodeId: string }> {
  /** Under the node's data dir. */
  readonly dir: string;
  /** The file name's ending. */
  readonly extension: string;
  /** What they are called in logs: 'fork proofs'. */
  readonly label: string;
  /** How a file is named, said when one is not. */
  readonly nameForm: string;
  readonly maxBytes: number;
  /** Throws when the bytes prove nothing. */
  verify(bytes: Uint8Array): E;
  /** What follows `<node id>-` in the file name: names one thing proven (a seq, a receipt). */
  nameOf(evidence: E): string;
  /** The part of a file name after `<node id>-`, before the extension. */
  readonly namePattern: string;
}

export const FORK_PROOFS: ProofKind<ForkEvidence> = {
  dir: join('router', 'fork-proofs'),
  extension: 'forkproof',
  label: 'fork proofs',
  nameForm: '<node id>-<seq>.forkproof',
  maxBytes: MAX_FORK_PROOF_BYTES,
  verify: (bytes) => verifyForkProof(bytes),
  nameOf: (e) => String(e.seq),
  namePattern: '\\d{1,20}',
};

export const VOID_BREACH_PROOFS: ProofKind<VoidBreachEvidence> = {
  dir: join('router', 'void-breach-proofs'),
  extension: 'voidbreach',
  label: 'void breach proofs',
  nameForm: '<node id>-<receipt digest>.voidbreach',
  maxBytes: MAX_VOID_BREACH_PROOF_BYTES,
  verify: (bytes) => verifyVoidBreachProof(bytes),
  nameOf: (e) => e.receiptDigest,
  namePattern: '[0-9a-f]{64}',
};

/** 'kept' now; 'already-kept' the same bytes were there; 'other-kept' another proof of the same thing was. */
export type KeepOutcome = 'kept' | 'already-kept' | 'other-kept';

/** Writes `bytes` (a proof verified as `evidence`) into `dir`, creating it if need be. */
export async function keepProof<E extends { readonly nodeId: string }>(kind: ProofKind<E>, dir: string, evidence: E, bytes: Uint8Array): Promise<KeepOutcome> {
  // The proof was verified: its node id is the hash of a key (64 hex), its name part a number or a digest.
  await mkdir(dir, { recursive: true });
  const once = await writeFileOnce(join(dir, fileNameOf(kind, evidence)), bytes);
  if (once.written) return 'kept';
  return sameBytes(bytes, once.content) ? 'already-kept' : 'other-kept';
}

export function fileNameOf<E extends { readonly nodeId: string }>(kind: ProofKind<E>, evidence: E): string {
  return `${evidence.nodeId}-${kind.nameOf(evidence)}.${kind.extension}`;
}

export interface LoadedProofs<E> {
  /** What the kept proofs prove, each verified again. */
  readonly convicted: E[];
  /** Files that were not a proof of what their name says (logged, left in place). */
  readonly skipped: number;
}

/**
 * Every proof of `kind` kept in `dir` (none when it does not exist), until they convict `max` nodes
 * (beyond: logged, not read). Temporary files a crash left behind are removed.
 */
export async function loadProofs<E extends { readonly nodeId: string }>(kind: ProofKind<E>, dir: string, log: Logger, max: number): Promise<LoadedProofs<E>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { convicted: [], skipped: 0 };
    throw err;
  }
  const proofFile = new RegExp(`^([0-9a-f]{64})-(${kind.namePattern})\\.${kind.extension}$`);
  const temporaryFile = new RegExp(`\\.${kind.extension}\\.\\d+-[0-9a-f]{8}\\.tmp$`);
  const convicted: E[] = [];
  // The bound is on nodes, as the trust book's: many proofs against one node count once.
  const nodes = new Set<string>();
  let skipped = 0;
  for (const name of names.sort()) {
    const file = join(dir, name);
    if (temporaryFile.test(name)) {
      await rm(file, { force: true });
      continue;
    }
    const named = proofFile.exec(name);
    if (nodes.size >= max && !(named && nodes.has(named[1]))) {
      log.warn({ dir, max }, `more kept ${kind.label} than untrusted marks the router holds; the rest were not read`);
      break;
    }
    const why = await proofProblem(kind, file, named, convicted);
    if (why === undefined) nodes.add(convicted[convicted.length - 1].nodeId);
    else {
      skipped += 1;
      log.warn({ file: name.slice(0, 160), why }, `skipping a file among the kept ${kind.label}`);
    }
  }
  return { convicted, skipped };
}

/** Reads one file into `convicted`; what is wrong with it otherwise. */
async function proofProblem<E extends { readonly nodeId: string }>(kind: ProofKind<E>, file: string, named: RegExpExecArray | null, convicted: E[]): Promise<string | undefined> {
  if (!named) return `not named ${kind.nameForm}`;
  try {
    const { size } = await stat(file);
    if (size > kind.maxBytes) return `${size} bytes, more than one of the ${kind.label} holds (${kind.maxBytes})`;
    const evidence = kind.verify(new Uint8Array(await readFile(file)));
    if (evidence.nodeId !== named[1] || kind.nameOf(evidence) !== named[2])
      return `the proof convicts ${evidence.nodeId.slice(0, 12)} (${kind.nameOf(evidence).slice(0, 20)}), not what its name says`;
    convicted.push(evidence);
    return undefined;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).slice(0, 300);
  }
}

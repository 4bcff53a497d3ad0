/**
 * Equivocation: a node that signs two different blocks with one seq has shown two versions of its
 * history to different peers. Either block alone is fine; the pair is proof anyone can check, and a
 * peer that holds a verified one marks the node untrusted and keeps the proof. So is a block and
 * the one it signed with the next seq naming another block before it (a broken link): that names a
 * second block of the first's seq, which the node signed too (its next block's hash says so),
 * whether or not it ever shows it. Honest software signs neither pair.
 */
import type { ForkProof } from '@swarm/contracts';
import { ForkProof as ForkProofCodec, SignedBlock } from '@swarm/contracts';
import { openSignedBlock } from './block';
import { ChainRefusal } from './chain-refusal';
import { short } from './chain-rules';
import { sameBytes, sha256 } from './signing';
import { MAX_SIGNED_BLOCK_BYTES } from './block';

export const MAX_FORK_PROOF_BYTES = 2 * MAX_SIGNED_BLOCK_BYTES + 16;

export interface ForkEvidence {
  readonly nodeId: string;
  readonly seq: bigint;
}

/**
 * A fork proof from two encoded SignedBlocks when they are one: both validly signed by the same
 * node, and either of one seq with different bytes, or `b` of the seq after `a`'s with a prev_hash
 * that is not `a`'s hash. Undefined when they are not (the same block, a block and the one after
 * it, other seqs or nodes); a ChainRefusal when either block is not validly signed.
 */
export function forkProofOf(a: Uint8Array, b: Uint8Array): ForkProof | undefined {
  const first = openSignedBlock(a);
  const second = openSignedBlock(b);
  if (first.block.nodeId !== second.block.nodeId) return undefined;
  const sameSeq = first.block.seq === second.block.seq && !sameBytes(first.signed.block, second.signed.block);
  return sameSeq || brokenLink(first, second) ? { first: first.signed, second: second.signed } : undefined;
}

/** forkProofOf, but undefined (rather than a ChainRefusal) when either block does not open: for callers that refuse such blocks for what they are. */
export function provenFork(a: Uint8Array, b: Uint8Array): ForkProof | undefined {
  try {
    return forkProofOf(a, b);
  } catch {
    return undefined;
  }
}

/** Whether `second` has the seq after `first`'s yet names another block before it. */
function brokenLink(first: ReturnType<typeof openSignedBlock>, second: ReturnType<typeof openSignedBlock>): boolean {
  return second.block.seq === first.block.seq + 1n && !sameBytes(second.block.prevHash, sha256(first.signed.block));
}

/** Checks a fork proof (a decoded one, or its encoding from the wire) and says whom it convicts. Throws a ChainRefusal. */
export function verifyForkProof(proof: ForkProof | Uint8Array): ForkEvidence {
  // Judged as its encoding, as it is kept: a proof passes or fails alike off the wire and from a file.
  const decoded = decodeForkProof(proof instanceof Uint8Array ? proof : encodeForkProof(proof));
  if (decoded.first === undefined || decoded.second === undefined) throw new ChainRefusal('not-a-fork', 'a fork proof needs two blocks');
  const first = openSignedBlock(SignedBlock.encode(decoded.first).finish());
  const second = openSignedBlock(SignedBlock.encode(decoded.second).finish());
  if (first.block.nodeId !== second.block.nodeId) throw new ChainRefusal('not-a-fork', `blocks of two nodes, ${short(first.block.nodeId)} and ${short(second.block.nodeId)}`);
  // The seq convicted: the one with two blocks (the first's, in a broken link).
  if (brokenLink(first, second)) return { nodeId: first.block.nodeId, seq: first.block.seq };
  if (first.block.seq !== second.block.seq) {
    throw new ChainRefusal(
      'not-a-fork',
      `blocks with seqs ${first.block.seq} and ${second.block.seq}${second.block.seq === first.block.seq + 1n ? ', the second going on from the first' : ''}`,
    );
  }
  if (sameBytes(first.signed.block, second.signed.block)) throw new ChainRefusal('not-a-fork', `the same block ${first.block.seq} twice`);
  return { nodeId: first.block.nodeId, seq: first.block.seq };
}

export function encodeForkProof(proof: ForkProof): Uint8Array {
  return ForkProofCodec.encode(proof).finish();
}

function decodeForkProof(bytes: Uint8Array): ForkProof {
  if (bytes.length > MAX_FORK_PROOF_BYTES) throw new ChainRefusal('oversized', `a fork proof of ${bytes.length} bytes, limit ${MAX_FORK_PROOF_BYTES}`);
  try {
    return ForkProofCodec.decode(bytes);
  } catch {
    throw new ChainRefusal('malformed', `${bytes.length} bytes that are not a protobuf ForkProof`);
  }
}

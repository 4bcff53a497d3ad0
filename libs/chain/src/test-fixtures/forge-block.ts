/**
 * For tests: blocks a node signs without the chain rules (what a cheating or broken node could
 * send), made by editing a valid block or linking a new one to a head, signed with the node's key.
 */
import type { ChainBlock } from '@swarm/contracts';
import { BlockKind, ChainBlock as ChainBlockCodec, SignedBlock } from '@swarm/contracts';
import { encodeBlock, signBlock, signedBlockHash } from '../block';
import type { ChainHead } from '../chain-state';
import type { ChainSigner } from '../signing';

export function blockOf(signedBlockBytes: Uint8Array): ChainBlock {
  return ChainBlockCodec.decode(SignedBlock.decode(signedBlockBytes).block);
}

/** `signedBlockBytes` edited by `edit` and signed again by `signer`. */
export function forged(signedBlockBytes: Uint8Array, signer: ChainSigner, edit: (block: ChainBlock) => void): Uint8Array {
  const block = blockOf(signedBlockBytes);
  edit(block);
  return signBlock(encodeBlock(block).blockBytes, signer);
}

/** A block of `fields` linked to `head` (next seq, its hash), signed by `signer` with no rule checked. */
export function linkedBlock(head: ChainHead, signer: ChainSigner, fields: Partial<ChainBlock>): Uint8Array {
  const block: ChainBlock = {
    nodeId: head.nodeId,
    publicKey: head.publicKey,
    seq: head.seq + 1n,
    prevHash: head.hash,
    kind: BlockKind.BLOCK_KIND_BURN,
    amount: 1n,
    atMs: head.atMs,
    ...fields,
  };
  return signBlock(encodeBlock(block).blockBytes, signer);
}

/** The hash the next block links to. */
export function hashOf(signedBlockBytes: Uint8Array): Uint8Array {
  return signedBlockHash(signedBlockBytes);
}

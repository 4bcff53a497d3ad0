/**
 * One block on its own: decode, check the signature and the fields that need no chain state
 * (including the receipt it carries), and encode and sign a new one. Chain state — seq, hash
 * links, balances, burns — is chain-state.ts's.
 */
import type { Receipt } from '@swarm/contracts';
import { BlockKind, CHAIN_OFFER_MAX_BLOCKS, ChainBlock, ErrorCode, SignedBlock, SwarmError } from '@swarm/contracts';
import { nodeIdOfKey } from '@swarm/records';
import { ChainRefusal, ReceiptRefusal } from './chain-refusal';
import { MAX_AT_MS, MAX_UINT64, short } from './chain-rules';
import { MAX_SIGNED_RECEIPT_BYTES, verifyReceipt } from './receipt';
import type { ChainSigner } from './signing';
import type { SignatureCheck } from './signing';
import { MAX_SIGNED_VOID_BYTES, verifyVoid } from './void';
import { blockSigningBytes, checkSignature, HASH_BYTES, hex, NODE_ID, PUBLIC_KEY_BYTES, sameBytes, sha256, SIGNATURE_BYTES } from './signing';

/** A RELEASE block is the largest: the countersigned void (a receipt and three signatures) plus ids, key, hash and signature. */
export const MAX_SIGNED_BLOCK_BYTES = Math.max(MAX_SIGNED_RECEIPT_BYTES, MAX_SIGNED_VOID_BYTES) + 512;
/** A ChainOffer at its largest: CHAIN_OFFER_MAX_BLOCKS blocks, each with its field's tag and length, and the seq. */
export const MAX_CHAIN_OFFER_BYTES = CHAIN_OFFER_MAX_BLOCKS * (MAX_SIGNED_BLOCK_BYTES + 8) + 16;
/** prev_hash of block 1. */
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_BYTES);

/** A block whose signature and stateless fields are checked. */
export interface OpenedBlock {
  /** The SignedBlock as stored and sent. */
  readonly bytes: Uint8Array;
  readonly block: ChainBlock;
  /** sha256 of the signed ChainBlock bytes: the next block's prev_hash. */
  readonly hash: Uint8Array;
  /**
   * Every kind but GENESIS and BURN: the receipt, verified (countersigned for RECEIPT_OUT and
   * RECEIPT_IN, the payer's signature for PLEDGE, the void's two signatures for RELEASE).
   */
  readonly receipt?: Receipt;
  /** With `receipt`: hex sha256 of the receipt bytes, the same in every block that holds that receipt. */
  readonly receiptDigest?: string;
}

export function isReceiptKind(kind: BlockKind): kind is BlockKind.BLOCK_KIND_RECEIPT_OUT | BlockKind.BLOCK_KIND_RECEIPT_IN {
  return kind === BlockKind.BLOCK_KIND_RECEIPT_OUT || kind === BlockKind.BLOCK_KIND_RECEIPT_IN;
}

/** The kinds whose block names a receipt: RECEIPT_OUT, RECEIPT_IN, PLEDGE and RELEASE. */
export function namesReceipt(kind: BlockKind): boolean {
  return isReceiptKind(kind) || kind === BlockKind.BLOCK_KIND_PLEDGE || kind === BlockKind.BLOCK_KIND_RELEASE;
}

/**
 * Size, envelope, identity and signature only: enough to hold a node to what it signed (fork
 * proofs), whatever the block says. Throws a ChainRefusal.
 */
export function openSignedBlock(bytes: Uint8Array, verifySignature: SignatureCheck = checkSignature): { readonly signed: SignedBlock; readonly block: ChainBlock } {
  if (bytes.length > MAX_SIGNED_BLOCK_BYTES) throw new ChainRefusal('oversized', `a block of ${bytes.length} bytes, limit ${MAX_SIGNED_BLOCK_BYTES}`);
  let signed: SignedBlock;
  let block: ChainBlock;
  try {
    signed = SignedBlock.decode(bytes);
    block = ChainBlock.decode(signed.block);
  } catch {
    throw new ChainRefusal('malformed', `${bytes.length} bytes that are not a protobuf SignedBlock holding a ChainBlock`);
  }
  // The envelope is unsigned: only its two fields, in their one encoding, so nothing rides along.
  if (!sameBytes(SignedBlock.encode(signed).finish(), bytes)) throw new ChainRefusal('malformed', 'the envelope holds bytes besides the block and its signature', block.seq);
  if (!NODE_ID.test(block.nodeId)) throw new ChainRefusal('wrong-node', 'node_id must be 64 lowercase hex characters', block.seq);
  if (block.publicKey.length !== PUBLIC_KEY_BYTES || nodeIdOfKey(block.publicKey) !== block.nodeId)
    throw new ChainRefusal('wrong-node', `public_key (${block.publicKey.length} bytes) does not hash to node_id ${short(block.nodeId)}`, block.seq);
  if (!verifySignature(block.publicKey, blockSigningBytes(signed.block), signed.signature))
    throw new ChainRefusal('bad-signature', `the signature (${signed.signature.length} bytes) does not verify under the key of ${short(block.nodeId)}`, block.seq);
  return { signed, block };
}

/** openSignedBlock and every check that needs no chain state, the receipt's signatures included. */
export function openBlock(bytes: Uint8Array, verifySignature: SignatureCheck = checkSignature): OpenedBlock {
  const { signed, block } = openSignedBlock(bytes, verifySignature);
  return { bytes, block, hash: sha256(signed.block), ...checkBlockContent(block, verifySignature) };
}

/** The hash an encoded SignedBlock is linked by (its signed ChainBlock bytes', as the next block's prev_hash names it); throws on bytes that are no SignedBlock. */
export function signedBlockHash(bytes: Uint8Array): Uint8Array {
  return sha256(SignedBlock.decode(bytes).block);
}

/** The bytes a new block will be signed as, and its hash; chain rules are checked before signing (append.ts). */
export function encodeBlock(block: ChainBlock): { readonly blockBytes: Uint8Array; readonly hash: Uint8Array } {
  const blockBytes = ChainBlock.encode(block).finish();
  return { blockBytes, hash: sha256(blockBytes) };
}

/** Signs encoded block bytes into the SignedBlock that is stored and sent. */
export function signBlock(blockBytes: Uint8Array, signer: ChainSigner): Uint8Array {
  const signature = signer.sign(blockSigningBytes(blockBytes));
  if (signature.length !== SIGNATURE_BYTES) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `the signer returned ${signature.length} bytes, not an Ed25519 signature`);
  return SignedBlock.encode({ block: blockBytes, signature }).finish();
}

function checkBlockContent(block: ChainBlock, verifySignature: SignatureCheck): { receipt?: Receipt; receiptDigest?: string } {
  const { seq, kind } = block;
  const refuse = (reason: 'invalid-field' | 'bad-genesis' | 'broken-link', message: string) => new ChainRefusal(reason, message, seq);
  if (seq < 1n) throw refuse('invalid-field', 'seq must be at least 1');
  if (block.prevHash.length !== HASH_BYTES) throw refuse('invalid-field', `prev_hash must be ${HASH_BYTES} bytes, got ${block.prevHash.length}`);
  if (kind !== BlockKind.BLOCK_KIND_GENESIS && kind !== BlockKind.BLOCK_KIND_BURN && !namesReceipt(kind)) throw refuse('invalid-field', `kind ${Number(kind)} is not a block kind`);
  if ((seq === 1n) !== (kind === BlockKind.BLOCK_KIND_GENESIS)) throw refuse('bad-genesis', seq === 1n ? 'block 1 must be the GENESIS' : 'GENESIS only at seq 1');
  if (seq === 1n && !sameBytes(block.prevHash, ZERO_HASH)) throw refuse('broken-link', 'block 1 must have a zero prev_hash');
  if (block.amount < 1n || block.amount > MAX_UINT64) throw refuse('invalid-field', 'amount must be at least 1');
  if (block.atMs < 1n || block.atMs > MAX_AT_MS) throw refuse('invalid-field', `at_ms must be 1..${MAX_AT_MS}`);
  const releasing = kind === BlockKind.BLOCK_KIND_RELEASE;
  if (!releasing && block.releasedVoid !== undefined) throw refuse('invalid-field', `a ${BlockKind[kind]} block carries no void`);
  if (!namesReceipt(kind)) {
    if (block.receipt !== undefined) throw refuse('invalid-field', `a ${BlockKind[kind]} block carries no receipt`);
    return {};
  }
  if (releasing ? block.receipt !== undefined : block.receipt === undefined)
    throw refuse('invalid-field', releasing ? 'a RELEASE block carries its void, not a receipt' : `a ${BlockKind[kind]} block must carry its receipt`);
  if (releasing && block.releasedVoid === undefined) throw refuse('invalid-field', 'a RELEASE block must carry the countersigned void');
  const receipt = verifiedReceipt(block, verifySignature);
  const ours = kind === BlockKind.BLOCK_KIND_RECEIPT_IN ? receipt.payee : receipt.payer;
  if (ours !== block.nodeId)
    throw new ChainRefusal(
      'wrong-side',
      `a ${BlockKind[kind].replace('BLOCK_KIND_', '')} whose ${kind === BlockKind.BLOCK_KIND_RECEIPT_IN ? 'payee' : 'payer'} is ${short(ours)}, not this chain's node`,
      seq,
    );
  if (block.amount !== receipt.amount) throw refuse('invalid-field', `amount ${block.amount} differs from the receipt's ${receipt.amount}`);
  if (block.atMs < receipt.atMs) throw refuse('invalid-field', `dated ${receipt.atMs - block.atMs} ms before its receipt was made`);
  const bytes = releasing ? (block.releasedVoid?.receipt ?? new Uint8Array(0)) : (block.receipt?.receipt ?? new Uint8Array(0));
  return { receipt, receiptDigest: hex(sha256(bytes)) };
}

/** The receipt a receipt-naming block holds, its signatures checked as its kind needs; a ChainRefusal 'bad-receipt' otherwise. */
function verifiedReceipt(block: ChainBlock, verifySignature: SignatureCheck): Receipt {
  try {
    if (block.kind === BlockKind.BLOCK_KIND_RELEASE && block.releasedVoid) return verifyVoid(block.releasedVoid, { checkSignature: verifySignature });
    if (!block.receipt) throw new ReceiptRefusal('malformed', 'no receipt');
    // A pledge is made before the payee is asked: the payer's signature only, so its bytes are fixed.
    if (block.kind === BlockKind.BLOCK_KIND_PLEDGE && block.receipt.payeeSignature.length > 0)
      throw new ReceiptRefusal('invalid-field', 'a PLEDGE holds the receipt as its payer signed it, without a countersignature');
    return verifyReceipt(block.receipt, { checkSignature: verifySignature, countersigned: block.kind !== BlockKind.BLOCK_KIND_PLEDGE });
  } catch (err) {
    if (err instanceof ReceiptRefusal) throw new ChainRefusal('bad-receipt', err.message, block.seq);
    throw err;
  }
}

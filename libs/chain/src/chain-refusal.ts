/**
 * Why a receipt or a chain was refused: a stable `reason` for logs, metrics and tests, and the
 * SwarmError code a peer can be sent. Messages name the rule and values already checked (amounts,
 * seqs, shortened ids), never a peer's raw text.
 */
import type { ForkProof } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';

export type ReceiptRefusalReason =
  /** More bytes than the limit; refused before decoding. */
  | 'oversized'
  /** Not a protobuf SignedReceipt holding a Receipt, or the envelope carries extra bytes. */
  | 'malformed'
  /** A field is empty, malformed or out of range (ids, hashes, shares, time). */
  | 'invalid-field'
  /** Amount 0, or more than a uint64 holds. */
  | 'bad-amount'
  /** Payer and payee are the same node. */
  | 'self-payment'
  /** A public key is not 32 bytes or does not hash to the payer's or payee's node id. */
  | 'wrong-key'
  /** A signature is not 64 bytes or does not verify: forged, altered, or signed by another key. */
  | 'bad-signature'
  /** Only the payer signed; the payee's countersignature is missing. */
  | 'not-countersigned'
  /** A valid receipt, but between other nodes than expected (countersigning as someone else). */
  | 'unexpected-party'
  /** This receipt id is already in the chain it was to be appended to. */
  | 'replayed'
  /** The payee voided this receipt at its payer's request (a SignedVoid): it never countersigns it. */
  | 'voided'
  /** Dated further ahead of the appending node's clock than allowed: retryable, once the clocks agree. */
  | 'dated-ahead'
  /**
   * The payer's chain, read up to the head it reported after the receipt came, holds no open PLEDGE
   * of these receipt bytes: a payer pledges a receipt before it sends it, so it never will. (A
   * chain the payee could not read answers another code: apps/credit-svc payer-views.ts.)
   */
  | 'not-pledged';

const RECEIPT_CODE_OF: Readonly<Record<ReceiptRefusalReason, ErrorCode>> = {
  oversized: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
  malformed: ErrorCode.ERROR_CODE_MALFORMED_MESSAGE,
  'invalid-field': ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  'bad-amount': ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  'self-payment': ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  'wrong-key': ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  'bad-signature': ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  'not-countersigned': ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  'unexpected-party': ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  replayed: ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  voided: ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  'dated-ahead': ErrorCode.ERROR_CODE_INVALID_RECEIPT,
  'not-pledged': ErrorCode.ERROR_CODE_INVALID_RECEIPT,
};
/** Refusals that may pass with time: the payer tries again rather than take them as the payee's verdict. */
const RETRYABLE_RECEIPT_REFUSALS: ReadonlySet<ReceiptRefusalReason> = new Set(['dated-ahead']);

export class ReceiptRefusal extends SwarmError {
  constructor(
    readonly reason: ReceiptRefusalReason,
    message: string,
  ) {
    super(RECEIPT_CODE_OF[reason], `receipt refused (${reason}): ${message}`, RETRYABLE_RECEIPT_REFUSALS.has(reason));
    this.name = 'ReceiptRefusal';
  }
}

export type ChainRefusalReason =
  /** A SignedBlock over the size limit; refused before decoding. */
  | 'oversized'
  /** Not a protobuf SignedBlock holding a ChainBlock, or the envelope carries extra bytes. */
  | 'malformed'
  /** The block's signature is not 64 bytes or does not verify under its public key. */
  | 'bad-signature'
  /** node_id is not sha256(public_key), or the block belongs to another chain than expected. */
  | 'wrong-node'
  /** A field is empty, malformed or out of range, or does not fit the block's kind. */
  | 'invalid-field'
  /** seq is not the previous block's plus one (or the chain does not start at 1). */
  | 'gap'
  /** Two different blocks signed by the node with one seq; the refusal carries the ForkProof. */
  | 'fork'
  /** prev_hash is not the hash of the previous block. */
  | 'broken-link'
  /** at_ms is less than the previous block's. */
  | 'time-reversal'
  /** at_ms is later than the auditor's clock plus the allowed skew. */
  | 'from-future'
  /** No GENESIS at seq 1, a GENESIS later, or a grant other than the rules'. */
  | 'bad-genesis'
  /** The block's receipt fails the receipt rules (the message says which). */
  | 'bad-receipt'
  /** RECEIPT_OUT whose payer, or RECEIPT_IN whose payee, is not this node. */
  | 'wrong-side'
  /** A receipt id the chain already holds. */
  | 'duplicate-receipt'
  /** Pays more than the node's available and locked credit together. */
  | 'overspend'
  /** Pays more than is available, using genesis credit still locked. */
  | 'spends-locked'
  /** A balance would exceed a uint64. */
  | 'overflow'
  /** A block past an epoch boundary where an idle burn was due, without that BURN before it. */
  | 'missing-burn'
  /** A BURN that is not due, at the wrong boundary, or of the wrong amount. */
  | 'wrong-burn'
  /** A fork proof whose blocks are neither two different blocks of one node with one seq nor a broken link (fork-proof.ts). */
  | 'not-a-fork'
  /** A void breach proof whose block is not its payee's RECEIPT_IN of the receipt voided. */
  | 'not-a-breach'
  /** A payee's sighting of a payer's chain that does not check out (chain-sighting.ts). */
  | 'bad-sighting';

export class ChainRefusal extends SwarmError {
  constructor(
    readonly reason: ChainRefusalReason,
    message: string,
    /** The refused block's seq, when it got as far as being decoded. */
    readonly seq?: bigint,
    /** With reason 'fork': the proof to keep against the node. */
    readonly forkProof?: ForkProof,
  ) {
    super(chainCodeOf(reason), `chain refused${seq === undefined ? '' : ` at block ${seq}`} (${reason}): ${message}`);
    this.name = 'ChainRefusal';
  }
}

function chainCodeOf(reason: ChainRefusalReason): ErrorCode {
  if (reason === 'oversized') return ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE;
  if (reason === 'malformed') return ErrorCode.ERROR_CODE_MALFORMED_MESSAGE;
  return ErrorCode.ERROR_CODE_INVALID_CHAIN;
}

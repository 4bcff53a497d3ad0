/**
 * Receipts: the payer makes and signs one, the payee checks it and countersigns the same bytes, and
 * both append it to their chains. The receipt carries both public keys (each hashes to its node
 * id), so anyone can verify it without a key store, as with NodeRecords.
 */
import type { ShapleyShare } from '@swarm/contracts';
import { Receipt, SignedReceipt } from '@swarm/contracts';
import { nodeIdOfKey, SERVE_TICKET_BYTES } from '@swarm/records';
import { ReceiptRefusal } from './chain-refusal';
import { MAX_AT_MS, MAX_UINT64, PPM, short } from './chain-rules';
import type { ChainSigner } from './signing';
import type { RememberingCheck, SignatureCheck } from './signing';
import { checkSignature, HASH_BYTES, NODE_ID, PUBLIC_KEY_BYTES, receiptSigningBytes, sameBytes, SIGNATURE_BYTES } from './signing';

/** Largest encoded Receipt: 64 shares of ~70 bytes, the ids, hashes and keys, with room to spare. */
export const MAX_RECEIPT_BYTES = 8_192;
/** The receipt, both signatures and the envelope. */
export const MAX_SIGNED_RECEIPT_BYTES = MAX_RECEIPT_BYTES + 2 * SIGNATURE_BYTES + 16;
export const MAX_SHARES = 64;
/** As credit-svc's escrow ids (libs/credit MAX_ID_LENGTH and charset). */
export const MAX_TASK_ID_LENGTH = 128;
const TASK_ID = /^[A-Za-z0-9._:-]+$/;
/** The longest receipt id (receiptIdOf): a task id and two 64-character node ids, joined by colons. */
export const MAX_RECEIPT_ID_LENGTH = MAX_TASK_ID_LENGTH + 2 * 64 + 2;
/** The characters a receipt id may hold: a task id's, which include the colons and the ids' hex. */
export const RECEIPT_ID_CHARS = TASK_ID;
const SHOWN_CHARS = 64;

export interface ReceiptFields {
  /** The payee's raw 32-byte Ed25519 key (from its NodeRecord or gateway certificate). */
  readonly payeePublicKey: Uint8Array;
  readonly amount: bigint;
  readonly taskId: string;
  /** sha256 of the task's encoded inputs. */
  readonly taskHash: Uint8Array;
  /** sha256 of the verified result. */
  readonly resultHash: Uint8Array;
  /** The Shapley split of the task's pool in ppm; empty for a single provider. */
  readonly shares?: readonly ShapleyShare[];
  /** When the payer makes it, ms since the Unix epoch. */
  readonly atMs: number;
  /** The payee's serve ticket for this task and payer (libs/records serve-ticket.ts), 32 bytes. */
  readonly serveTicket: Uint8Array;
}

export interface VerifyReceiptOptions {
  /** Require the payee's countersignature (default true: what chains hold). */
  readonly countersigned?: boolean;
  readonly expectedPayer?: string;
  readonly expectedPayee?: string;
  /** checkSignature by default (parsed keys are kept per process either way), or a remembering check. */
  readonly checkSignature?: SignatureCheck;
}

/**
 * One receipt per task, payer and payee. The payer is part of it: a co-provider of a task knows its
 * id and could otherwise take a payee's receipt id first with a receipt of its own.
 */
export function receiptIdOf(taskId: string, payer: string, payee: string): string {
  return `${taskId}:${payer}:${payee}`;
}

/** The payer's part: a receipt signed by `payer`, not yet countersigned. Throws a ReceiptRefusal rather than sign one peers would refuse. */
export function makeReceipt(fields: ReceiptFields, payer: ChainSigner): SignedReceipt {
  if (typeof fields.amount !== 'bigint' || fields.amount < 1n || fields.amount > MAX_UINT64) {
    throw new ReceiptRefusal(
      'bad-amount',
      `amount must be 1..2^64-1 credits, got ${typeof fields.amount === 'bigint' ? fields.amount.toString().slice(0, 40) : typeof fields.amount}`,
    );
  }
  if (!Number.isSafeInteger(fields.atMs) || fields.atMs < 1)
    throw new ReceiptRefusal('invalid-field', `at_ms must be a positive integer of ms, got ${String(fields.atMs).slice(0, 40)}`);
  // The payee would refuse a receipt without its ticket: none is signed.
  if (fields.serveTicket.length !== SERVE_TICKET_BYTES)
    throw new ReceiptRefusal('invalid-field', `serve_ticket must be the payee's ${SERVE_TICKET_BYTES}-byte ticket, got ${fields.serveTicket.length} bytes`);
  const payee = nodeIdOfKey(fields.payeePublicKey);
  const payerId = nodeIdOfKey(payer.publicKey);
  const receipt: Receipt = {
    receiptId: receiptIdOf(fields.taskId, payerId, payee),
    payer: payerId,
    payee,
    amount: fields.amount,
    taskId: fields.taskId,
    taskHash: Uint8Array.from(fields.taskHash),
    resultHash: Uint8Array.from(fields.resultHash),
    shares: (fields.shares ?? []).map((s) => ({ nodeId: s.nodeId, sharePpm: s.sharePpm })),
    atMs: BigInt(fields.atMs),
    payerPublicKey: Uint8Array.from(payer.publicKey),
    payeePublicKey: Uint8Array.from(fields.payeePublicKey),
    serveTicket: Uint8Array.from(fields.serveTicket),
  };
  const problem = checkReceiptFields(receipt);
  if (problem) throw problem;
  const bytes = Receipt.encode(receipt).finish();
  if (bytes.length > MAX_RECEIPT_BYTES) throw new ReceiptRefusal('oversized', `${bytes.length} bytes, limit ${MAX_RECEIPT_BYTES}`);
  return { receipt: bytes, payerSignature: payer.sign(receiptSigningBytes(bytes)), payeeSignature: new Uint8Array(0) };
}

/**
 * The payee's part: checks the payer's receipt names `payee` as the payee, then countersigns the
 * same bytes. What the payee owes for (task and result hashes, amount) is the caller's to compare.
 */
export function countersignReceipt(signed: SignedReceipt, payee: ChainSigner, options: Pick<VerifyReceiptOptions, 'checkSignature'> = {}): SignedReceipt {
  verifyReceipt(signed, { ...options, countersigned: false, expectedPayee: nodeIdOfKey(payee.publicKey) });
  return { receipt: signed.receipt, payerSignature: signed.payerSignature, payeeSignature: payee.sign(receiptSigningBytes(signed.receipt)) };
}

/**
 * Checks a signed receipt and decodes it: size, fields, keys, the payer's signature, and (unless
 * `countersigned: false`) the payee's countersignature. Throws a ReceiptRefusal.
 */
export function verifyReceipt(signed: SignedReceipt, options: VerifyReceiptOptions = {}): Receipt {
  const receipt = receiptBeforeSignatures(signed, options);
  checkBothSignatures(receipt, receiptSigningBytes(signed.receipt), signed, options, 'receipt');
  return receipt;
}

/**
 * The payer's signature of `signedBytes` and (unless `countersigned: false`) the payee's, both of
 * `what` (a receipt, or its void). Throws a ReceiptRefusal.
 */
export function checkBothSignatures(
  receipt: Receipt,
  signedBytes: Uint8Array,
  signed: { readonly payerSignature: Uint8Array; readonly payeeSignature: Uint8Array },
  options: Pick<VerifyReceiptOptions, 'countersigned' | 'checkSignature'>,
  what: 'receipt' | 'void',
): void {
  const verifySignature = options.checkSignature ?? checkSignature;
  const of = what === 'receipt' ? '' : ' of the void';
  if (!verifySignature(receipt.payerPublicKey, signedBytes, signed.payerSignature)) {
    throw new ReceiptRefusal('bad-signature', `the payer's signature${of} (${signed.payerSignature.length} bytes) does not verify under the key of ${short(receipt.payer)}`);
  }
  if (signed.payeeSignature.length === 0) {
    if (options.countersigned ?? true)
      throw new ReceiptRefusal(
        'not-countersigned',
        `payee ${short(receipt.payee)} has not countersigned ${what === 'receipt' ? 'receipt' : 'the void of'} ${shortId(receipt.receiptId)}`,
      );
  } else if (!verifySignature(receipt.payeePublicKey, signedBytes, signed.payeeSignature)) {
    throw new ReceiptRefusal('bad-signature', `the payee's countersignature${of} (${signed.payeeSignature.length} bytes) does not verify under the key of ${short(receipt.payee)}`);
  }
}

/**
 * verifyReceipt's checks before any signature, cheapest first: size, decoding, fields and keys,
 * the expected parties. Throws a ReceiptRefusal.
 */
export function receiptBeforeSignatures(signed: { readonly receipt: Uint8Array }, parties: Pick<VerifyReceiptOptions, 'expectedPayer' | 'expectedPayee'>): Receipt {
  if (signed.receipt.length > MAX_RECEIPT_BYTES) throw new ReceiptRefusal('oversized', `${signed.receipt.length} bytes, limit ${MAX_RECEIPT_BYTES}`);
  let receipt: Receipt;
  try {
    receipt = Receipt.decode(signed.receipt);
  } catch {
    throw new ReceiptRefusal('malformed', `the ${signed.receipt.length} signed bytes are not a protobuf Receipt`);
  }
  const problem = checkReceiptFields(receipt);
  if (problem) throw problem;
  if (parties.expectedPayer !== undefined && receipt.payer !== parties.expectedPayer)
    throw new ReceiptRefusal('unexpected-party', `paid by ${short(receipt.payer)}, expected ${short(parties.expectedPayer)}`);
  if (parties.expectedPayee !== undefined && receipt.payee !== parties.expectedPayee)
    throw new ReceiptRefusal('unexpected-party', `pays ${short(receipt.payee)}, expected ${short(parties.expectedPayee)}`);
  return receipt;
}

/**
 * Checks a receipt's signatures ahead of verifyReceipt, off the event loop where `check` can (its
 * inner check is a DualSignatureCheck), remembering those that pass, so the synchronous checks
 * that follow (verifyReceipt, countersignReceipt, appendReceipt) are hits. Judges nothing and
 * throws nothing: a receipt that fails here is refused, with its reason, by the synchronous check
 * after it. Only a receipt that passes verifyReceipt's cheap checks first (size, fields, keys,
 * the expected parties) costs a verification, so a refused one costs no more than before.
 * `payer` / `payee`: which signatures to prove.
 */
export async function proveReceiptSignatures(
  signed: SignedReceipt,
  check: RememberingCheck,
  which: { readonly payer: boolean; readonly payee: boolean },
  parties: Pick<VerifyReceiptOptions, 'expectedPayer' | 'expectedPayee'> = {},
): Promise<void> {
  let receipt: Receipt;
  try {
    receipt = receiptBeforeSignatures(signed, parties);
  } catch {
    // Refused, with its reason, by the synchronous check after this.
    return;
  }
  const signedBytes = receiptSigningBytes(signed.receipt);
  await Promise.all([
    which.payer ? check.prove(receipt.payerPublicKey, signedBytes, signed.payerSignature) : undefined,
    which.payee && signed.payeeSignature.length > 0 ? check.prove(receipt.payeePublicKey, signedBytes, signed.payeeSignature) : undefined,
  ]);
}

/** A SignedReceipt from the wire: size first, then the envelope in its one encoding (it is unsigned, so nothing may ride along). */
export function decodeSignedReceipt(bytes: Uint8Array): SignedReceipt {
  return decodeEnvelope(bytes, MAX_SIGNED_RECEIPT_BYTES, SignedReceipt, 'SignedReceipt');
}

/** Decodes an unsigned envelope of signed bytes: at most `maxBytes`, and exactly its one encoding. Throws a ReceiptRefusal. */
export function decodeEnvelope<T>(bytes: Uint8Array, maxBytes: number, codec: { decode(b: Uint8Array): T; encode(m: T): { finish(): Uint8Array } }, name: string): T {
  if (bytes.length > maxBytes) throw new ReceiptRefusal('oversized', `a ${name} of ${bytes.length} bytes, limit ${maxBytes}`);
  let decoded: T;
  try {
    decoded = codec.decode(bytes);
  } catch {
    throw new ReceiptRefusal('malformed', `${bytes.length} bytes that are not a protobuf ${name}`);
  }
  if (!sameBytes(codec.encode(decoded).finish(), bytes)) throw new ReceiptRefusal('malformed', `the ${name} envelope holds bytes besides its fields`);
  return decoded;
}

export function encodeSignedReceipt(signed: SignedReceipt): Uint8Array {
  return SignedReceipt.encode(signed).finish();
}

/** The field rules, cheapest first; the keys' hashes before any signature. */
export function checkReceiptFields(r: Receipt): ReceiptRefusal | undefined {
  if (!NODE_ID.test(r.payer)) return invalid('payer must be 64 lowercase hex characters');
  if (!NODE_ID.test(r.payee)) return invalid('payee must be 64 lowercase hex characters');
  if (r.payer === r.payee) return new ReceiptRefusal('self-payment', `payer and payee are both ${short(r.payer)}`);
  if (r.amount < 1n || r.amount > MAX_UINT64) return new ReceiptRefusal('bad-amount', `amount must be 1..2^64-1 credits, got ${r.amount}`);
  if (r.taskId.length < 1 || r.taskId.length > MAX_TASK_ID_LENGTH || !TASK_ID.test(r.taskId))
    return invalid(`task_id must be 1..${MAX_TASK_ID_LENGTH} characters of A-Z a-z 0-9 . _ : -, got ${r.taskId.length} characters`);
  if (r.receiptId !== receiptIdOf(r.taskId, r.payer, r.payee)) return invalid(`receipt_id must be task_id ":" payer ":" payee, got '${shortId(r.receiptId)}'`);
  if (r.taskHash.length !== HASH_BYTES) return invalid(`task_hash must be ${HASH_BYTES} bytes, got ${r.taskHash.length}`);
  if (r.resultHash.length !== HASH_BYTES) return invalid(`result_hash must be ${HASH_BYTES} bytes, got ${r.resultHash.length}`);
  if (r.atMs < 1n || r.atMs > MAX_AT_MS) return invalid(`at_ms must be 1..${MAX_AT_MS}, got ${r.atMs.toString().slice(0, 40)}`);
  // Empty only in receipts made before serve tickets; its issuer alone can check its content.
  if (r.serveTicket.length !== 0 && r.serveTicket.length !== SERVE_TICKET_BYTES)
    return invalid(`serve_ticket must be ${SERVE_TICKET_BYTES} bytes (or empty), got ${r.serveTicket.length}`);
  const shares = checkShares(r);
  if (shares) return shares;
  if (r.payerPublicKey.length !== PUBLIC_KEY_BYTES || nodeIdOfKey(r.payerPublicKey) !== r.payer)
    return new ReceiptRefusal('wrong-key', `payer_public_key (${r.payerPublicKey.length} bytes) does not hash to payer ${short(r.payer)}`);
  if (r.payeePublicKey.length !== PUBLIC_KEY_BYTES || nodeIdOfKey(r.payeePublicKey) !== r.payee)
    return new ReceiptRefusal('wrong-key', `payee_public_key (${r.payeePublicKey.length} bytes) does not hash to payee ${short(r.payee)}`);
  return undefined;
}

function checkShares(r: Receipt): ReceiptRefusal | undefined {
  if (r.shares.length === 0) return undefined;
  if (r.shares.length > MAX_SHARES) return invalid(`at most ${MAX_SHARES} shares, got ${r.shares.length}`);
  const seen = new Set<string>();
  let sum = 0;
  for (const [i, s] of r.shares.entries()) {
    if (!NODE_ID.test(s.nodeId)) return invalid(`shares[${i}].node_id must be 64 lowercase hex characters`);
    if (seen.has(s.nodeId)) return invalid(`shares list node ${short(s.nodeId)} twice`);
    seen.add(s.nodeId);
    if (!Number.isInteger(s.sharePpm) || s.sharePpm < 0 || s.sharePpm > PPM)
      return invalid(`shares[${i}].share_ppm must be an integer in 0..${PPM}, got ${String(s.sharePpm).slice(0, 40)}`);
    sum += s.sharePpm;
  }
  if (sum > PPM) return invalid(`shares sum to ${sum} ppm, more than ${PPM}`);
  if (!seen.has(r.payee)) return invalid(`shares do not list the payee ${short(r.payee)}`);
  return undefined;
}

function invalid(message: string): ReceiptRefusal {
  return new ReceiptRefusal('invalid-field', message);
}

function shortId(id: string): string {
  return id.slice(0, SHOWN_CHARS);
}

/**
 * Voids (docs/chain.md "Voids"): a receipt its payee will never countersign (it refuses it for
 * good) keeps the payer's credit pledged. The payer signs a void of the receipt's bytes; the
 * payee, unless it countersigned the receipt or would now, countersigns the void and from then on
 * never countersigns that receipt. Holding the countersigned void, the payer releases the pledge.
 * Both signatures are needed, as for the receipt: neither side can void alone, so a payee that
 * countersigned cannot have its pay taken back, and a payer cannot walk away from a receipt the
 * payee accepted. A domain tag of its own keeps a void's signature from passing as a receipt's.
 */
import type { Receipt, SignedReceipt } from '@swarm/contracts';
import { SignedVoid } from '@swarm/contracts';
import { nodeIdOfKey } from '@swarm/records';
import type { VerifyReceiptOptions } from './receipt';
import { checkBothSignatures, decodeEnvelope, MAX_RECEIPT_BYTES, receiptBeforeSignatures } from './receipt';
import type { ChainSigner, RememberingCheck } from './signing';
import { receiptSigningBytes, SIGNATURE_BYTES, voidSigningBytes } from './signing';

/** The receipt, three signatures and the envelope. */
export const MAX_SIGNED_VOID_BYTES = MAX_RECEIPT_BYTES + 3 * SIGNATURE_BYTES + 24;

/**
 * The payer's part: a void of its own receipt `signed` (as it signed it), not yet countersigned. It
 * carries the receipt's signature too, so a payee that would accept the receipt takes it instead.
 */
export function makeVoid(signed: SignedReceipt, payer: ChainSigner): SignedVoid {
  const payerId = nodeIdOfKey(payer.publicKey);
  receiptBeforeSignatures(signed, { expectedPayer: payerId });
  return { receipt: signed.receipt, payerSignature: payer.sign(voidSigningBytes(signed.receipt)), payeeSignature: new Uint8Array(0), receiptSignature: signed.payerSignature };
}

/** The receipt a void is of, as its payer signed it (not countersigned). */
export function voidedReceipt(signed: SignedVoid): SignedReceipt {
  return { receipt: signed.receipt, payerSignature: signed.receiptSignature, payeeSignature: new Uint8Array(0) };
}

/** The payee's part: checks the payer's void names `payee` as the receipt's payee, then countersigns it. */
export function countersignVoid(signed: SignedVoid, payee: ChainSigner, options: Pick<VerifyReceiptOptions, 'checkSignature'> = {}): SignedVoid {
  verifyVoid(signed, { ...options, countersigned: false, expectedPayee: nodeIdOfKey(payee.publicKey) });
  return { ...signed, payeeSignature: payee.sign(voidSigningBytes(signed.receipt)) };
}

/**
 * Checks a void and decodes its receipt: the receipt's size, fields and keys, the payer's signature
 * of the void and (unless `countersigned: false`) the payee's. Throws a ReceiptRefusal.
 */
export function verifyVoid(signed: SignedVoid, options: VerifyReceiptOptions = {}): Receipt {
  const receipt = receiptBeforeSignatures(signed, options);
  checkBothSignatures(receipt, voidSigningBytes(signed.receipt), signed, options, 'void');
  return receipt;
}

/** Proves a void's signatures off the event loop ahead of verifyVoid (as proveReceiptSignatures); judges nothing. */
export async function proveVoidSignatures(signed: SignedVoid, check: RememberingCheck, parties: Pick<VerifyReceiptOptions, 'expectedPayer' | 'expectedPayee'> = {}): Promise<void> {
  let receipt: Receipt;
  try {
    receipt = receiptBeforeSignatures(signed, parties);
  } catch {
    return;
  }
  const signedBytes = voidSigningBytes(signed.receipt);
  await Promise.all([
    check.prove(receipt.payerPublicKey, signedBytes, signed.payerSignature),
    signed.payeeSignature.length > 0 ? check.prove(receipt.payeePublicKey, signedBytes, signed.payeeSignature) : undefined,
    // The receipt's own signature: the payee checks it when it would take the receipt instead.
    signed.receiptSignature.length > 0 ? check.prove(receipt.payerPublicKey, receiptSigningBytes(signed.receipt), signed.receiptSignature) : undefined,
  ]);
}

/** A SignedVoid from storage or the wire: size first, then the envelope in its one encoding. */
export function decodeSignedVoid(bytes: Uint8Array): SignedVoid {
  return decodeEnvelope(bytes, MAX_SIGNED_VOID_BYTES, SignedVoid, 'SignedVoid');
}

export function encodeSignedVoid(signed: SignedVoid): Uint8Array {
  return SignedVoid.encode(signed).finish();
}

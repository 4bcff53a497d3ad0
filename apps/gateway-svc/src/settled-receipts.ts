/**
 * The receipt ids this node's ledger has answered for good, each with a digest of its receipt
 * bytes, so the gateway can refuse other bytes under a settled id before any signature check
 * (ledger-batch.ts): one serve ticket, for one task, fits any number of made-up receipts for it,
 * and credit-svc would refuse them all only after checking each. Also the ids whose item it refused
 * or is checking now (TRIED: dated ahead, say, or "in this chain with other contents" after this
 * memory forgot it), whose other items are budgeted. Bounded, least recently recorded forgotten first: a forgotten id
 * costs one full check again, then is remembered anew.
 */
import { createHash } from 'node:crypto';
import { RecencyMap } from '@swarm/recency-map';

/** Receipt ids this node's ledger answered for good (the receipt countersigned, or its void), with the SHA-256 of the receipt bytes; TRIED for one it refused an item of. */
export interface SettledReceipts {
  get(receiptId: string): string | undefined;
  set(receiptId: string, digest: string): void;
  forget(receiptId: string): void;
}

/** Ids held at most, the least recently settled forgotten first (one costs a full check again). ~6 MB at the longest ids. */
export const SETTLED_RECEIPTS_KEPT = 16_384;

export function createSettledReceipts(max = SETTLED_RECEIPTS_KEPT): SettledReceipts {
  const ids = new RecencyMap<string, string>(max);
  return {
    get: (id) => ids.get(id),
    set: (id, digest) => void ids.set(id, digest),
    forget: (id) => void ids.delete(id),
  };
}

/** The mark of an id whose item this node's ledger refused, or is being asked about now: no digest is empty. */
export const TRIED = '';

/** SHA-256 of the receipt bytes, hex. */
export function receiptDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

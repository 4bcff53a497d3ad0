/**
 * For the receipt outbox's specs: a chain book's outbox in memory, receipts in id order as the book
 * answers them; completing one removes it.
 */
import type { SignedReceipt, SignedVoid } from '@swarm/contracts';
import type { PendingReceipt } from '@swarm/credit';

export const signed = (id: string): SignedReceipt => ({ receipt: new TextEncoder().encode(id), payerSignature: new Uint8Array(64), payeeSignature: new Uint8Array(0) });

/** An outbox of receipts in id order, as the chain book answers it; completing one removes it. */
export function fakeBook(ids: string[]) {
  // The payee is the id's first word: 'dead-7' is owed to 'dead'.
  const outbox = new Map<string, PendingReceipt>(ids.map((id) => [id, { receiptId: id, payee: id.split('-')[0], amount: 1n, signed: signed(id) }]));
  const sorted = () => [...outbox.keys()].sort();
  return {
    outbox,
    pending: async (limit: number, afterId?: string) =>
      sorted()
        .filter((id) => afterId === undefined || id > afterId)
        .slice(0, limit)
        .map((id) => outbox.get(id) as PendingReceipt),
    completeReceipt: async (countersigned: SignedReceipt) => {
      outbox.delete(new TextDecoder().decode(countersigned.receipt));
    },
    appendDueBurns: async () => 0,
    /** Marks the receipt as voiding: the outbox sends its void from then on (the void's bytes are its id's). */
    startVoid: async (receiptId: string) => {
      const p = outbox.get(receiptId);
      if (!p) return false;
      outbox.set(receiptId, { ...p, voiding: { ...p.signed, payerSignature: new Uint8Array(64).fill(1), receiptSignature: p.signed.payerSignature } });
      return true;
    },
    cancelVoid: async (receiptId: string) => {
      const p = outbox.get(receiptId);
      if (!p?.voiding) return false;
      outbox.set(receiptId, { receiptId: p.receiptId, payee: p.payee, amount: p.amount, signed: p.signed });
      return true;
    },
    completeVoid: async (voided: SignedVoid) => {
      const id = new TextDecoder().decode(voided.receipt);
      outbox.delete(id);
      return { result: 1n, entries: [{ seq: 1n, kind: 7, escrowId: id, fromAccount: 'payee', toAccount: 'node', amount: 1n, atMs: 0n }] };
    },
  };
}

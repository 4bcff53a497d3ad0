/**
 * A payee that breaks its word on a void (docs/chain.md "Voids"): it countersigned the payer's void
 * of a receipt and also holds that receipt, countersigned, as a RECEIPT_IN of its chain. Both carry
 * its signature, over the same receipt bytes, and cannot both hold; the payer, who keeps its voids,
 * finds them by auditing the payee's chain (`swarm ledger --peer`).
 */
import type { SignedVoid } from '@swarm/contracts';
import { BlockKind } from '@swarm/contracts';
import { hex, sha256 } from './signing';
import type { ChainEntry } from './verify-chain';
import { verifyVoid } from './void';

export interface VoidBreach {
  readonly receiptId: string;
  /** The block of the payee's chain that holds the voided receipt. */
  readonly seq: bigint;
  readonly amount: bigint;
  readonly signedVoid: SignedVoid;
}

/**
 * Watches a payee's chain, block by block (auditChainPages' `onEntry`), for the receipts `payer`'s
 * countersigned voids void. Voids that do not verify, or are not `payer`'s to `payee`, are left out.
 */
export function voidBreachWatch(payer: string, payee: string, voids: readonly SignedVoid[]): { onEntry: (entry: ChainEntry) => void; breaches: () => VoidBreach[] } {
  const byDigest = new Map<string, SignedVoid>();
  for (const v of voids) {
    try {
      verifyVoid(v, { expectedPayer: payer, expectedPayee: payee });
    } catch {
      continue;
    }
    byDigest.set(hex(sha256(v.receipt)), v);
  }
  const found: VoidBreach[] = [];
  return {
    onEntry(entry) {
      if (entry.kind !== BlockKind.BLOCK_KIND_RECEIPT_IN || !entry.receipt || entry.receipt.payer !== payer) return;
      const v = byDigest.get(entry.receipt.digest);
      if (v) found.push({ receiptId: entry.receipt.receiptId, seq: entry.seq, amount: entry.amount, signedVoid: v });
    },
    breaches: () => [...found],
  };
}

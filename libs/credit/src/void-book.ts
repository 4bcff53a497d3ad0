/**
 * Voids of receipts (docs/chain.md "Voids"), both sides, kept in the chain book's `void` side space.
 *
 * - Payer: a receipt its payee refused for good stays in the outbox and keeps its amount pledged.
 *   `start` signs a void of it (stored beside it), which the outbox then sends instead of the
 *   receipt. `complete` takes the payee's countersigned void: the receipt leaves the outbox, the
 *   pledge is released and a VOID entry takes back what the payee's account here holds of the
 *   amount, in one batch; the countersigned void stays as the payee's promise. `reinstate` pays
 *   the receipt after all when a void breach proof shows the payee kept it anyway: appended as
 *   RECEIPT_OUT and a REINSTATE entry undoing the VOID, in one batch.
 * - Payee: `accept` answers the receipt countersigned when this node countersigned it first, or
 *   would now (its serve ticket holds and it passes acceptReceipt's checks: then it is appended and
 *   paid in this turn), so a void never costs the payee pay it could take, whatever made the payer
 *   ask. A refusal that may pass (a receipt dated ahead of this node's clock) refuses the void too,
 *   for the payer to ask again; so does a receipt signature that does not verify (a void must carry
 *   the receipt as its payer signed it). Only a receipt refused for good has its void countersigned.
 *   A void of a receipt whose ticket holds is kept, and acceptReceipt refuses that receipt id from
 *   then on; one whose ticket does not hold is countersigned without keeping it, since this node's
 *   gateway never passes that receipt.
 */
import type { ChainSigner, RememberingCheck } from '@swarm/chain';
import {
  ChainRefusal,
  countersignVoid,
  decodeSignedReceipt,
  decodeSignedVoid,
  encodeSignedVoid,
  makeVoid,
  proveVoidSignatures,
  ReceiptRefusal,
  sameBytes,
  verifyReceipt,
  verifyVoid,
  verifyVoidBreachProof,
  voidedReceipt,
} from '@swarm/chain';
import type { AcceptVoidRequest, AcceptVoidResponse, Receipt, ReinstateVoidedResponse, SignedReceipt, SignedVoid, VoidBreachProof } from '@swarm/contracts';
import { ErrorCode, isSwarmError, Receipt as ReceiptCodec, SwarmError } from '@swarm/contracts';
import { metaUint, metaUintWrite, sideOnly, VOIDED_AMOUNT_KEY, VOIDED_COUNT_KEY, voidedBackKey } from './chain-records';
import type { Committed, Ledger } from './ledger';
import type { Change, Stamp } from './ledger-rules';
import { reinstateRule, voidRule } from './ledger-rules';
import type { SideWrite } from './ledger-store';
import type { RecordView } from './staged-batch';

type View = Pick<RecordView, 'side' | 'account'>;

export interface VoidBookInit {
  readonly nodeId: string;
  /** The ledger account receipts credit and voids return to. */
  readonly nodeAccount: string;
  readonly signer: ChainSigner;
  readonly checkSignature: RememberingCheck;
  /** The countersigned receipt already in this node's chain under the id, if any. */
  readonly storedReceipt: (view: Pick<View, 'side'>, receiptId: string) => SignedReceipt | undefined;
  /** The receipt countersigned, appended and credited (chain-book's acceptReceipt turn), or its refusal. */
  readonly receiptIn: (view: RecordView, at: Stamp, offered: SignedReceipt, receipt: Receipt) => Change<SignedReceipt>;
  /** This node's receipt, countersigned, appended as RECEIPT_OUT now (INSUFFICIENT_CREDIT when the chain has no room): the writes. */
  readonly receiptOut: (view: RecordView, at: Stamp, countersigned: SignedReceipt, receipt: Receipt) => SideWrite[];
  /** This node's receipt's void, countersigned by its payee: its pledge released (a RELEASE block): the writes. */
  readonly releaseOut: (view: RecordView, at: Stamp, countersigned: SignedVoid, receipt: Receipt) => SideWrite[];
  /** Reads on the payer's chain before `receiptIn` asks whether it pledged the receipt (chain-book's PayerCheck); never throws. */
  readonly preparePayer: (receipt: Receipt, receiptBytes: Uint8Array) => Promise<void>;
}

/** Most voids one page answers, and most void records one page reads to find them. */
export const PAID_VOIDS_PAGE = 256;
const PAID_VOIDS_SCAN = 4 * PAID_VOIDS_PAGE;

export interface VoidBook {
  start(ledger: Ledger, receiptId: string): Promise<boolean>;
  /** Stops asking a void of an outbox receipt (its payee predates voids): the receipt is sent again. False when none was asked. */
  cancel(ledger: Ledger, receiptId: string): Promise<boolean>;
  /** Up to `limit` voids this node's payees countersigned, after `afterId`, in receipt id order, and where the next page starts ("" at the end). */
  paid(ledger: Ledger, afterId: string, limit: number): Promise<{ voids: SignedVoid[]; nextAfterId: string }>;
  accept(ledger: Ledger, req: AcceptVoidRequest): Promise<Committed<AcceptVoidResponse>>;
  complete(ledger: Ledger, countersigned: SignedVoid): Promise<Committed<bigint>>;
  /** A void breach proof against a payee of this node's: the voided receipt paid after all (chain-book.ts reinstateVoided). */
  reinstate(ledger: Ledger, proof: VoidBreachProof): Promise<Committed<ReinstateVoidedResponse>>;
}

const SHOWN = 80;

export function createVoidBook(init: VoidBookInit): VoidBook {
  const { nodeId, signer, checkSignature } = init;
  return {
    async start(ledger, receiptId) {
      const done = await ledger.run((view) => {
        const waiting = view.side('outbox', receiptId);
        if (!waiting) return sideOnly(false, []);
        if (view.side('void', receiptId)) return sideOnly(true, []);
        const asked = makeVoid(decodeSignedReceipt(waiting), signer);
        return sideOnly(true, [{ space: 'void', key: receiptId, value: encodeSignedVoid(asked) }]);
      });
      return done.result;
    },

    async cancel(ledger, receiptId) {
      const done = await ledger.run((view) => {
        const asked = view.side('void', receiptId);
        // Only a void still waiting in the outbox, not countersigned: nobody holds it but this node.
        if (!asked || !view.side('outbox', receiptId) || decodeSignedVoid(asked).payeeSignature.length > 0) return sideOnly(false, []);
        return sideOnly(true, [{ space: 'void', key: receiptId, value: undefined }]);
      });
      return done.result;
    },

    async paid(ledger, afterId, limit) {
      const want = limit < 1 || limit > PAID_VOIDS_PAGE ? PAID_VOIDS_PAGE : limit;
      // Keys are printable ASCII: the id followed by NUL is the first key after it.
      const rows = await ledger.sideRange('void', afterId === '' ? '' : `${afterId}\u0000`, PAID_VOIDS_SCAN);
      const voids: SignedVoid[] = [];
      for (const [i, { key, value }] of rows.entries()) {
        const v = decodeSignedVoid(value);
        // As payer, countersigned: the ones this node asked and its payee agreed to. Voids it asked
        // still waiting, and those it countersigned as payee, are not this page's.
        if (v.payeeSignature.length > 0 && ReceiptCodec.decode(v.receipt).payer === nodeId) voids.push(v);
        if (voids.length === want) return { voids, nextAfterId: i === rows.length - 1 && rows.length < PAID_VOIDS_SCAN ? '' : key };
      }
      return { voids, nextAfterId: rows.length < PAID_VOIDS_SCAN ? '' : rows[rows.length - 1].key };
    },

    async accept(ledger, req) {
      const offered = req.signedVoid;
      if (!offered) throw invalid('signed_void is required');
      await proveVoidSignatures(offered, checkSignature, { expectedPayer: req.fromNodeId, expectedPayee: nodeId });
      const receipt = verifyVoid(offered, { countersigned: false, expectedPayee: nodeId, checkSignature });
      if (receipt.payer !== req.fromNodeId) {
        throw new SwarmError(ErrorCode.ERROR_CODE_PERMISSION_DENIED, `the receipt voided is paid by ${receipt.payer.slice(0, 12)}, not by the node that sent the void`);
      }
      const id = receipt.receiptId;
      if (req.served && !ledger.side('receipt', id) && !ledger.side('void', id)) await init.preparePayer(receipt, offered.receipt);
      return ledger.run((view, at): Change<AcceptVoidResponse> => {
        const stored = init.storedReceipt(view, id);
        // Countersigned first: the receipt is paid and stays so. The payer appends it as it is.
        if (stored) {
          if (!sameBytes(stored.receipt, offered.receipt)) throw invalid(`receipt ${id.slice(0, SHOWN)} is in this chain with other contents than the one voided`);
          return sideOnly({ signedVoid: undefined, receipt: stored, receiptAppended: false }, []);
        }
        const kept = view.side('void', id);
        if (kept) {
          const was = decodeSignedVoid(kept);
          if (sameBytes(was.receipt, offered.receipt) && sameBytes(was.payerSignature, offered.payerSignature))
            return sideOnly({ signedVoid: was, receipt: undefined, receiptAppended: false }, []);
        }
        if (req.served && !kept) {
          try {
            const paid = init.receiptIn(view, at, voidedReceipt(offered), receipt);
            return { ...paid, result: { signedVoid: undefined, receipt: paid.result, receiptAppended: true } };
          } catch (err) {
            if (!isVerdictOnReceipt(err)) throw err;
          }
        }
        const countersigned = countersignVoid(offered, signer, { checkSignature });
        // Kept once per receipt id: acceptReceipt refuses the id from then on, whatever bytes come.
        const keep = req.served && !kept;
        return sideOnly(
          { signedVoid: countersigned, receipt: undefined, receiptAppended: false },
          keep ? [{ space: 'void', key: id, value: encodeSignedVoid(countersigned) }] : [],
        );
      });
    },

    async complete(ledger, countersigned) {
      await proveVoidSignatures(countersigned, checkSignature, { expectedPayer: nodeId });
      const receipt = verifyVoid(countersigned, { expectedPayer: nodeId, checkSignature });
      const id = receipt.receiptId;
      return ledger.run((view, at) => {
        const waiting = view.side('outbox', id);
        if (!waiting) {
          const kept = view.side('void', id);
          if (kept && decodeSignedVoid(kept).payeeSignature.length > 0) return sideOnly(0n, []);
          if (init.storedReceipt(view, id)) throw invalid(`receipt ${id.slice(0, SHOWN)} is in this chain, countersigned: it is paid and cannot be voided`);
          throw invalid(`no receipt ${id.slice(0, SHOWN)} is waiting for its payee`);
        }
        if (!sameBytes(decodeSignedReceipt(waiting).receipt, countersigned.receipt)) {
          throw new SwarmError(ErrorCode.ERROR_CODE_PERMISSION_DENIED, `the void of ${id.slice(0, SHOWN)} is not of the receipt this node signed`);
        }
        const back = voidRule(receipt.payee, view.account(receipt.payee), init.nodeAccount, view.account(init.nodeAccount), receipt, at);
        const voided = voidedIn(view);
        return {
          ...back,
          side: [
            { space: 'outbox', key: id, value: undefined },
            { space: 'void', key: id, value: encodeSignedVoid(countersigned) },
            metaUintWrite(voidedBackKey(id), back.result),
            ...init.releaseOut(view, at, countersigned, receipt),
            metaUintWrite(VOIDED_COUNT_KEY, voided.count + 1n),
            metaUintWrite(VOIDED_AMOUNT_KEY, voided.amount + receipt.amount),
          ],
        };
      });
    },

    async reinstate(ledger, proof) {
      // The proof holds: the payee signed the void and holds the receipt (its block). Its receipt
      // must be this node's own, and the block's copy is the countersigned receipt to append.
      const { payer, countersigned } = verifyVoidBreachProof(proof);
      if (payer !== nodeId) throw invalid(`the voided receipt is paid by ${payer.slice(0, 12)}, not by this node`);
      const receipt = verifyReceipt(countersigned, { expectedPayer: nodeId, checkSignature });
      const id = receipt.receiptId;
      const answer = (alreadyReinstated: boolean) => ({ receiptId: id, amount: receipt.amount, alreadyReinstated });
      return ledger.run((view, at) => {
        const kept = view.side('void', id);
        const agreed = kept && decodeSignedVoid(kept);
        const stored = init.storedReceipt(view, id);
        if (!agreed || agreed.payeeSignature.length === 0 || !sameBytes(agreed.receipt, countersigned.receipt)) {
          if (stored) throw invalid(`receipt ${id.slice(0, SHOWN)} is in this chain, delivered as usual: there is nothing to pay after all`);
          throw invalid(`this node holds no void of receipt ${id.slice(0, SHOWN)} its payee agreed to: only such a receipt is paid after all`);
        }
        if (stored) {
          if (!sameBytes(stored.receipt, countersigned.receipt)) throw invalid(`receipt ${id.slice(0, SHOWN)} is in this chain with other contents`);
          return sideOnly(answer(true), []);
        }
        // Exactly what the VOID took back. A void completed before credit-svc kept that amount cannot
        // say it (its VOID may have taken less, or nothing): refused rather than guessed.
        if (!view.side('meta', voidedBackKey(id))) {
          throw invalid(`receipt ${id.slice(0, SHOWN)} was voided by an older credit-svc, which did not keep what its void took back: it cannot be paid after all here`);
        }
        const took = metaUint(view, voidedBackKey(id), 'what a void took back');
        const back =
          took > 0n
            ? reinstateRule(init.nodeAccount, view.account(init.nodeAccount), receipt.payee, view.account(receipt.payee), { receiptId: id, amount: took }, at)
            : sideOnly(0n, []);
        // No longer voided: health counts it paid.
        const voided = voidedIn(view);
        return {
          ...back,
          result: answer(false),
          side: [
            ...init.receiptOut(view, at, countersigned, receipt),
            metaUintWrite(VOIDED_COUNT_KEY, voided.count - 1n),
            metaUintWrite(VOIDED_AMOUNT_KEY, voided.amount - receipt.amount),
          ],
        };
      });
    },
  };
}

/** Receipts of this node that their payees voided, and their amounts together. */
export interface Voided {
  readonly count: bigint;
  readonly amount: bigint;
}

export function voidedIn(view: Pick<View, 'side'>): Voided {
  return { count: metaUint(view, VOIDED_COUNT_KEY, 'the count of voided receipts'), amount: metaUint(view, VOIDED_AMOUNT_KEY, 'the amount of voided receipts') };
}

/**
 * Whether this node's refusal of the receipt is its verdict on the receipt itself, for good: a
 * receipt refusal (fields, keys, parties) other than one that may pass (`dated-ahead`) or the
 * receipt's own signature failing (the payer must send the receipt as it signed it), or crediting
 * it overflowing a balance (a payer whose chain does not pledge the receipt, `not-pledged`, among
 * them). Anything else (an internal error, a chain record it cannot read) is
 * this node's own trouble: the void is refused too, and the payer asks again later.
 */
function isVerdictOnReceipt(err: unknown): boolean {
  if (err instanceof ReceiptRefusal) return !err.retryable && err.reason !== 'bad-signature';
  if (err instanceof ChainRefusal) return err.reason === 'overflow';
  return isSwarmError(err, ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
}

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message);
}

/**
 * Voids between nodes (docs/chain.md "Voids"), both ways through the gateways, as receipts go
 * (receipt-relay.ts): up to RECEIPTS_PER_DELIVERY in one peer call, each with its own outcome
 * (ledger-batch.ts runs both sides of a call).
 * Out: credit-svc (alone, libs/contracts bus-roles) asks GatewayVoidReceipts with voids this node
 * signed as payer of receipts to one payee; the gateway checks each, finds the payee
 * (peer-resolve.ts), calls its PeerService.VoidReceipts once and hands back each outcome once it
 * holds: the same void countersigned by the payee, or (the payee countersigned the receipt before
 * the void came, or would now) the voided receipt countersigned by the payee, else that void's error.
 * In: a peer's VoidReceipts, its caller authenticated by its TLS key, has each void checked the same
 * way (the caller must be the payer, this node the payee, the void and the receipt's own signature
 * must verify) and passed to credit-svc as
 * CreditAcceptVoid with that caller as `from_node_id` and whether the receipt carries the serve
 * ticket this node gave the caller for its task (`served`). A void is not refused for a ticket that
 * does not hold: this node would never countersign that receipt, so credit-svc countersigns its void
 * without keeping it, and the payer gets its credit back; at most SELDOM_ITEM_LIMITS of those a
 * second per caller and network (ledger-batch.ts: each costs this node a signature and a ledger
 * turn, the caller next to nothing; an honest payer sends one only for a receipt refused for good).
 */
import type { Handler } from '@swarm/bus';
import { encodeSignedVoid, MAX_SIGNED_VOID_BYTES, receiptBeforeSignatures, sameBytes, verifyReceipt, verifyVoid, voidedReceipt } from '@swarm/chain';
import type { AcceptVoidResponse, PeerVoidsResponse, RelayVoidsRequest, SignedVoid, VoidOutcome } from '@swarm/contracts';
import { CreditAcceptVoid, ErrorCode, RECEIPTS_PER_DELIVERY, SwarmError } from '@swarm/contracts';
import type { PeerHandler } from '@swarm/gateway';
import type { LedgerRelay, PayeeRelayDeps, PayerRelayDeps } from './ledger-batch';
import { checkedSize, payeeRelayHandler, payerRelayHandler, refusalOf } from './ledger-batch';

/** A relay request: RECEIPTS_PER_DELIVERY voids, each with its field tag and length, and a node id, with room to spare (as MAX_RELAY_RECEIPTS_REQUEST_BYTES). */
export const MAX_RELAY_VOIDS_REQUEST_BYTES = RECEIPTS_PER_DELIVERY * (MAX_SIGNED_VOID_BYTES + 8) + 256;

const voids: LedgerRelay<SignedVoid, VoidOutcome> = {
  item: 'void',
  // The void's signature, and the receipt's own: a void carries its receipt as the payer signed it.
  verify: (v, { payer, payee, checkSignature }) => {
    const parties = { countersigned: false, expectedPayer: payer, expectedPayee: payee, checkSignature };
    const signed = checkedSize(v, 'void', encodeSignedVoid, MAX_SIGNED_VOID_BYTES);
    const receipt = verifyVoid(signed, parties);
    verifyReceipt(voidedReceipt(signed), parties);
    return receipt;
  },
  peek: (v, { payer, payee }) => receiptBeforeSignatures(checkedSize(v, 'void', encodeSignedVoid, MAX_SIGNED_VOID_BYTES), { expectedPayer: payer, expectedPayee: payee }),
  // Taken (within the caller's budget of them): its payer gets its credit back, and this node keeps nothing.
  unserved: () => undefined,
  failed: (error) => ({ signedVoid: undefined, receipt: undefined, error }),
  settledBy: (outcome) => outcome.signedVoid !== undefined,
  call: (client, sent, options) => client.call('voidReceipts', { voids: sent }, options),
  // Exactly one of: `sent` countersigned by its payee, or the receipt it voids countersigned by its payee.
  checkAnswer: (sent, { signedVoid, receipt }, { payer, payee, checkSignature }, refuse) => {
    if (signedVoid !== undefined && receipt !== undefined) return refuse('an outcome', 'both a void and a receipt');
    if (signedVoid !== undefined) {
      if (!sameBytes(signedVoid.receipt, sent.receipt) || !sameBytes(signedVoid.payerSignature, sent.payerSignature)) return refuse('a void', 'not the void sent');
      const problem = refusalOf(() => verifyVoid(signedVoid, { expectedPayer: payer, expectedPayee: payee, checkSignature }));
      if (problem !== undefined) return refuse('a void', problem);
      return {
        signedVoid: { receipt: signedVoid.receipt, payerSignature: signedVoid.payerSignature, payeeSignature: signedVoid.payeeSignature, receiptSignature: sent.receiptSignature },
        receipt: undefined,
        error: undefined,
      };
    }
    if (receipt !== undefined) {
      // The payee countersigned the receipt (before, or now): it is paid, not void.
      if (!sameBytes(receipt.receipt, sent.receipt)) return refuse('a receipt', 'not the receipt voided');
      const problem = refusalOf(() => verifyReceipt(receipt, { expectedPayer: payer, expectedPayee: payee, checkSignature }));
      if (problem !== undefined) return refuse('a receipt', problem);
      return { signedVoid: undefined, receipt: { receipt: receipt.receipt, payerSignature: receipt.payerSignature, payeeSignature: receipt.payeeSignature }, error: undefined };
    }
    return refuse('an outcome', 'neither a void, a receipt nor an error');
  },
  // Not refused when `served` is false: credit-svc countersigns the void of a receipt this node would never countersign, without keeping it.
  accept: async (signedVoid, { payer, served, ask, appended }) => {
    const answer: AcceptVoidResponse = await ask(CreditAcceptVoid, { signedVoid, fromNodeId: payer, served });
    // Its receipt appended now, in answer to its void: paid, as if delivered.
    if (answer.receiptAppended) appended();
    if ((answer.signedVoid === undefined) === (answer.receipt === undefined)) {
      throw new SwarmError(
        ErrorCode.ERROR_CODE_INTERNAL,
        `this node's ledger answered ${answer.signedVoid === undefined ? 'neither a void nor a receipt' : 'both a void and a receipt'}`,
      );
    }
    return { signedVoid: answer.signedVoid, receipt: answer.receipt, error: undefined };
  },
};

/** GatewayVoidReceipts: credit-svc's voids to their payee, each answered countersigned, with the receipt the payee accepted (before, or now), or refused. */
export function gatewayVoidReceiptsHandler(deps: PayerRelayDeps): Handler<RelayVoidsRequest, PeerVoidsResponse> {
  return payerRelayHandler(deps, (req) => req.voids, voids);
}

/** PeerService.VoidReceipts: a peer's voids of receipts to this node, each answered by credit-svc (the void or the receipt, countersigned) or refused. */
export function createPeerVoidReceiptsHandler(deps: PayeeRelayDeps): PeerHandler<'voidReceipts'> {
  return payeeRelayHandler(deps, (req) => req.voids, voids);
}

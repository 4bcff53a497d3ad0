/**
 * Receipts between nodes (docs/chain.md), both ways through the gateways, up to
 * RECEIPTS_PER_DELIVERY in one peer call (ledger-batch.ts runs both sides of a call).
 * Out: credit-svc (alone, libs/contracts bus-roles) asks GatewayDeliverReceipts with receipts this
 * node signed as payer, all for one payee; the gateway checks each, finds the payee
 * (peer-resolve.ts), calls its PeerService.DeliverReceipts once and hands back each outcome: a
 * receipt only once it is the same receipt with a countersignature of the payee that verifies, else
 * that receipt's error. In: a peer's DeliverReceipts, its caller authenticated by its TLS key, has
 * each receipt checked the same way (the caller must be the payer, this node the payee, and the
 * receipt must carry the serve ticket this node gave the caller with that task's result, and pay
 * no more than that ticket's cap) and passed
 * to credit-svc as CreditAcceptReceipt with that caller as `from_node_id`; credit-svc countersigns
 * and appends it once, and answers a retry the same. Every receipt has its own outcome: one that is
 * refused does not fail the others.
 */
import type { Handler } from '@swarm/bus';
import { encodeSignedReceipt, MAX_SIGNED_RECEIPT_BYTES, receiptBeforeSignatures, sameBytes, verifyReceipt } from '@swarm/chain';
import type { AcceptReceiptResponse, PeerReceiptsResponse, ReceiptOutcome, RelayReceiptsRequest, SignedReceipt } from '@swarm/contracts';
import { CreditAcceptReceipt, ErrorCode, RECEIPTS_PER_DELIVERY, SwarmError } from '@swarm/contracts';
import type { PeerHandler } from '@swarm/gateway';
import type { LedgerRelay, PayeeRelayDeps, PayerRelayDeps } from './ledger-batch';
import { checkedSize, payeeRelayHandler, payerRelayHandler, refusalOf } from './ledger-batch';

/**
 * A relay request: RECEIPTS_PER_DELIVERY receipts, each with its field tag and length, and a
 * 64-character node id, with room to spare (~535 KB: far inside the bus's and a peer call's
 * default 8 MiB, SWARM_GATEWAY_MAX_MESSAGE_BYTES).
 */
export const MAX_RELAY_RECEIPTS_REQUEST_BYTES = RECEIPTS_PER_DELIVERY * (MAX_SIGNED_RECEIPT_BYTES + 8) + 256;

const receipts: LedgerRelay<SignedReceipt, ReceiptOutcome> = {
  item: 'receipt',
  verify: (r, { payer, payee, checkSignature }) =>
    verifyReceipt(checkedSize(r, 'receipt', encodeSignedReceipt, MAX_SIGNED_RECEIPT_BYTES), { countersigned: false, expectedPayer: payer, expectedPayee: payee, checkSignature }),
  peek: (r, { payer, payee }) => receiptBeforeSignatures(checkedSize(r, 'receipt', encodeSignedReceipt, MAX_SIGNED_RECEIPT_BYTES), { expectedPayer: payer, expectedPayee: payee }),
  // Refused for good (the payer then voids it), before any signature is checked.
  unserved: (decoded, cap) =>
    cap === undefined
      ? new SwarmError(
          ErrorCode.ERROR_CODE_INVALID_RECEIPT,
          `receipt refused: its serve ticket is not the one this node gave your node for task '${decoded.taskId.slice(0, 64)}' (it served you no such task)`,
          false,
        )
      : // A payer may pay only what the task can be worth (serve-ticket.ts): credit it does not hold would be made here.
        new SwarmError(
          ErrorCode.ERROR_CODE_INVALID_RECEIPT,
          `receipt refused: it pays ${decoded.amount} credits for task '${decoded.taskId.slice(0, 64)}', more than the ${cap} its serve ticket allows for the work this node did`,
          false,
        ),
  failed: (error) => ({ receipt: undefined, error }),
  settledBy: () => false,
  call: (client, sent, options) => client.call('deliverReceipts', { receipts: sent }, options),
  // Only `sent` countersigned by its payee.
  checkAnswer: (sent, { receipt: back }, { payer, payee, checkSignature }, refuse) => {
    if (back === undefined) return refuse('a receipt', 'no receipt');
    if (!sameBytes(back.receipt, sent.receipt) || !sameBytes(back.payerSignature, sent.payerSignature)) return refuse('a receipt', 'not the receipt sent');
    const problem = refusalOf(() => verifyReceipt(back, { expectedPayer: payer, expectedPayee: payee, checkSignature }));
    if (problem !== undefined) return refuse('a receipt', problem);
    return { receipt: { receipt: back.receipt, payerSignature: back.payerSignature, payeeSignature: back.payeeSignature }, error: undefined };
  },
  // Only receipts for a task this node served the caller come here (`unserved` refuses the others).
  accept: async (receipt, { payer, served, ask, appended }) => {
    if (!served) throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'a receipt this node did not serve reached its ledger relay');
    const answer: AcceptReceiptResponse = await ask(CreditAcceptReceipt, { receipt, fromNodeId: payer });
    if (answer.receipt === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, "this node's ledger answered no receipt");
    if (!answer.alreadyHeld) appended();
    return { receipt: answer.receipt, error: undefined };
  },
};

/** GatewayDeliverReceipts: credit-svc's receipts to their payee, each answered countersigned or refused. */
export function gatewayDeliverReceiptsHandler(deps: PayerRelayDeps): Handler<RelayReceiptsRequest, PeerReceiptsResponse> {
  return payerRelayHandler(deps, (req) => req.receipts, receipts);
}

/** PeerService.DeliverReceipts: a peer's receipts for this node, each countersigned by credit-svc or refused. */
export function createPeerDeliverReceiptsHandler(deps: PayeeRelayDeps): PeerHandler<'deliverReceipts'> {
  return payeeRelayHandler(deps, (req) => req.receipts, receipts);
}

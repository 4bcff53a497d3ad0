/**
 * Receipts between nodes (docs/chain.md), both ways through the gateways. Out: credit-svc (alone,
 * libs/contracts bus-roles) asks GatewayDeliverReceipt with a receipt this node signed as payer;
 * the gateway checks it, finds the payee (peer-resolve.ts), calls its PeerService.DeliverReceipt and
 * hands back the answer only once it is the same receipt with a countersignature of the payee that
 * verifies. In: a peer's DeliverReceipt, its caller authenticated by its TLS key, is checked the
 * same way (the caller must be the payer, this node the payee) and passed to credit-svc as
 * CreditAcceptReceipt with that caller as `from_node_id`; credit-svc countersigns and appends it
 * once, and answers a retry the same.
 */
import type { BusClient, Handler } from '@swarm/bus';
import type { SignatureCheck } from '@swarm/chain';
import { encodeSignedReceipt, MAX_SIGNED_RECEIPT_BYTES, ReceiptRefusal, verifyReceipt } from '@swarm/chain';
import type { AcceptReceiptRequest, AcceptReceiptResponse, PeerReceiptResponse, RelayReceiptRequest, SignedReceipt } from '@swarm/contracts';
import { CreditAcceptReceipt, ErrorCode, SwarmError } from '@swarm/contracts';
import type { PeerHandler } from '@swarm/gateway';
import { shortId } from '@swarm/gateway';
import { askCredit } from './credit-ask';
import type { PeerResolver } from './peer-resolve';
import { checkPeerNodeId } from './peer-resolve';

/** A relay request: the receipt and a 64-character node id, with room for the field tags. */
export const MAX_RELAY_RECEIPT_REQUEST_BYTES = MAX_SIGNED_RECEIPT_BYTES + 128;
/** How long the payee's gateway has to answer: its ledger's share below, the network round trip, a first handshake. */
export const RECEIPT_PEER_TIMEOUT_MS = 5_000;
/** How long credit-svc has to countersign a peer's receipt: within the payer's RECEIPT_PEER_TIMEOUT_MS. */
export const CREDIT_ACCEPT_TIMEOUT_MS = 3_500;

export interface GatewayDeliverReceiptDeps {
  /** This node: the payer of every receipt it sends. */
  readonly nodeId: string;
  readonly peers: PeerResolver;
  readonly checkSignature: SignatureCheck;
  /** Told about every answer refused (the payee's countersignature does not hold, or the receipt came back altered). */
  readonly onRefusedAnswer: (peerId: string, reason: string) => void;
}

/** GatewayDeliverReceipt: credit-svc's receipt to its payee, answered countersigned. */
export function gatewayDeliverReceiptHandler(deps: GatewayDeliverReceiptDeps): Handler<RelayReceiptRequest, PeerReceiptResponse> {
  const { nodeId, peers, checkSignature } = deps;
  return async (req) => {
    const payee = checkPeerNodeId(req.peerNodeId, nodeId);
    const sent = checkedReceipt(req.receipt);
    // Everything is checked before any network call: the payee would refuse what fails here.
    verifyReceipt(sent, { countersigned: false, expectedPayer: nodeId, expectedPayee: payee, checkSignature });
    if (sent.payeeSignature.length > 0) throw invalid('the receipt is already countersigned; deliver it as the payer signed it');
    const answer = await peers.withPeer(payee, (client) => client.call('deliverReceipt', { receipt: sent }, { timeoutMs: RECEIPT_PEER_TIMEOUT_MS }));
    const back = answer.receipt;
    const problem = answerProblem(sent, back, { nodeId, payee, checkSignature });
    if (problem || back === undefined) {
      const reason = problem ?? 'no receipt';
      deps.onRefusedAnswer(payee, reason);
      // INVALID_RECEIPT (docs/errors.md: "a missing or wrong … countersignature"), not retryable:
      // the payee answered a receipt that does not hold, and asking it again changes nothing.
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, `payee ${shortId(payee)} answered a receipt that does not hold: ${reason}`, false);
    }
    return { receipt: { receipt: back.receipt, payerSignature: back.payerSignature, payeeSignature: back.payeeSignature } };
  };
}

/** Why the payee's answer is not `sent` countersigned by `payee`, or undefined when it is. */
function answerProblem(sent: SignedReceipt, back: SignedReceipt | undefined, ctx: { nodeId: string; payee: string; checkSignature: SignatureCheck }): string | undefined {
  if (back === undefined) return 'no receipt';
  if (!sameBytes(back.receipt, sent.receipt) || !sameBytes(back.payerSignature, sent.payerSignature)) return 'not the receipt sent';
  try {
    verifyReceipt(back, { expectedPayer: ctx.nodeId, expectedPayee: ctx.payee, checkSignature: ctx.checkSignature });
  } catch (err) {
    if (err instanceof ReceiptRefusal) return err.message;
    throw err;
  }
  return undefined;
}

export interface PeerDeliverReceiptDeps {
  /** This node: the payee of every receipt a peer delivers. */
  readonly nodeId: string;
  readonly bus: BusClient;
  readonly checkSignature: SignatureCheck;
  /** Default CREDIT_ACCEPT_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

/** PeerService.DeliverReceipt: a peer's receipt for this node, countersigned by credit-svc. */
export function createPeerDeliverReceiptHandler(deps: PeerDeliverReceiptDeps): PeerHandler<'deliverReceipt'> {
  const { nodeId, bus, checkSignature } = deps;
  const timeoutMs = deps.timeoutMs ?? CREDIT_ACCEPT_TIMEOUT_MS;
  return async ({ peerId, request, signal }) => {
    const receipt = checkedReceipt(request.receipt);
    // The caller pays: a node cannot deliver receipts others signed, nor ones for another payee.
    verifyReceipt(receipt, { countersigned: false, expectedPayer: peerId, expectedPayee: nodeId, checkSignature });
    const accept: AcceptReceiptRequest = { receipt, fromNodeId: peerId };
    const answer: AcceptReceiptResponse = await askCredit(bus, CreditAcceptReceipt, accept, timeoutMs, signal);
    if (answer.receipt === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, "this node's ledger answered no receipt");
    return { receipt: answer.receipt };
  };
}

/** The request's receipt, present and within MAX_SIGNED_RECEIPT_BYTES. */
function checkedReceipt(receipt: SignedReceipt | undefined): SignedReceipt {
  if (receipt === undefined) throw invalid('receipt must be present');
  const bytes = encodeSignedReceipt(receipt).length;
  if (bytes > MAX_SIGNED_RECEIPT_BYTES) throw new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `a signed receipt is at most ${MAX_SIGNED_RECEIPT_BYTES} bytes, got ${bytes}`);
  return receipt;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `receipt refused: ${message}`);
}

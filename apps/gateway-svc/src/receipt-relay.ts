/**
 * Receipts between nodes (docs/chain.md), both ways through the gateways, up to
 * RECEIPTS_PER_DELIVERY in one peer call (peer calls are rate limited per peer, together with
 * tasks: one call per receipt would cap a pair of nodes at the limit's rate of paid tasks).
 * Out: credit-svc (alone, libs/contracts bus-roles) asks GatewayDeliverReceipts with receipts this
 * node signed as payer, all for one payee; the gateway checks each, finds the payee
 * (peer-resolve.ts), calls its PeerService.DeliverReceipts once and hands back each outcome: a
 * receipt only once it is the same receipt with a countersignature of the payee that verifies, else
 * that receipt's error. In: a peer's DeliverReceipts, its caller authenticated by its TLS key, has
 * each receipt checked the same way (the caller must be the payer, this node the payee, and the
 * receipt must carry the serve ticket this node gave the caller with that task's result) and passed
 * to credit-svc as CreditAcceptReceipt with that caller as `from_node_id`; credit-svc countersigns
 * and appends it once, and answers a retry the same. Every receipt has its own outcome: one that is
 * refused does not fail the others.
 */
import type { BusClient, Handler } from '@swarm/bus';
import { fromWire, toWire } from '@swarm/bus';
import type { SignatureCheck } from '@swarm/chain';
import { encodeSignedReceipt, MAX_SIGNED_RECEIPT_BYTES, ReceiptRefusal, sameBytes, verifyReceipt } from '@swarm/chain';
import type { AcceptReceiptRequest, AcceptReceiptResponse, PeerReceiptsResponse, ReceiptOutcome, RelayReceiptsRequest, SignedReceipt } from '@swarm/contracts';
import { CreditAcceptReceipt, ErrorCode, RECEIPTS_PER_DELIVERY, SwarmError } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import type { PeerHandler } from '@swarm/gateway';
import type { ServeTickets } from '@swarm/records';
import { shortId } from '@swarm/gateway';
import { askCredit } from './local-ask';
import type { PeerResolver } from './peer-resolve';
import { checkPeerNodeId } from './peer-resolve';

/**
 * A relay request: RECEIPTS_PER_DELIVERY receipts, each with its field tag and length, and a
 * 64-character node id, with room to spare (~535 KB: far inside the bus's and a peer call's
 * default 8 MiB, SWARM_GATEWAY_MAX_MESSAGE_BYTES).
 */
export const MAX_RELAY_RECEIPTS_REQUEST_BYTES = RECEIPTS_PER_DELIVERY * (MAX_SIGNED_RECEIPT_BYTES + 8) + 256;
/** How long the payee's gateway has to answer a call: its ledger's share below, the network round trip, a first handshake. */
export const RECEIPT_PEER_TIMEOUT_MS = 10_000;
/**
 * How long credit-svc has to countersign a peer's receipts, all of one call (up to
 * RECEIPTS_PER_DELIVERY, each checked, countersigned, appended and synced): within the payer's
 * RECEIPT_PEER_TIMEOUT_MS. A batch budget: a loaded 2-core machine took over 3.5 s for 64. Those not
 * reached in time are answered UNAVAILABLE and retried by their payer.
 */
export const CREDIT_ACCEPT_TIMEOUT_MS = 8_000;
/**
 * Receipts of one call asked of credit-svc at once: those that arrive while a batch is being written
 * share the next one (group commit), so a call's receipts cost a few fsyncs, not one each.
 */
export const CREDIT_ACCEPT_CONCURRENCY = 16;

export interface GatewayDeliverReceiptsDeps {
  /** This node: the payer of every receipt it sends. */
  readonly nodeId: string;
  readonly peers: PeerResolver;
  readonly checkSignature: SignatureCheck;
  /** Told about every answer refused (the payee's countersignature does not hold, or the receipt came back altered). */
  readonly onRefusedAnswer: (peerId: string, reason: string) => void;
}

/** GatewayDeliverReceipts: credit-svc's receipts to their payee, each answered countersigned or refused. */
export function gatewayDeliverReceiptsHandler(deps: GatewayDeliverReceiptsDeps): Handler<RelayReceiptsRequest, PeerReceiptsResponse> {
  const { nodeId, peers, checkSignature } = deps;
  return async (req, ctx) => {
    const payee = checkPeerNodeId(req.peerNodeId, nodeId);
    checkCount(req.receipts.length);
    // Everything is checked before any network call: the payee would refuse what fails here. A
    // receipt that fails is answered its error and not sent; the others still go.
    const outcomes: ReceiptOutcome[] = req.receipts.map((r) => {
      try {
        const sent = checkedReceipt(r);
        verifyReceipt(sent, { countersigned: false, expectedPayer: nodeId, expectedPayee: payee, checkSignature });
        if (sent.payeeSignature.length > 0) throw invalid('the receipt is already countersigned; deliver it as the payer signed it');
        return { receipt: undefined, error: undefined };
      } catch (err) {
        return { receipt: undefined, error: toWire(err) };
      }
    });
    const sendIndexes = outcomes.flatMap((o, i) => (o.error === undefined ? [i] : []));
    if (sendIndexes.length === 0) return { outcomes };
    const sent = sendIndexes.map((i) => req.receipts[i]);
    const answer = await peers.withPeer(payee, (client) => client.call('deliverReceipts', { receipts: sent }, { timeoutMs: RECEIPT_PEER_TIMEOUT_MS, trace: ctx.trace }));
    if (answer.outcomes.length !== sent.length) {
      const reason = `${answer.outcomes.length} outcomes for ${sent.length} receipts`;
      deps.onRefusedAnswer(payee, reason);
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, `payee ${shortId(payee)} answered receipts that do not hold: ${reason}`, false);
    }
    sendIndexes.forEach((at, k) => {
      outcomes[at] = checkedOutcome(sent[k], answer.outcomes[k], { nodeId, payee, checkSignature }, deps.onRefusedAnswer);
    });
    return { outcomes };
  };
}

/** The payee's outcome for `sent` as credit-svc may take it: its refusal, or `sent` countersigned by `payee`. */
function checkedOutcome(
  sent: SignedReceipt,
  outcome: ReceiptOutcome,
  ctx: { nodeId: string; payee: string; checkSignature: SignatureCheck },
  onRefusedAnswer: (peerId: string, reason: string) => void,
): ReceiptOutcome {
  // The payee's own refusal, passed on bounded (its code known, its message capped).
  if (outcome.error !== undefined) return { receipt: undefined, error: toWire(fromWire(outcome.error)) };
  const back = outcome.receipt;
  const problem = answerProblem(sent, back, ctx);
  if (problem !== undefined || back === undefined) {
    const reason = problem ?? 'no receipt';
    onRefusedAnswer(ctx.payee, reason);
    // INVALID_RECEIPT (docs/errors.md: "a missing or wrong … countersignature"), not retryable:
    // the payee answered a receipt that does not hold, and asking it again changes nothing.
    const err = new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, `payee ${shortId(ctx.payee)} answered a receipt that does not hold: ${reason}`, false);
    return { receipt: undefined, error: toWire(err) };
  }
  return { receipt: { receipt: back.receipt, payerSignature: back.payerSignature, payeeSignature: back.payeeSignature }, error: undefined };
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

export interface PeerDeliverReceiptsDeps {
  /** This node: the payee of every receipt a peer delivers. */
  readonly nodeId: string;
  readonly bus: BusClient;
  readonly checkSignature: SignatureCheck;
  readonly stopwatch: Stopwatch;
  /** This node's serve tickets: only a receipt for a task it served the caller is countersigned. */
  readonly tickets: Pick<ServeTickets, 'holds'>;
  /** For all the receipts of one call together; default CREDIT_ACCEPT_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

/** PeerService.DeliverReceipts: a peer's receipts for this node, each countersigned by credit-svc or refused. */
export function createPeerDeliverReceiptsHandler(deps: PeerDeliverReceiptsDeps): PeerHandler<'deliverReceipts'> {
  const { nodeId, bus, checkSignature, stopwatch } = deps;
  const timeoutMs = deps.timeoutMs ?? CREDIT_ACCEPT_TIMEOUT_MS;
  return async ({ peerId, request, signal, trace }) => {
    checkCount(request.receipts.length);
    const deadline = stopwatch.now() + timeoutMs;
    const acceptOne = async (r: SignedReceipt): Promise<SignedReceipt> => {
      const receipt = checkedReceipt(r);
      // The caller pays: a node cannot deliver receipts others signed, nor ones for another payee.
      const decoded = verifyReceipt(receipt, { countersigned: false, expectedPayer: peerId, expectedPayee: nodeId, checkSignature });
      // For a task this node served the caller: the ticket it gave with that result (serve-ticket.ts).
      if (!deps.tickets.holds(peerId, decoded.taskId, decoded.serveTicket)) {
        throw new SwarmError(
          ErrorCode.ERROR_CODE_INVALID_RECEIPT,
          `receipt refused: its serve ticket is not the one this node gave your node for task '${decoded.taskId.slice(0, 64)}' (it served you no such task)`,
          false,
        );
      }
      const left = deadline - stopwatch.now();
      if (left <= 0) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `this node's ledger did not answer within ${timeoutMs} ms`, true);
      const accept: AcceptReceiptRequest = { receipt, fromNodeId: peerId };
      const answer: AcceptReceiptResponse = await askCredit(bus, CreditAcceptReceipt, accept, left, signal, trace);
      if (answer.receipt === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, "this node's ledger answered no receipt");
      return answer.receipt;
    };
    const outcomes: ReceiptOutcome[] = new Array<ReceiptOutcome>(request.receipts.length);
    let next = 0;
    const worker = async () => {
      for (let at = next++; at < request.receipts.length; at = next++) {
        try {
          outcomes[at] = { receipt: await acceptOne(request.receipts[at]), error: undefined };
        } catch (err) {
          outcomes[at] = { receipt: undefined, error: toWire(err) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CREDIT_ACCEPT_CONCURRENCY, request.receipts.length) }, worker));
    return { outcomes };
  };
}

/** 1 to RECEIPTS_PER_DELIVERY receipts per call. */
function checkCount(count: number): void {
  if (count === 0 || count > RECEIPTS_PER_DELIVERY) throw invalid(`a call carries 1 to ${RECEIPTS_PER_DELIVERY} receipts, got ${count}`);
}

/** A receipt present and within MAX_SIGNED_RECEIPT_BYTES. */
function checkedReceipt(receipt: SignedReceipt | undefined): SignedReceipt {
  if (receipt === undefined) throw invalid('receipt must be present');
  const bytes = encodeSignedReceipt(receipt).length;
  if (bytes > MAX_SIGNED_RECEIPT_BYTES) throw new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `a signed receipt is at most ${MAX_SIGNED_RECEIPT_BYTES} bytes, got ${bytes}`);
  return receipt;
}

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `receipt refused: ${message}`);
}

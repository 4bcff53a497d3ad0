/**
 * What the receipt and void relays share (receipt-relay.ts, void-relay.ts): a call carries 1 to
 * RECEIPTS_PER_DELIVERY items (signed receipts, signed voids), all of one payer for one payee
 * (peer calls are rate limited per peer, together with tasks: one call per item would cap a pair
 * of nodes at the limit's rate of paid tasks), and each item has an outcome of its own: one that is
 * refused does not fail the others. A relay (LedgerRelay) says what is particular to its items;
 * this module runs both sides of a call with it.
 * Out (payerRelayHandler): credit-svc asks this node's gateway on the bus; every item is checked
 * before any network call, the others go to the payee (found by peer-resolve.ts) in one peer call,
 * and each answer is checked before it is handed on.
 * In (payeeRelayHandler): a peer's call, its caller authenticated by its TLS key, has each item
 * checked the same way with the caller as payer and this node as payee, then asked of credit-svc,
 * CREDIT_ACCEPT_CONCURRENCY at a time, all within one budget. The cheap checks come first, so that
 * what a peer can send at no cost costs this node little too, all before any signature is verified
 * or credit-svc asked:
 * - an item repeated in the call (the same payer signature) is checked once, its copies given the
 *   same answer;
 * - then size, fields and parties, and the receipt's date: one dated more than MAX_RECEIPT_AHEAD_MS
 *   ahead of this node's clock is refused as the ledger would refuse it (`dated-ahead`, which may
 *   pass later), costing no mark and no budget, so a payer whose clock runs ahead is not throttled
 *   and made-up receipts dated ahead cost nothing;
 * - a receipt id this node has settled already (countersigned, or its void kept: SettledReceipts)
 *   with other receipt bytes is refused, as credit-svc would (one ticket, for one task, fits any
 *   number of made-up receipts for it);
 * - then whether this node served the task (its serve ticket: a MAC); a receipt it did not serve is
 *   refused there;
 * - the void of a receipt it did not serve, the same receipt of one settled already (an answer lost
 *   on the way back), and any item for a receipt id whose item this node's ledger refused before or
 *   is being asked about now (TRIED) are what an honest payer sends seldom: they wait for the caller's and its network's
 *   budget of such items (peer-budgets.ts), OVERLOADED with when to retry past it. A ledger refusal
 *   that says nothing of the item (UNAVAILABLE, DEADLINE_EXCEEDED, OVERLOADED: a payer's chain not
 *   read yet, say) clears the mark; one on the item's merits keeps it, retryable or not (`dated-ahead`,
 *   whose payer's outbox retries it at its backoff, within that budget).
 */
import type { BusClient, Handler } from '@swarm/bus';
import { fromWire, toWire } from '@swarm/bus';
import type { SignatureCheck } from '@swarm/chain';
import { hex, MAX_RECEIPT_AHEAD_MS, ReceiptRefusal, SIGNATURE_BYTES } from '@swarm/chain';
import type { Receipt, Rpc, SignedReceipt, SwarmErrorMessage } from '@swarm/contracts';
import { ErrorCode, RECEIPTS_PER_DELIVERY, SwarmError } from '@swarm/contracts';
import type { Stopwatch, WallClock } from '@swarm/determinism';
import type { PeerCall, PeerCallOptions, PeerClient } from '@swarm/gateway';
import { peerText, shortId } from '@swarm/gateway';
import type { ServeTickets } from '@swarm/records';
import { askCredit } from './local-ask';
import type { PeerBudgetLimits, PeerBudgets } from './peer-budgets';
import type { SettledReceipts } from './settled-receipts';
import { receiptDigest, TRIED } from './settled-receipts';
import type { PeerResolver } from './peer-resolve';
import { checkPeerNodeId } from './peer-resolve';
import type { UnpaidServes } from './unpaid-serves';

/** How long the payee's gateway has to answer a call: its ledger's share below, the network round trip, a first handshake. */
export const RECEIPT_PEER_TIMEOUT_MS = 10_000;
/**
 * How long credit-svc has to answer a peer's items, all of one call (up to RECEIPTS_PER_DELIVERY,
 * each checked, countersigned, appended and synced): within the payer's RECEIPT_PEER_TIMEOUT_MS. A
 * batch budget: a loaded 2-core machine took over 3.5 s for 64 receipts. Those not reached in time
 * are answered UNAVAILABLE and retried by their payer.
 */
export const CREDIT_ACCEPT_TIMEOUT_MS = 8_000;
/**
 * Items of one call asked of credit-svc at once: those that arrive while a batch is being written
 * share the next one (group commit), so a call's items cost a few fsyncs, not one each.
 */
export const CREDIT_ACCEPT_CONCURRENCY = 16;

/** What a call carries, as its refusals name it. */
export type LedgerItem = 'receipt' | 'void';

/** An item as signed by its payer and, once it agreed, its payee: SignedReceipt, SignedVoid. */
export interface Signed {
  /** The Receipt bytes as the payer signed them (a void carries the receipt it voids). */
  readonly receipt: Uint8Array;
  readonly payerSignature: Uint8Array;
  readonly payeeSignature: Uint8Array;
}

/** An item's outcome: its answer, or `error`. */
export interface Outcome {
  readonly error?: SwarmErrorMessage;
  /** The receipt, countersigned by this node, when the item ended with one (delivered, or answered to its void). */
  readonly receipt?: SignedReceipt;
}

/** The payer and payee of a call's items, and how their signatures are checked. */
export interface Parties {
  readonly payer: string;
  readonly payee: string;
  readonly checkSignature: SignatureCheck;
}

/** What is particular to one kind of item: T as signed, O its outcome (ReceiptOutcome, VoidOutcome). */
export interface LedgerRelay<T extends Signed, O extends Outcome> {
  readonly item: LedgerItem;
  /** An item present, within its size, signed by `payer` for `payee` (not necessarily countersigned): its receipt, decoded. Throws why not. */
  readonly verify: (item: T | undefined, parties: Parties) => Receipt;
  /** `verify`'s checks before any signature (presence, size, fields, the parties): its receipt, decoded. Throws why not. */
  readonly peek: (item: T | undefined, parties: Parties) => Receipt;
  /**
   * An item whose receipt pays for a task this node did not serve the caller (`cap`: its ticket's,
   * undefined for none): the refusal to answer it, or undefined when such an item is taken (within
   * the caller's budget of them, PayeeRelayDeps.seldom).
   */
  readonly unserved: (receipt: Receipt, cap: bigint | undefined) => SwarmError | undefined;
  /** An outcome that is `error`. */
  readonly failed: (error: SwarmErrorMessage) => O;
  /** The peer call, with the items that passed: one outcome each, in order. */
  readonly call: (client: PeerClient, items: T[], options: PeerCallOptions) => Promise<{ readonly outcomes: readonly O[] }>;
  /**
   * The payee's answer (no error) for `sent` as credit-svc may take it, or `refuse`d: `what` the
   * payee answered ("a receipt", "a void") and why it does not hold.
   */
  readonly checkAnswer: (sent: T, outcome: O, parties: Parties, refuse: (what: string, reason: string) => O) => O;
  /** Whether `outcome` (no error) settles its receipt for good besides a countersigned receipt: a void countersigned. */
  readonly settledBy: (outcome: O) => boolean;
  /** A peer's item, checked by `verify` (and, when not served, let through by `unserved`), as credit-svc answers it. */
  readonly accept: (item: T, ctx: AcceptContext) => Promise<O>;
}

export interface AcceptContext {
  /** The caller, who pays. */
  readonly payer: string;
  /** The item's receipt, decoded. */
  readonly receipt: Receipt;
  /** Whether the receipt carries the serve ticket this node gave the payer with that task's result, and pays within its cap. */
  readonly served: boolean;
  /** That ticket's cap: the most a receipt for the task may pay this node (undefined when not served). */
  readonly cap: bigint | undefined;
  /** A request to credit-svc within what is left of the call's budget. */
  readonly ask: <Req, Res>(rpc: Rpc<Req, Res>, req: Req) => Promise<Res>;
  /**
   * The receipt was appended to this node's chain now (not held already): what it pays comes off
   * what the payer owes (unpaid-serves.ts). Never for a receipt sent again, so no old receipt pays
   * for a new run of its task.
   */
  readonly appended: () => void;
}

export interface PayerRelayDeps {
  /** This node: the payer of every item it sends. */
  readonly nodeId: string;
  readonly peers: PeerResolver;
  readonly checkSignature: SignatureCheck;
  /** Told about every answer refused (a countersignature that does not hold, or not the item sent). */
  readonly onRefusedAnswer: (peerId: string, reason: string) => void;
}

/**
 * The bus endpoint credit-svc asks with items this node signed as payer, all for `peer_node_id`:
 * each answered as the payee answered it, once that holds, or refused.
 */
export function payerRelayHandler<Req extends { readonly peerNodeId: string }, T extends Signed, O extends Outcome>(
  deps: PayerRelayDeps,
  itemsOf: (req: Req) => T[],
  relay: LedgerRelay<T, O>,
): Handler<Req, { outcomes: O[] }> {
  const { nodeId, peers, checkSignature, onRefusedAnswer } = deps;
  const { item } = relay;
  return async (req, ctx) => {
    const payee = checkPeerNodeId(req.peerNodeId, nodeId);
    const items = itemsOf(req);
    checkCount(items.length, item);
    const parties: Parties = { payer: nodeId, payee, checkSignature };
    // Everything is checked before any network call: the payee would refuse what fails here. An
    // item that fails is answered its error and not sent; the others still go.
    const outcomes = items.map((it): O | undefined => {
      try {
        relay.verify(it, parties);
        if (it.payeeSignature.length > 0) throw refusal(item, `the ${item} is already countersigned; send it as the payer signed it`);
        return undefined;
      } catch (err) {
        return relay.failed(toWire(err));
      }
    });
    const sendIndexes = outcomes.flatMap((o, i) => (o === undefined ? [i] : []));
    if (sendIndexes.length === 0) return { outcomes: outcomes as O[] };
    const sent = sendIndexes.map((i) => items[i]);
    const answer = await peers.withPeer(payee, (client) => relay.call(client, sent, { timeoutMs: RECEIPT_PEER_TIMEOUT_MS, trace: ctx.trace }));
    if (answer.outcomes.length !== sent.length) {
      const reason = `${answer.outcomes.length} outcomes for ${sent.length} ${item}s`;
      onRefusedAnswer(payee, reason);
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, `payee ${shortId(payee)} answered ${item}s that do not hold: ${reason}`, false);
    }
    // INVALID_RECEIPT (docs/errors.md: "a missing or wrong … countersignature"), not retryable:
    // the payee answered something that does not hold, and asking it again changes nothing.
    const refuse = (what: string, reason: string) => {
      onRefusedAnswer(payee, reason);
      return relay.failed(toWire(new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, `payee ${shortId(payee)} answered ${what} that does not hold: ${reason}`, false)));
    };
    sendIndexes.forEach((at, k) => {
      const outcome = answer.outcomes[k];
      // The payee's own refusal, passed on to credit-svc bounded (its code known, its words escaped and capped: peerText).
      outcomes[at] = outcome.error !== undefined ? relay.failed(payeeRefusal(outcome.error)) : relay.checkAnswer(sent[k], outcome, parties, refuse);
    });
    return { outcomes: outcomes as O[] };
  };
}

export interface PayeeRelayDeps {
  /** This node: the payee of every item a peer sends. */
  readonly nodeId: string;
  readonly bus: BusClient;
  readonly checkSignature: SignatureCheck;
  readonly stopwatch: Stopwatch;
  /** This node's wall clock: a receipt's date is checked against it. */
  readonly clock: WallClock;
  /** This node's serve tickets: whether it served the caller the task an item's receipt pays for, and for at most how much. */
  readonly tickets: Pick<ServeTickets, 'capOf'>;
  /** For all the items of one call together; default CREDIT_ACCEPT_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** A receipt appended here takes what it pays off what its payer owes for its task (unpaid-serves.ts; AcceptContext.appended). */
  readonly unpaid?: Pick<UnpaidServes, 'paid'>;
  /**
   * Per caller and per network, the items an honest payer sends seldom (the voids of receipts this
   * node never took, repeats of receipts settled already, and items for an id TRIED: refused on
   * their merits, or in its checks now): past the budget such an item is answered OVERLOADED, with
   * when to retry. Absent: no limit.
   */
  readonly seldom?: PeerBudgets;
  /** Receipt ids settled here, with their bytes' digest; shared by the receipt and void handlers. Absent: none remembered. */
  readonly settled?: SettledReceipts;
}

/**
 * Seldom items (PayeeRelayDeps.seldom) taken per caller: a second's worth of a payer's refusals at
 * once, then 4 a second; per network, four callers' worth.
 */
export const SELDOM_ITEM_LIMITS: PeerBudgetLimits = Object.freeze({
  perPeer: { perSecond: 4, burst: RECEIPTS_PER_DELIVERY },
  perNetwork: { perSecond: 16, burst: 4 * RECEIPTS_PER_DELIVERY },
  maxKeys: 1_024,
});

/** The PeerService handler for a peer's items for this node, each answered by credit-svc or refused. */
export function payeeRelayHandler<Req, T extends Signed, O extends Outcome>(
  deps: PayeeRelayDeps,
  itemsOf: (req: Req) => T[],
  relay: LedgerRelay<T, O>,
): (call: PeerCall<Req>) => Promise<{ outcomes: O[] }> {
  const { nodeId, bus, checkSignature, stopwatch } = deps;
  const timeoutMs = deps.timeoutMs ?? CREDIT_ACCEPT_TIMEOUT_MS;
  return async ({ peerId, network, request, signal, trace }) => {
    const items = itemsOf(request);
    checkCount(items.length, relay.item);
    const deadline = stopwatch.now() + timeoutMs;
    // The caller pays: a node cannot send items others signed, nor ones for another payee.
    const parties: Parties = { payer: peerId, payee: nodeId, checkSignature };
    const ask = async <Rq, Rs>(rpc: Rpc<Rq, Rs>, req: Rq): Promise<Rs> => {
      const left = deadline - stopwatch.now();
      if (left <= 0) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `this node's ledger did not answer within ${timeoutMs} ms`, true);
      return askCredit(bus, rpc, req, left, signal, trace);
    };
    const acceptOne = async (it: T): Promise<O> => {
      const peeked = relay.peek(it, parties);
      const aheadMs = Number(peeked.atMs) - deps.clock.now();
      if (aheadMs > MAX_RECEIPT_AHEAD_MS)
        throw new ReceiptRefusal('dated-ahead', `dated ${Math.round(aheadMs)} ms ahead of this node's clock (allowed ${MAX_RECEIPT_AHEAD_MS} ms)`);
      // For a task this node served the caller: the ticket it gave with that result (serve-ticket.ts).
      const cap = deps.tickets.capOf(peerId, peeked.taskId, peeked.serveTicket);
      // `served` is what a void is told (void-relay.ts): a receipt over its cap is one this node
      // would never countersign, so its void must not append it either.
      const served = cap !== undefined && peeked.amount <= cap;
      const settled = deps.settled?.get(peeked.receiptId);
      // Hashed only where it is compared or kept: a flood of items refused below costs no SHA-256.
      let digest: string | undefined;
      const digestNow = () => (digest ??= receiptDigest(it.receipt));
      if (settled !== undefined && settled !== TRIED && settled !== digestNow()) {
        throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `receipt ${peeked.receiptId.slice(0, 80)} is settled here already, with other contents`);
      }
      if (!served) {
        const refused = relay.unserved(peeked, cap);
        if (refused) throw refused;
      }
      if (!served || settled !== undefined) {
        const waitMs = deps.seldom?.take(peerId, network) ?? 0;
        if (waitMs > 0) {
          const { perPeer, perNetwork } = deps.seldom?.limits ?? { perPeer: { perSecond: 0, burst: 0 }, perNetwork: { perSecond: 0, burst: 0 } };
          throw new SwarmError(
            ErrorCode.ERROR_CODE_OVERLOADED,
            `this node takes at most ${perPeer.perSecond} ${relay.item}s a second (burst ${perPeer.burst}) from your node, and ${perNetwork.perSecond} from its network, ` +
              `of the kinds an honest payer sends seldom (for a task it did not serve yours, or a receipt id answered already); retry in ${waitMs} ms`,
            true,
            { retryAfterMs: waitMs },
          );
        }
      }
      // The first item for a served id is checked in full; every other one for it, while this one
      // is checked or once it is refused on its merits, is a seldom one. A served task's ticket fits
      // any made-up receipt for it (dated ahead, say), each costing the signature checks and a
      // ledger turn again; sent all at once, they would all pass a mark made only after the answer.
      const first = served && settled === undefined;
      if (first) deps.settled?.set(peeked.receiptId, TRIED);
      let outcome: O;
      try {
        const appended = () => deps.unpaid?.paid(peerId, peeked.taskId, peeked.amount);
        outcome = await relay.accept(it, { payer: peerId, receipt: relay.verify(it, parties), served, cap, ask, appended });
      } catch (err) {
        // Not for want of time or room: the id stays marked.
        if (first && isPassing(err)) deps.settled?.forget(peeked.receiptId);
        throw err;
      }
      if (served && (outcome.receipt !== undefined || relay.settledBy(outcome))) deps.settled?.set(peeked.receiptId, digestNow());
      return outcome;
    };
    const outcomes = new Array<O>(items.length);
    // One item once a call: an honest payer never repeats one, and each copy would cost the checks
    // again. A copy (the same 64-byte payer signature) gets its first's answer; one without such a
    // signature is checked, and refused, on its own.
    const firstOf = new Map<string, number>();
    const copies: Array<[number, number]> = [];
    items.forEach((it, at) => {
      if (it === undefined || it.payerSignature.length !== SIGNATURE_BYTES) return;
      const key = hex(it.payerSignature);
      const first = firstOf.get(key);
      if (first === undefined) firstOf.set(key, at);
      else copies.push([at, first]);
    });
    const isCopy = new Set(copies.map(([at]) => at));
    let next = 0;
    const worker = async () => {
      for (let at = next++; at < items.length; at = next++) {
        if (isCopy.has(at)) continue;
        try {
          outcomes[at] = await acceptOne(items[at]);
        } catch (err) {
          outcomes[at] = relay.failed(toWire(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CREDIT_ACCEPT_CONCURRENCY, items.length) }, worker));
    for (const [at, first] of copies) outcomes[at] = outcomes[first];
    return { outcomes };
  };
}

/** A payee's refusal of one item as this node keeps it: a code this build knows, the payee's words escaped and at most MAX_PEER_TEXT_CHARS. */
function payeeRefusal(error: SwarmErrorMessage): SwarmErrorMessage {
  const wire = toWire(fromWire(error));
  return { ...wire, message: peerText(wire.message) };
}

/** An item present and, encoded, within `maxBytes`. */
export function checkedSize<T>(value: T | undefined, item: LedgerItem, encode: (value: T) => Uint8Array, maxBytes: number): T {
  if (value === undefined) throw refusal(item, `${item} must be present`);
  const bytes = encode(value).length;
  if (bytes > maxBytes) throw new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `a signed ${item} is at most ${maxBytes} bytes, got ${bytes}`);
  return value;
}

/** A refusal that says nothing of the item: this node's ledger did not answer in time, or had no room. */
function isPassing(err: unknown): boolean {
  return (
    err instanceof SwarmError &&
    (err.code === ErrorCode.ERROR_CODE_UNAVAILABLE || err.code === ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED || err.code === ErrorCode.ERROR_CODE_OVERLOADED)
  );
}

/** Why `verify` refuses (a ReceiptRefusal's message), or undefined when it does not; any other error is thrown. */
export function refusalOf(verify: () => unknown): string | undefined {
  try {
    verify();
  } catch (err) {
    if (err instanceof ReceiptRefusal) return err.message;
    throw err;
  }
  return undefined;
}

/** 1 to RECEIPTS_PER_DELIVERY items per call. */
function checkCount(count: number, item: LedgerItem): void {
  if (count === 0 || count > RECEIPTS_PER_DELIVERY) throw refusal(item, `a call carries 1 to ${RECEIPTS_PER_DELIVERY} ${item}s, got ${count}`);
}

/** INVALID_ARGUMENT: a call or an item the payee would refuse as sent. */
function refusal(item: LedgerItem, message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `${item} refused: ${message}`);
}

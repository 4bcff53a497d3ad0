import type { Handler } from '@swarm/bus';
import type {
  AcceptReceiptRequest,
  AcceptReceiptResponse,
  AcceptChainOfferRequest,
  AcceptVoidRequest,
  AcceptVoidResponse,
  ChainOfferResponse,
  PaidVoidsRequest,
  PaidVoidsResponse,
  ReinstateVoidedRequest,
  ReinstateVoidedResponse,
  AuditRequest,
  AuditResponse,
  BalanceRequest,
  BalanceResponse,
  ChargeRequest,
  ChainBlocksRequest,
  ChainBlocksResponse,
  DefundAgentRequest,
  DefundAgentResponse,
  EscrowRequest,
  EscrowResponse,
  FundAgentRequest,
  FundAgentResponse,
  LedgerEntry,
  RefundRequest,
  RefundResponse,
  ReserveRequest,
  ReserveResponse,
  SettleRequest,
  SettleResponse,
  StandingRequest,
  StandingResponse,
} from '@swarm/contracts';
import { MAX_RECEIPT_ID_LENGTH, RECEIPT_ID_CHARS } from '@swarm/chain';
import { CHAIN_OFFER_MAX_BLOCKS, ErrorCode, SwarmError } from '@swarm/contracts';
import { escrowStatus, MAX_UINT64, validateEscrowQuery, validateId } from '@swarm/credit';
import type { AuditReport, ChainBook, Committed, Ledger, StandingIndex } from '@swarm/credit';
import type { Stopwatch, WallClock } from '@swarm/determinism';
import type { Logger, TraceContext } from '@swarm/telemetry';
import type { PayerViews } from './payer-views';

export interface CreditHandlerDeps {
  ledger: Ledger;
  /** This node's account: what an empty `account` in a BalanceRequest means. */
  nodeAccount: string;
  /** Announces one committed entry (LedgerEntryEvents); `trace`: the request that committed it. */
  publish: (entry: LedgerEntry, trace?: TraceContext) => void;
  log: Logger;
  /** Times audits (durations only). */
  stopwatch: Stopwatch;
  /** Payouts per payee in the window, kept up to date by whoever `publish` is (service.ts). */
  standing: StandingIndex;
  /** What "now" is for the standing window (the ledger's clock: entries carry its times). */
  clock: WallClock;
  /** The node's chain (docs/chain.md). */
  book: ChainBook;
  /** A settle just put receipts in the outbox (receipt-outbox.ts). */
  onReceiptsOwed: () => void;
  /** Payers' chains as read here (payer-views.ts); absent when this node does not check payers. */
  payers?: Pick<PayerViews, 'offer'>;
}

export interface CreditHandlers {
  reserve: Handler<ReserveRequest, ReserveResponse>;
  settle: Handler<SettleRequest, SettleResponse>;
  /** Reserve and settle at once (router-svc only, bus-roles.ts); never pays another node. */
  charge: Handler<ChargeRequest, SettleResponse>;
  refund: Handler<RefundRequest, RefundResponse>;
  balance: Handler<BalanceRequest, BalanceResponse>;
  audit: Handler<AuditRequest, AuditResponse>;
  /** What the ledger holds for one escrow (ESCROW_STATE_NONE when it was never reserved). */
  escrow: Handler<EscrowRequest, EscrowResponse>;
  /** Node -> agent account and back (api-svc only, bus-roles.ts); idempotent by transfer id. */
  fundAgent: Handler<FundAgentRequest, FundAgentResponse>;
  defundAgent: Handler<DefundAgentRequest, DefundAgentResponse>;
  /** A node's contribution standing (gateway-svc only, bus-roles.ts); 0 for a node never paid. */
  standing: Handler<StandingRequest, StandingResponse>;
  /** A peer's receipt to countersign (gateway-svc only): appended once as RECEIPT_IN. */
  acceptReceipt: Handler<AcceptReceiptRequest, AcceptReceiptResponse>;
  /** A peer's void of its receipt to this node (gateway-svc only): countersigned, or the receipt if it came first. */
  acceptVoid: Handler<AcceptVoidRequest, AcceptVoidResponse>;
  /** A page of this node's chain. */
  chainBlocks: Handler<ChainBlocksRequest, ChainBlocksResponse>;
  /** Blocks a paying peer offers of its own chain (gateway-svc only): audited on from what was read. */
  acceptChainOffer: Handler<AcceptChainOfferRequest, ChainOfferResponse>;
  /** A page of the voids this node's payees countersigned (operators). */
  paidVoids: Handler<PaidVoidsRequest, PaidVoidsResponse>;
  /** A void breach proof against a payee (operators): the voided receipt is paid after all, once. */
  reinstateVoided: Handler<ReinstateVoidedRequest, ReinstateVoidedResponse>;
}

/** A problem line quotes ids (at most 128 chars each); this bounds a damaged record's text too. */
export const MAX_AUDIT_PROBLEM_CHARS = 512;

const toUint64 = (n: bigint): bigint => (n < 0n ? 0n : n > MAX_UINT64 ? MAX_UINT64 : n);

/**
 * The wire summary of an audit. The report is already bounded (problems and accounts capped in
 * libs/credit); sums of a damaged ledger can leave uint64, so every number is clamped and the
 * problems say what is wrong.
 */
export function auditResponse(report: AuditReport, durationMs: number): AuditResponse {
  const t = report.totals;
  return {
    ok: report.ok,
    entriesChecked: t.lastSeq,
    accountsChecked: BigInt(t.accounts),
    escrowsChecked: BigInt(t.escrows),
    openEscrows: BigInt(t.openEscrows),
    genesis: toUint64(t.genesis),
    received: toUint64(t.received),
    available: toUint64(t.available),
    escrowed: toUint64(t.escrowed),
    accounts: report.accounts.map((a) => ({
      account: a.id,
      storedAvailable: toUint64(a.storedAvailable),
      storedEscrowed: toUint64(a.storedEscrowed),
      logAvailable: toUint64(a.replayedAvailable),
      logEscrowed: toUint64(a.replayedEscrowed),
    })),
    accountsOmitted: BigInt(Math.max(0, t.accounts - report.accounts.length)),
    problems: report.problems.map((p) => (p.length > MAX_AUDIT_PROBLEM_CHARS ? `${p.slice(0, MAX_AUDIT_PROBLEM_CHARS - 1)}…` : p)),
    durationMs: BigInt(Math.max(0, Math.round(durationMs))),
  };
}

/**
 * Announces committed entries. Events are announcements after the commit, not the record: the
 * log is. A failed publish (bus going away) must not turn a committed operation into an error.
 */
export function publishEntries(entries: readonly LedgerEntry[], publish: (entry: LedgerEntry, trace?: TraceContext) => void, log: Logger, trace?: TraceContext): void {
  for (const entry of entries) {
    try {
      publish(entry, trace);
    } catch (err) {
      log.warn({ err, seq: entry.seq.toString() }, 'could not publish a committed ledger entry');
    }
  }
}

/**
 * Per subject: validate -> ledger -> reply. The bus has already refused oversized and malformed
 * bytes; the ledger validates ids and amounts before queueing, so a bad request never waits
 * behind real work and never reaches the store.
 */
export function createCreditHandlers(deps: CreditHandlerDeps): CreditHandlers {
  const { ledger, log, stopwatch } = deps;
  // An audit reads the whole log while ledger writes wait behind it: requests that arrive while
  // one runs share its answer instead of queueing another full replay each.
  let auditing: Promise<AuditResponse> | undefined;
  const audit = async (): Promise<AuditResponse> => {
    const started = stopwatch.now();
    const report = await ledger.audit();
    const res = auditResponse(report, stopwatch.now() - started);
    if (!report.ok) log.warn({ problems: report.problems.length, first: report.problems[0] }, 'ledger audit found problems');
    return res;
  };

  function announce<R>(committed: Committed<R>, trace: TraceContext): R {
    publishEntries(committed.entries, deps.publish, log, trace);
    return committed.result;
  }

  return {
    reserve: async (req, ctx) => announce(await ledger.reserve(req), ctx.trace),
    settle: async (req, ctx) => {
      const done = announce(await ledger.settle(req), ctx.trace);
      if (req.task) deps.onReceiptsOwed();
      return done;
    },
    charge: async (req, ctx) => announce(await ledger.charge(req), ctx.trace),
    refund: async (req, ctx) => announce(await ledger.refund(req), ctx.trace),
    fundAgent: async (req, ctx) => announce(await ledger.fundAgent(req), ctx.trace),
    defundAgent: async (req, ctx) => announce(await ledger.defundAgent(req), ctx.trace),
    balance: (req) => ledger.balance(req.account === '' ? deps.nodeAccount : req.account),
    escrow: async (req) => {
      validateEscrowQuery(req.escrowId);
      return escrowStatus(req.escrowId, await ledger.escrow(req.escrowId, req.afterWrites));
    },
    standing: (req) => {
      validateId('node_id', req.nodeId);
      return { nodeId: req.nodeId, earnedInWindow: deps.standing.earned(req.nodeId, deps.clock.now()), windowMs: BigInt(deps.standing.windowMs) };
    },
    acceptReceipt: async (req, ctx) => {
      const committed = await deps.book.acceptReceipt(req);
      // A retry commits no entry: the payee's gateway then takes nothing more off what the payer owes.
      return { receipt: announce(committed, ctx.trace), alreadyHeld: committed.entries.length === 0 };
    },
    acceptVoid: async (req, ctx) => announce(await deps.book.acceptVoid(req), ctx.trace),
    chainBlocks: (req) => deps.book.blocks(req.fromSeq, req.limit),
    acceptChainOffer: (req) => {
      const { offer } = req;
      if (offer === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'offer is required: blocks of your node’s chain and the seq of the first');
      if (offer.blocks.length > CHAIN_OFFER_MAX_BLOCKS)
        throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `an offer holds at most ${CHAIN_OFFER_MAX_BLOCKS} blocks, this one ${offer.blocks.length}`);
      // Each block's size is the audit's to refuse (openBlock), as for a page read.
      if (deps.payers === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'this node does not read payers’ chains: it needs no blocks offered');
      return { wantedFromSeq: deps.payers.offer(req.fromNodeId, offer.fromSeq, offer.blocks) };
    },
    paidVoids: async (req) => {
      const after = req.afterReceiptId;
      if (after !== '' && (after.length > MAX_RECEIPT_ID_LENGTH || !RECEIPT_ID_CHARS.test(after))) {
        throw new SwarmError(
          ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
          `after_receipt_id must be a receipt id (at most ${MAX_RECEIPT_ID_LENGTH} of [A-Za-z0-9._:-]), got ${after.length} characters`,
        );
      }
      const page = await deps.book.paidVoids(req.afterReceiptId, req.limit);
      return { voids: page.voids, nextAfterReceiptId: page.nextAfterId };
    },
    reinstateVoided: async (req, ctx) => {
      if (!req.proof) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'proof is required: a void breach proof against one of this node’s payees');
      const done = announce(await deps.book.reinstateVoided(req.proof), ctx.trace);
      if (!done.alreadyReinstated)
        log.warn({ receiptId: done.receiptId.slice(0, 120), amount: String(done.amount) }, 'voided receipt paid after all: its payee kept it in its chain');
      return done;
    },
    audit: () =>
      (auditing ??= audit().finally(() => {
        auditing = undefined;
      })),
  };
}

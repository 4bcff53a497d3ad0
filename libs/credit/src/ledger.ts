import type {
  BalanceResponse,
  ChargeRequest,
  DefundAgentRequest,
  DefundAgentResponse,
  FundAgentRequest,
  FundAgentResponse,
  LedgerEntry,
  RefundRequest,
  RefundResponse,
  ReserveRequest,
  ReserveResponse,
  SettleRequest,
  SettleResponse,
} from '@swarm/contracts';
import type { AuditReport } from './ledger-audit';
import type { Escrow, Transfer } from './ledger-records';
import type { Change, Stamp } from './ledger-rules';
import type { SideSpace } from './ledger-store';
import type { OperationView } from './staged-batch';

/** What an operation answered, and the log entries it committed (none when it was a retry). */
export interface Committed<R> {
  readonly result: R;
  readonly entries: readonly LedgerEntry[];
}

/**
 * A node's credit ledger. Mutations are applied one at a time, each as one atomic write of its
 * records, log entries and next sequence number; a refused operation (SwarmError) changes nothing.
 */
export interface Ledger {
  reserve(req: ReserveRequest): Promise<Committed<ReserveResponse>>;
  settle(req: SettleRequest): Promise<Committed<SettleResponse>>;
  refund(req: RefundRequest): Promise<Committed<RefundResponse>>;
  /** Reserve and settle in one operation (charge-rule.ts): the escrow is born settled. */
  charge(req: ChargeRequest): Promise<Committed<SettleResponse>>;
  /**
   * Refunds up to `limit` open escrows whose expiry is at or before `nowMs`, earliest first, each
   * as its own atomic operation (a REFUND entry like `refund`). Answers what it refunded; an
   * escrow closed meanwhile is skipped, so a settle and an expiry never both close one escrow.
   */
  expireDue(nowMs: number, limit: number): Promise<Committed<readonly RefundResponse[]>>;
  /** Node -> agent account, idempotent by transfer id (transfer-rules.ts). */
  fundAgent(req: FundAgentRequest): Promise<Committed<FundAgentResponse>>;
  /** All of an agent account's available credit -> node, idempotent by transfer id. */
  defundAgent(req: DefundAgentRequest): Promise<Committed<DefundAgentResponse>>;
  /** UNKNOWN_ACCOUNT for an account that was never credited. */
  balance(account: string): Promise<BalanceResponse>;
  /**
   * The escrow as last written; with `afterWrites`, read in the write queue, once every operation
   * queued before it is written (what a caller that has stopped writing can take as final).
   */
  escrow(id: string, afterWrites?: boolean): Promise<Escrow | undefined>;
  transfer(id: string): Promise<Transfer | undefined>;
  /** Up to `limit` log entries with seq >= fromSeq, in seq order. */
  entries(fromSeq: bigint, limit: number): Promise<LedgerEntry[]>;
  /** Seq of the last committed entry; the log holds exactly this many entries (seq starts at 1). */
  lastSeq(): bigint;
  /**
   * Open escrows that have an expiry (every escrow reserved since expiry exists), counted in
   * memory; escrows reserved before then never expire and are not counted.
   */
  openEscrows(): number;
  /** Replays the whole log and checks it against the stored records. */
  audit(): Promise<AuditReport>;
  /**
   * One operation built by the caller (the chain book: receipts in, blocks appended), in its turn
   * like every other and committed in the same kind of batch. `apply` reads through `view`, and
   * returns its change or throws to refuse (nothing staged).
   */
  run<R>(apply: (view: OperationView, at: Stamp) => Change<R>): Promise<Committed<R>>;
  /** A durable side record (never a staged one). */
  side(space: SideSpace, key: string): Uint8Array | undefined;
  sideRange(space: SideSpace, fromKey: string, limit: number): Promise<Array<{ readonly key: string; readonly value: Uint8Array }>>;
  /** Refuses new operations, finishes queued ones, closes the store. Idempotent. */
  close(): Promise<void>;
}

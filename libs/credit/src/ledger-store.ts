/**
 * What the ledger needs from storage, and nothing of the ledger's logic: point reads, one atomic
 * batch per group of operations, ranged reads of the log and of the expiry index, whole-store scans for the
 * audit. The ledger (create-ledger.ts) decides what goes into a batch; a store only keeps it.
 * Every store passes the shared compliance suite (`ledgerStoreCompliance` in @swarm/testing).
 *
 * Point reads are synchronous: the ledger applies load -> rule -> stage one operation at a time, and
 * both stores answer a point read from memory (LevelDB: memtable or block cache via getSync), so
 * an async hop per record would only lengthen every operation's turn in the queue.
 */
import type { LedgerEntry } from '@swarm/contracts';
import type { Account, Escrow, Transfer } from './ledger-records';

/** One key of the expiry index: an open escrow and when it expires (ms since epoch). */
export interface ExpiryRef {
  readonly expiresAtMs: number;
  readonly escrowId: string;
}

/**
 * The node's chain (docs/chain.md), kept in the ledger's store so that a settle and the receipts it
 * owes other nodes commit in one batch. The store only keeps these bytes; @swarm/credit's chain
 * book decides what they mean.
 * - `block`: key = seq as 20 digits, value = a SignedBlock as signed.
 * - `receipt`: key = receipt id, value = the seq (20 digits, ASCII) of the block holding it.
 * - `outbox`: key = receipt id, value = a payer-signed SignedReceipt not yet countersigned.
 * - `meta`: small records (the head; credit reserved for other nodes, not yet pledged in the chain).
 * - `void`: key = receipt id, value = a SignedVoid: one this node asked of a payee (while the
 *   receipt waits in the outbox) or that a payee countersigned; one this node countersigned as payee.
 */
export type SideSpace = 'block' | 'receipt' | 'outbox' | 'meta' | 'void';
export const SIDE_SPACES: readonly SideSpace[] = Object.freeze(['block', 'receipt', 'outbox', 'meta', 'void']);

/** One side record to put (`value` set) or delete (`value` undefined). Keys are 1..300 chars of printable ASCII (a receipt id is up to 258). */
export interface SideWrite {
  readonly space: SideSpace;
  readonly key: string;
  readonly value: Uint8Array | undefined;
}

/** Everything one group of ledger operations writes; a store applies all of it or none of it. */
export interface LedgerBatch {
  /** Records to upsert (accounts, escrows and transfers are never deleted). */
  readonly accounts: readonly Account[];
  readonly escrows: readonly Escrow[];
  readonly transfers: readonly Transfer[];
  /** Log entries to append; their seqs continue the log without gaps. */
  readonly entries: readonly LedgerEntry[];
  readonly expiryPuts: readonly ExpiryRef[];
  readonly expiryDels: readonly ExpiryRef[];
  /** The seq the next entry will get, stored with the batch. */
  readonly nextSeq: bigint;
  /** Side records, applied in order (a later write to the same key wins). */
  readonly side: readonly SideWrite[];
}

export interface LedgerStore {
  /**
   * Opens the store, or opens it again after `close` (the data is kept). LedgerOpenError when it
   * cannot: held by another process, damaged, or of a format this build does not read.
   */
  open(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
  account(id: string): Account | undefined;
  escrow(id: string): Escrow | undefined;
  transfer(id: string): Transfer | undefined;
  hasExpiry(ref: ExpiryRef): boolean;
  /** A side record, or undefined. Synchronous like the other point reads. */
  side(space: SideSpace, key: string): Uint8Array | undefined;
  /**
   * True while the stored accounts predate their counters (`spent`, `reserves`, `closed`: a store
   * an older build wrote); they read with those at zero and false until the ledger derives them
   * from the log at open (account-counters.ts). Every commit marks the store current.
   */
  legacyAccounts(): boolean;
  /** The stored next seq; 1n for an empty store. */
  nextSeq(): bigint;
  commit(batch: LedgerBatch): Promise<void>;
  /** Up to `limit` log entries with seq >= fromSeq, in seq order. */
  entries(fromSeq: bigint, limit: number): Promise<LedgerEntry[]>;
  /** Up to `limit` index keys with expiresAtMs <= untilMs, ordered by expiry, then escrow id. */
  expiring(untilMs: number, limit: number): Promise<ExpiryRef[]>;
  /** Whole-store scans: the log in seq order, the rest in any order. */
  scanLog(): AsyncIterable<LedgerEntry>;
  scanAccounts(): AsyncIterable<Account>;
  scanEscrows(): AsyncIterable<Escrow>;
  scanTransfers(): AsyncIterable<Transfer>;
  scanExpiries(): AsyncIterable<ExpiryRef>;
  /** Up to `limit` side records of `space` with key >= `fromKey`, in key order (byte order of the keys). */
  sideRange(space: SideSpace, fromKey: string, limit: number): Promise<Array<{ readonly key: string; readonly value: Uint8Array }>>;
}

/** A store that cannot be opened; the message says which and why. */
export class LedgerOpenError extends Error {
  readonly code = 'SWARM_LEDGER_OPEN';
}

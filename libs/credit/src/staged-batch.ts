/**
 * The records of a group of operations, staged in order and not yet written: an overlay over the
 * store that later operations of the same group read through, so each sees every earlier one.
 * It becomes ONE LedgerBatch; dropping it is the rollback (the store never saw any of it).
 *
 * The expiry index holds exactly the open escrows that have an expiry: staging an escrow record
 * open puts its key, closed deletes it; the last word on a key wins, as it would in the store.
 * Side records (the chain book's, ledger-store.ts): the batch holds the last one staged for each key,
 * in the order of those last writes, and a later operation reads it (a staged delete reads as
 * undefined).
 */
import type { LedgerEntry } from '@swarm/contracts';
import type { Account, Escrow, Transfer } from './ledger-records';
import type { Change } from './ledger-rules';
import type { ExpiryRef, LedgerBatch, LedgerStore, SideSpace, SideWrite } from './ledger-store';
import { SIDE_SPACES } from './ledger-store';

/** The point reads an operation's rule needs, through the staged records. */
export type RecordView = Pick<LedgerStore, 'account' | 'escrow' | 'transfer' | 'hasExpiry' | 'side'>;

/** What an operation reads: records through the staged ones, and the seq its first entry gets. */
export interface OperationView extends RecordView {
  readonly nextSeq: bigint;
}

export interface StagedBatch extends OperationView {
  /** Operations staged so far, and records they write (a bound on the batch's size). */
  readonly operations: number;
  readonly writes: number;
  /** Bytes of the side values staged (a signed block or receipt is up to ~9 KiB, far above a record). */
  readonly sideBytes: number;
  /** Open escrows with an expiry the batch adds (negative: closes). */
  readonly openedEscrows: number;
  /**
   * Adds one operation's change (whose entries continue at `nextSeq`); `extraDels` drops stale index
   * keys. Throws, staging nothing, on a side write no store may keep (unknown space, bad key).
   */
  stage(change: Change<unknown>, extraDels?: readonly ExpiryRef[]): void;
  /** Nothing to write: every staged operation was a retry or wrote nothing. */
  isEmpty(): boolean;
  toLedgerBatch(): LedgerBatch;
}

interface IndexKey {
  readonly ref: ExpiryRef;
  readonly present: boolean;
}

const keyOf = (ref: ExpiryRef) => `${ref.expiresAtMs}!${ref.escrowId}`;
// Space names hold no blank, so the first one ends the space.
const sideKeyOf = (space: SideSpace, key: string) => `${space} ${key}`;
/** ledger-store.ts: 1..300 chars of printable ASCII, so that every store orders them by byte. */
const SIDE_KEY = /^[\x20-\x7e]{1,300}$/;
/** How much of a bad key an error repeats. */
const KEY_ECHO_CHARS = 32;

/**
 * A side write the stores could not keep as the interface promises: a caller's bug. Checked before
 * anything of the change is staged, so the operation is refused whole and its group goes on.
 */
function checkSideWrite(w: SideWrite): void {
  if (!SIDE_SPACES.includes(w.space)) throw new Error(`side write to unknown space ${JSON.stringify(String(w.space).slice(0, KEY_ECHO_CHARS))}`);
  if (typeof w.key !== 'string' || !SIDE_KEY.test(w.key)) {
    throw new Error(`side write to ${w.space} needs a key of 1..300 printable ASCII chars, got ${JSON.stringify(String(w.key).slice(0, KEY_ECHO_CHARS))}`);
  }
  if (w.value !== undefined && !(w.value instanceof Uint8Array)) throw new Error(`side write to ${w.space} needs a Uint8Array value or undefined`);
}

export function createStagedBatch(store: RecordView, nextSeq: bigint): StagedBatch {
  const accounts = new Map<string, Account>();
  const escrows = new Map<string, Escrow>();
  const transfers = new Map<string, Transfer>();
  const index = new Map<string, IndexKey>();
  const entries: LedgerEntry[] = [];
  /**
   * The last staged write of each side key: what the batch writes. A group's operations rewrite
   * the chain's head and pledge one after another; only the last value of a key is written.
   */
  const lastSide = new Map<string, SideWrite>();
  let seq = nextSeq;
  let operations = 0;
  let writes = 0;
  let sideBytes = 0;
  let openedEscrows = 0;

  const hasExpiry = (ref: ExpiryRef) => index.get(keyOf(ref))?.present ?? store.hasExpiry(ref);
  const setIndex = (ref: ExpiryRef, present: boolean) => {
    if (hasExpiry(ref) !== present) openedEscrows += present ? 1 : -1;
    index.set(keyOf(ref), { ref, present });
    writes += 1;
  };

  return {
    get nextSeq() {
      return seq;
    },
    get operations() {
      return operations;
    },
    get writes() {
      return writes;
    },
    get sideBytes() {
      return sideBytes;
    },
    get openedEscrows() {
      return openedEscrows;
    },
    account: (id) => accounts.get(id) ?? store.account(id),
    escrow: (id) => escrows.get(id) ?? store.escrow(id),
    transfer: (id) => transfers.get(id) ?? store.transfer(id),
    hasExpiry,
    side(space, key) {
      const staged = lastSide.get(sideKeyOf(space, key));
      return staged ? staged.value : store.side(space, key);
    },
    stage(change, extraDels = []) {
      const changedSide = change.side ?? [];
      for (const w of changedSide) checkSideWrite(w);
      operations += 1;
      const changedTransfers = change.transfers ?? [];
      // A retry or a no-op writes nothing, not even the records it read. (A transfer that moved
      // nothing still writes its record, so that its id answers the same next time; an operation
      // that only writes side records, such as a receipt accepted, is no retry either.)
      if (change.entries.length === 0 && extraDels.length === 0 && changedTransfers.length === 0 && changedSide.length === 0) return;
      for (const a of change.accounts) accounts.set(a.id, a);
      for (const e of change.escrows) escrows.set(e.id, e);
      for (const t of changedTransfers) transfers.set(t.id, t);
      entries.push(...change.entries);
      seq += BigInt(change.entries.length);
      for (const w of changedSide) {
        const key = sideKeyOf(w.space, w.key);
        // Deleted first, so the batch keeps the order of each key's last write.
        lastSide.delete(key);
        lastSide.set(key, w);
        sideBytes += w.value?.byteLength ?? 0;
      }
      writes += change.accounts.length + change.escrows.length + changedTransfers.length + change.entries.length + changedSide.length;
      for (const ref of extraDels) setIndex(ref, false);
      for (const e of change.escrows) {
        if (e.expiresAtMs !== undefined) setIndex({ expiresAtMs: e.expiresAtMs, escrowId: e.id }, e.state === 'open');
      }
    },
    isEmpty: () => writes === 0,
    toLedgerBatch(): LedgerBatch {
      const keys = [...index.values()];
      return {
        accounts: [...accounts.values()],
        escrows: [...escrows.values()],
        transfers: [...transfers.values()],
        entries,
        expiryPuts: keys.filter((k) => k.present).map((k) => k.ref),
        expiryDels: keys.filter((k) => !k.present).map((k) => k.ref),
        nextSeq: seq,
        side: [...lastSide.values()],
      };
    },
  };
}

/**
 * A LedgerStore in memory: for tests, the simulator and any node that needs no durability. The
 * data outlives `close`, so the same store can be opened again (as a LevelDB directory can).
 * A commit applies its batch synchronously, so a read never sees half of one.
 * Side records keep a copy of each value committed (callers treat values as immutable, but a store
 * on disk would not see a later change to the caller's array either).
 */
import type { LedgerEntry } from '@swarm/contracts';
import type { Account, Escrow, Transfer } from './ledger-records';
import type { ExpiryRef, LedgerBatch, LedgerStore, SideSpace } from './ledger-store';
import { SIDE_SPACES } from './ledger-store';

export function createMemoryStore(): LedgerStore {
  const accounts = new Map<string, Account>();
  const escrows = new Map<string, Escrow>();
  const transfers = new Map<string, Transfer>();
  const log: LedgerEntry[] = [];
  const expiries = new Map<string, ExpiryRef>();
  const side = new Map<SideSpace, Map<string, Uint8Array>>(SIDE_SPACES.map((space) => [space, new Map()]));
  let nextSeq = 1n;
  let isOpen = false;

  const keyOf = (ref: ExpiryRef) => `${ref.expiresAtMs}!${ref.escrowId}`;
  const opened = () => {
    if (!isOpen) throw new Error('the memory ledger store is not open');
  };
  const spaceOf = (space: SideSpace) => {
    const records = side.get(space);
    if (!records) throw new Error(`unknown side space ${JSON.stringify(String(space).slice(0, 32))}`);
    return records;
  };

  return {
    async open() {
      isOpen = true;
    },
    async close() {
      isOpen = false;
    },
    account: (id) => (opened(), accounts.get(id)),
    escrow: (id) => (opened(), escrows.get(id)),
    transfer: (id) => (opened(), transfers.get(id)),
    hasExpiry: (ref) => (opened(), expiries.has(keyOf(ref))),
    side: (space, key) => (opened(), spaceOf(space).get(key)),
    // Memory stores start empty under this build: their accounts always have their counters.
    legacyAccounts: () => (opened(), false),
    nextSeq: () => (opened(), nextSeq),
    async commit(batch: LedgerBatch) {
      opened();
      // Checked before anything is applied: a batch is kept whole or not at all.
      for (const w of batch.side) spaceOf(w.space);
      for (const a of batch.accounts) accounts.set(a.id, a);
      for (const e of batch.escrows) escrows.set(e.id, e);
      for (const t of batch.transfers) transfers.set(t.id, t);
      log.push(...batch.entries);
      for (const ref of batch.expiryDels) expiries.delete(keyOf(ref));
      for (const ref of batch.expiryPuts) expiries.set(keyOf(ref), ref);
      nextSeq = batch.nextSeq;
      for (const w of batch.side) {
        if (w.value === undefined) spaceOf(w.space).delete(w.key);
        else spaceOf(w.space).set(w.key, new Uint8Array(w.value));
      }
    },
    async entries(fromSeq, limit) {
      opened();
      const start = Number(fromSeq < 1n ? 1n : fromSeq) - 1;
      return log.slice(start, start + limit);
    },
    async expiring(untilMs, limit) {
      opened();
      // Open escrows are few (each is a task in flight); a sort per sweep costs nothing.
      return [...expiries.values()]
        .filter((ref) => ref.expiresAtMs <= untilMs)
        .sort((a, b) => a.expiresAtMs - b.expiresAtMs || (a.escrowId < b.escrowId ? -1 : a.escrowId > b.escrowId ? 1 : 0))
        .slice(0, limit);
    },
    scanLog: () => scan(opened, () => log),
    scanAccounts: () => scan(opened, () => accounts.values()),
    scanEscrows: () => scan(opened, () => escrows.values()),
    scanTransfers: () => scan(opened, () => transfers.values()),
    scanExpiries: () => scan(opened, () => expiries.values()),
    async sideRange(space, fromKey, limit) {
      opened();
      if (!(limit > 0)) return [];
      // Keys are printable ASCII, so comparing strings (by UTF-16 unit) is comparing bytes.
      return [...spaceOf(space)]
        .filter(([key]) => key >= fromKey)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, limit)
        .map(([key, value]) => ({ key, value }));
    },
  };
}

/** A snapshot taken when the scan starts, as a LevelDB iterator reads one. */
async function* scan<T>(opened: () => void, items: () => Iterable<T>): AsyncIterable<T> {
  opened();
  yield* [...items()];
}

/**
 * A LedgerStore in memory: for tests, the simulator and any node that needs no durability. The
 * data outlives `close`, so the same store can be opened again (as a LevelDB directory can).
 * A commit applies its batch synchronously, so a read never sees half of one.
 */
import type { LedgerEntry } from '@swarm/contracts';
import type { Account, Escrow, Transfer } from './ledger-records';
import type { ExpiryRef, LedgerBatch, LedgerStore } from './ledger-store';

export function createMemoryStore(): LedgerStore {
  const accounts = new Map<string, Account>();
  const escrows = new Map<string, Escrow>();
  const transfers = new Map<string, Transfer>();
  const log: LedgerEntry[] = [];
  const expiries = new Map<string, ExpiryRef>();
  let nextSeq = 1n;
  let isOpen = false;

  const keyOf = (ref: ExpiryRef) => `${ref.expiresAtMs}!${ref.escrowId}`;
  const opened = () => {
    if (!isOpen) throw new Error('the memory ledger store is not open');
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
    // Memory stores start empty under this build: their accounts always have their counters.
    legacyAccounts: () => (opened(), false),
    nextSeq: () => (opened(), nextSeq),
    async commit(batch: LedgerBatch) {
      opened();
      for (const a of batch.accounts) accounts.set(a.id, a);
      for (const e of batch.escrows) escrows.set(e.id, e);
      for (const t of batch.transfers) transfers.set(t.id, t);
      log.push(...batch.entries);
      for (const ref of batch.expiryDels) expiries.delete(keyOf(ref));
      for (const ref of batch.expiryPuts) expiries.set(keyOf(ref), ref);
      nextSeq = batch.nextSeq;
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
  };
}

/** A snapshot taken when the scan starts, as a LevelDB iterator reads one. */
async function* scan<T>(opened: () => void, items: () => Iterable<T>): AsyncIterable<T> {
  opened();
  yield* [...items()];
}

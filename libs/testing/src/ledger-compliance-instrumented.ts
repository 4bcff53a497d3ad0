/**
 * The ledger store compliance suite's probe (ledger-compliance.ts): the store under test with its
 * writes counted, and the next write made to fail or to wait, to see what the ledger does while a
 * batch is in flight and after one fails. Every read goes straight to the store.
 */
import type { LedgerBatch, LedgerStore } from '@swarm/credit';

export type StoreProbe = ReturnType<typeof instrumented>;

export function instrumented(inner: LedgerStore) {
  let commits = 0;
  let failure: Error | undefined;
  let gate: { entered: () => void; released: Promise<void> } | undefined;
  const store: LedgerStore = {
    open: () => inner.open(),
    close: () => inner.close(),
    account: (id) => inner.account(id),
    escrow: (id) => inner.escrow(id),
    transfer: (id) => inner.transfer(id),
    hasExpiry: (ref) => inner.hasExpiry(ref),
    side: (space, key) => inner.side(space, key),
    legacyAccounts: () => inner.legacyAccounts(),
    nextSeq: () => inner.nextSeq(),
    async commit(batch: LedgerBatch) {
      commits += 1;
      const [err, held] = [failure, gate];
      failure = undefined;
      gate = undefined;
      if (held) {
        held.entered();
        await held.released;
      }
      if (err) throw err;
      await inner.commit(batch);
    },
    entries: (fromSeq, limit) => inner.entries(fromSeq, limit),
    expiring: (untilMs, limit) => inner.expiring(untilMs, limit),
    scanLog: () => inner.scanLog(),
    scanAccounts: () => inner.scanAccounts(),
    scanEscrows: () => inner.scanEscrows(),
    scanTransfers: () => inner.scanTransfers(),
    scanExpiries: () => inner.scanExpiries(),
    sideRange: (space, fromKey, limit) => inner.sideRange(space, fromKey, limit),
  };
  return {
    store,
    commits: () => commits,
    failNextCommit(err: Error) {
      failure = err;
    },
    /** Holds the next write until `release`; `entered` resolves once it has begun. */
    holdNextCommit() {
      let entered!: () => void;
      let release!: () => void;
      const enteredP = new Promise<void>((r) => (entered = r));
      gate = { entered, released: new Promise<void>((r) => (release = r)) };
      return { entered: enteredP, release };
    },
  };
}

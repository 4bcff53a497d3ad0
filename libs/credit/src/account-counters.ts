/**
 * Accounts written before they kept `spent`, `reserves` and `closed` (a store of an older build)
 * get them from the log, once, when the ledger opens: the log holds every RESERVE and SETTLE since
 * genesis, so it gives the counters exactly, and no account could be closed before closing
 * existed. One batch rewrites every account and marks the store current, so a crash leaves the
 * old store whole and the next open derives again.
 */
import type { LedgerEntry } from '@swarm/contracts';
import { EntryKind } from '@swarm/contracts';
import type { LedgerStore } from './ledger-store';

export interface AccountCounters {
  spent: bigint;
  reserves: bigint;
}

/** Each payer's counters as the log gives them: one reserve per RESERVE, spent = its SETTLE amounts. */
export async function countersFromLog(log: AsyncIterable<LedgerEntry>): Promise<Map<string, AccountCounters>> {
  const counters = new Map<string, AccountCounters>();
  const of = (id: string) => {
    let c = counters.get(id);
    if (!c) counters.set(id, (c = { spent: 0n, reserves: 0n }));
    return c;
  };
  for await (const e of log) {
    if (e.kind === EntryKind.ENTRY_KIND_RESERVE) of(e.fromAccount).reserves += 1n;
    else if (e.kind === EntryKind.ENTRY_KIND_SETTLE) of(e.fromAccount).spent += e.amount;
  }
  return counters;
}

/** Derives and commits the counters of a store whose accounts predate them; answers how many accounts it rewrote. */
export async function upgradeAccountCounters(store: LedgerStore): Promise<number> {
  const counters = await countersFromLog(store.scanLog());
  const accounts = [];
  for await (const a of store.scanAccounts()) accounts.push({ ...a, ...(counters.get(a.id) ?? { spent: 0n, reserves: 0n }), closed: false });
  await store.commit({ accounts, escrows: [], transfers: [], entries: [], expiryPuts: [], expiryDels: [], nextSeq: store.nextSeq(), side: [] });
  return accounts.length;
}

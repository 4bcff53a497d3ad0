import { EntryKind } from '@swarm/contracts';
import type { LedgerEntry } from '@swarm/contracts';
import { emptyAccount } from './ledger-records';
import type { Change } from './ledger-rules';
import type { LedgerStore, SideSpace, SideWrite } from './ledger-store';
import { createMemoryStore } from './memory-store';
import { createStagedBatch } from './staged-batch';

const bytes = (...values: number[]) => new Uint8Array(values);
const put = (space: SideSpace, key: string, value: Uint8Array): SideWrite => ({ space, key, value });
const del = (space: SideSpace, key: string): SideWrite => ({ space, key, value: undefined });
const change = (over: Partial<Change<undefined>> = {}): Change<undefined> => ({ result: undefined, accounts: [], escrows: [], entries: [], ...over });
const genesis: LedgerEntry = { seq: 1n, kind: EntryKind.ENTRY_KIND_GENESIS, escrowId: '', fromAccount: '', toAccount: 'node', amount: 10n, atMs: 0n };

/** An open memory store holding meta!head = [1] and outbox!r1 = [7]. */
async function storeWithSide(): Promise<LedgerStore> {
  const store = createMemoryStore();
  await store.open();
  await store.commit({
    accounts: [],
    escrows: [],
    transfers: [],
    entries: [],
    expiryPuts: [],
    expiryDels: [],
    nextSeq: 1n,
    side: [put('meta', 'head', bytes(1)), put('outbox', 'r1', bytes(7))],
  });
  return store;
}

describe('staged batch - side records', () => {
  it('reads through staged side writes: the last one for a key, a delete as undefined, the store otherwise', async () => {
    const store = await storeWithSide();
    const batch = createStagedBatch(store, 1n);
    expect(batch.side('meta', 'head')).toStrictEqual(bytes(1));
    batch.stage(change({ side: [put('meta', 'head', bytes(2)), put('receipt', 'r1', bytes(3))] }));
    batch.stage(change({ side: [put('meta', 'head', bytes(4)), del('outbox', 'r1')] }));
    expect(batch.side('meta', 'head')).toStrictEqual(bytes(4));
    expect(batch.side('outbox', 'r1')).toBeUndefined();
    expect(batch.side('receipt', 'r1')).toStrictEqual(bytes(3));
    // Each space apart: the same key elsewhere is another record.
    expect(batch.side('block', 'r1')).toBeUndefined();
    expect(batch.side('receipt', 'head')).toBeUndefined();
    // A delete then a put of one key reads the put.
    batch.stage(change({ side: [put('outbox', 'r1', bytes(8))] }));
    expect(batch.side('outbox', 'r1')).toStrictEqual(bytes(8));
    // The store itself has seen none of it.
    expect(store.side('meta', 'head')).toStrictEqual(bytes(1));
    expect(store.side('outbox', 'r1')).toStrictEqual(bytes(7));
  });

  it('stages an operation that writes only side records, counting them, and batches the last write of each key, in order', async () => {
    const store = await storeWithSide();
    const batch = createStagedBatch(store, 1n);
    const writes: SideWrite[] = [put('meta', 'head', bytes(2)), del('outbox', 'r1'), put('meta', 'head', bytes(3))];
    batch.stage(change({ side: writes.slice(0, 2) }));
    batch.stage(change({ entries: [genesis], accounts: [{ ...emptyAccount('node'), available: 10n }], side: writes.slice(2) }));
    expect(batch.isEmpty()).toBe(false);
    expect(batch.operations).toBe(2);
    expect(batch.writes).toBe(5);
    // A delete holds no bytes.
    expect(batch.sideBytes).toBe(2);
    const ledgerBatch = batch.toLedgerBatch();
    // The head written twice in the group is written once, with its last value.
    expect(ledgerBatch.side).toEqual([writes[1], writes[2]]);
    expect(ledgerBatch.entries).toEqual([genesis]);
    expect(ledgerBatch.nextSeq).toBe(2n);

    await store.commit(ledgerBatch);
    expect(store.side('meta', 'head')).toStrictEqual(bytes(3));
    expect(store.side('outbox', 'r1')).toBeUndefined();
  });

  it('still skips a retry, whose side writes are empty or absent', async () => {
    const store = await storeWithSide();
    const batch = createStagedBatch(store, 1n);
    batch.stage(change({ accounts: [emptyAccount('read-only')] }));
    batch.stage(change({ accounts: [emptyAccount('read-only')], side: [] }));
    expect(batch.operations).toBe(2);
    expect(batch.writes).toBe(0);
    expect(batch.isEmpty()).toBe(true);
    expect(batch.account('read-only')).toBeUndefined();
    expect(batch.toLedgerBatch().side).toEqual([]);
  });

  it.each<[string, SideWrite]>([
    ['an unknown space', { space: 'ledger' as SideSpace, key: 'k', value: bytes(1) }],
    ['an empty key', put('meta', '', bytes(1))],
    ['a key over 300 chars', put('meta', 'k'.repeat(301), bytes(1))],
    ['a key with a newline', put('meta', 'a\nb', bytes(1))],
    ['a key that is not ASCII', put('meta', 'caf\u00e9', bytes(1))],
    ['a value that is not bytes', { space: 'meta', key: 'k', value: 'text' as unknown as Uint8Array }],
  ])('refuses a change with %s whole, staging nothing of it', async (_, bad) => {
    const store = await storeWithSide();
    const batch = createStagedBatch(store, 1n);
    const refused = change({ entries: [genesis], accounts: [{ ...emptyAccount('node'), available: 10n }], side: [put('meta', 'head', bytes(9)), bad] });
    expect(() => batch.stage(refused)).toThrow(/side write/);
    expect(batch.operations).toBe(0);
    expect(batch.writes).toBe(0);
    expect(batch.nextSeq).toBe(1n);
    expect(batch.account('node')).toBeUndefined();
    expect(batch.side('meta', 'head')).toStrictEqual(bytes(1));
    // The group goes on: a good change after it stages as usual.
    batch.stage(change({ side: [put('meta', 'k'.repeat(300), bytes(1)), put('meta', ' ~', bytes(2))] }));
    expect(batch.toLedgerBatch().side.map((w) => w.key)).toEqual(['k'.repeat(300), ' ~']);
  });

  it('does not echo a long bad key whole', async () => {
    const batch = createStagedBatch(await storeWithSide(), 1n);
    let message = '';
    try {
      batch.stage(change({ side: [put('meta', `${'x'.repeat(500)}\u0000`, bytes(1))] }));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/side write to meta needs a key/);
    expect(message.length).toBeLessThan(200);
  });
});

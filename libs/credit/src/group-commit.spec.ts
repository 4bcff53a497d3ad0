import type { LedgerBatch, LedgerStore } from './ledger-store';
import { createGroupCommitter, MAX_GROUP_SIDE_BYTES } from './group-commit';
import { createMemoryStore } from './memory-store';

/** A memory store that records every batch it is asked to commit. */
async function recordingStore(): Promise<{ store: LedgerStore; batches: LedgerBatch[] }> {
  const inner = createMemoryStore();
  await inner.open();
  const batches: LedgerBatch[] = [];
  const store: LedgerStore = {
    ...inner,
    async commit(batch) {
      batches.push(batch);
      await inner.commit(batch);
    },
  };
  return { store, batches };
}

describe('group commit - side records', () => {
  it('cuts a group once its side values pass the byte bound, and commits every operation', async () => {
    const { store, batches } = await recordingStore();
    const committer = createGroupCommitter(store, { nextSeq: 1n, openEscrows: 0, maxOperations: 256 });
    const perOperation = Math.ceil(MAX_GROUP_SIDE_BYTES / 3);
    const keys = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'];
    // Issued in one tick: without the bound they would share one batch.
    const done = await Promise.all(
      keys.map((key, i) =>
        committer.run(() => ({
          change: { result: key, accounts: [], escrows: [], entries: [], side: [{ space: 'block' as const, key, value: new Uint8Array(perOperation).fill(i) }] },
        })),
      ),
    );
    expect(done.map((d) => d.result)).toEqual(keys);
    // Three operations reach the bound, so each batch holds at most three.
    expect(batches.map((b) => b.side.length)).toEqual([3, 3, 1]);
    for (const [i, key] of keys.entries()) expect(store.side('block', key)?.[perOperation - 1]).toBe(i);
  });

  it('writes small side records of many operations in one batch', async () => {
    const { store, batches } = await recordingStore();
    const committer = createGroupCommitter(store, { nextSeq: 1n, openEscrows: 0, maxOperations: 256 });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        committer.run(() => ({ change: { result: i, accounts: [], escrows: [], entries: [], side: [{ space: 'receipt' as const, key: `r${i}`, value: new Uint8Array([i]) }] } })),
      ),
    );
    expect(batches).toHaveLength(1);
    expect((await store.sideRange('receipt', '', 100)).length).toBe(20);
  });
});

import { ledgerStoreCompliance } from '@swarm/testing';
import { emptyAccount } from './ledger-records';
import { createMemoryStore } from './memory-store';

ledgerStoreCompliance('memory store', async () => ({ store: createMemoryStore(), cleanup: async () => undefined }));

describe('memory store - lifecycle', () => {
  it('refuses reads while closed and keeps its data for the next open', async () => {
    const store = createMemoryStore();
    expect(() => store.account('a')).toThrow(/not open/);
    await store.open();
    await store.commit({ accounts: [{ ...emptyAccount('a'), available: 1n }], escrows: [], transfers: [], entries: [], expiryPuts: [], expiryDels: [], nextSeq: 1n, side: [] });
    await store.close();
    expect(() => store.nextSeq()).toThrow(/not open/);
    await store.open();
    expect(store.account('a')).toEqual({ ...emptyAccount('a'), available: 1n });
    expect(store.legacyAccounts()).toBe(false);
  });
});

import { EntryKind, LedgerEntry } from '@swarm/contracts';
import type { Ledger } from '@swarm/credit';
import { silentLogger } from '@swarm/telemetry';
import { createCreditHandlers } from './handlers';

const entry: LedgerEntry = { seq: 2n, kind: EntryKind.ENTRY_KIND_REFUND, escrowId: 'e1', fromAccount: 'n', toAccount: 'n', amount: 5n, atMs: 0n };
const ctx = { log: silentLogger(), headers: undefined };

function fakeLedger(): Ledger & { balances: string[] } {
  const balances: string[] = [];
  return {
    balances,
    reserve: async () => ({ result: { escrowId: 'e1', available: 1n }, entries: [] }),
    settle: async () => ({ result: { escrowId: 'e1', paid: 1n, refunded: 0n }, entries: [] }),
    refund: async () => ({ result: { escrowId: 'e1', refunded: 5n }, entries: [entry] }),
    expireDue: async () => ({ result: [], entries: [] }),
    balance: async (account) => {
      balances.push(account);
      return { account, available: 0n, escrowed: 0n };
    },
    escrow: async () => undefined,
    entries: async () => [],
    lastSeq: () => 2n,
    openEscrows: () => 0,
    audit: async () => ({ ok: true, problems: [], totals: { genesis: 0n, available: 0n, escrowed: 0n, accounts: 0, escrows: 0, openEscrows: 0, lastSeq: 2n } }),
    close: async () => undefined,
  };
}

describe('credit handlers - mapping', () => {
  it('reads the node account for an empty balance request', async () => {
    const ledger = fakeLedger();
    const h = createCreditHandlers({ ledger, nodeAccount: 'node', publish: () => undefined, log: silentLogger() });
    await h.balance({ account: '' }, ctx);
    await h.balance({ account: 'peer' }, ctx);
    expect(ledger.balances).toEqual(['node', 'peer']);
  });

  it('publishes committed entries, and still replies when publishing fails', async () => {
    const published: LedgerEntry[] = [];
    const ok = createCreditHandlers({ ledger: fakeLedger(), nodeAccount: 'node', publish: (e) => published.push(e), log: silentLogger() });
    await expect(ok.refund({ escrowId: 'e1' }, ctx)).resolves.toEqual({ escrowId: 'e1', refunded: 5n });
    expect(published).toEqual([entry]);

    const failing = createCreditHandlers({
      ledger: fakeLedger(),
      nodeAccount: 'node',
      publish: () => {
        throw new Error('connection closed');
      },
      log: silentLogger(),
    });
    await expect(failing.refund({ escrowId: 'e1' }, ctx)).resolves.toEqual({ escrowId: 'e1', refunded: 5n });
  });
});

import { EntryKind } from '@swarm/contracts';
import { LedgerOpenError } from '@swarm/credit';
import { manualClock } from '@swarm/determinism';
import type { TempDir } from '@swarm/testing';
import { ledgerStoreCompliance, tempDir } from '@swarm/testing';
import { Level } from 'level';
import { join } from 'node:path';
import type { LevelLedgerOptions } from './index';
import { createLevelStore, openLedger } from './index';

ledgerStoreCompliance('level store', async () => {
  const dir = await tempDir('swarm-ledger-');
  return { store: createLevelStore({ path: join(dir.path, 'ledger'), sync: false }), cleanup: () => dir.remove() };
});

describe('level store - on a real LevelDB', () => {
  let dir: TempDir;
  let path: string;
  const clock = manualClock(1_700_000_000_000);
  const open = (over: Partial<LevelLedgerOptions> = {}) => openLedger({ path, clock, nodeAccount: 'node', genesisGrant: 1000n, sync: false, ...over });
  const PAYEES = ['peer', 'node'];

  beforeEach(async () => {
    dir = await tempDir('swarm-ledger-');
    path = join(dir.path, 'ledger');
  });
  afterEach(() => dir.remove());

  it('refuses a second open of the same store while it is open', async () => {
    const ledger = await open();
    const err = await open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerOpenError);
    expect((err as Error).message).toMatch(/is in use by another process/);
    await ledger.close();
  });

  it('writes every batch with fsync when asked, and reads it back', async () => {
    let ledger = await open({ sync: true });
    await ledger.reserve({ escrowId: 'e1', account: 'node', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
    await ledger.close();
    ledger = await open();
    expect(await ledger.balance('node')).toEqual({ account: 'node', available: 990n, escrowed: 10n });
    await ledger.close();
  });

  it('opens a format-1 directory written before multi-payee settles, and settles on', async () => {
    // Exactly what the LevelDB ledger wrote before its store was split out: genesis, a reserve,
    // a single-payee settle with its refund, and an escrow still open with an expiry key.
    const raw = new Level<string, string>(path);
    const put = (sub: string, key: string, value: string) => raw.sublevel<string, string>(sub, {}).put(key, value);
    const entry = (seq: number, kind: string, escrowId: string, from: string, to: string, amount: number) =>
      JSON.stringify({ seq: String(seq), kind, escrowId, from, to, amount: String(amount), atMs: '1700000000000' });
    await put('log', '00000000000000000001', entry(1, 'GENESIS', '', '', 'node', 1000));
    await put('log', '00000000000000000002', entry(2, 'RESERVE', 'old', 'node', '', 30));
    await put('log', '00000000000000000003', entry(3, 'SETTLE', 'old', 'node', 'peer', 20));
    await put('log', '00000000000000000004', entry(4, 'REFUND', 'old', 'node', 'node', 10));
    await put('log', '00000000000000000005', entry(5, 'RESERVE', 'open', 'node', '', 5));
    await put('escrow', 'old', '{"payer":"node","amount":"30","state":"settled","payee":"peer","paid":"20","refunded":"10","expiresAtMs":1700000150000,"payees":["peer","node"]}');
    await put('escrow', 'open', '{"payer":"node","amount":"5","state":"open","expiresAtMs":1700000150000,"payees":["peer","node"]}');
    await put('expiry', '0001700000150000!open', '');
    await put('acct', 'node', '{"available":"975","escrowed":"5"}');
    await put('acct', 'peer', '{"available":"20","escrowed":"0"}');
    await put('meta', 'format', '1');
    await put('meta', 'nextSeq', '6');
    await raw.close();

    const ledger = await open();
    expect(ledger.lastSeq()).toBe(5n);
    expect(ledger.openEscrows()).toBe(1);
    expect(await ledger.escrow('old')).toMatchObject({ state: 'settled', payee: 'peer', paid: 20n, refunded: 10n });
    expect((await ledger.audit()).problems).toEqual([]);
    const settled = await ledger.settle({
      escrowId: 'open',
      payee: '',
      amount: 0n,
      payouts: [
        { payee: 'peer', amount: 3n },
        { payee: 'node', amount: 2n },
      ],
    });
    expect(settled.entries.map((e) => e.kind)).toEqual([EntryKind.ENTRY_KIND_SETTLE, EntryKind.ENTRY_KIND_SETTLE]);
    expect((await ledger.audit()).problems).toEqual([]);
    await ledger.close();
  });

  it('audit finds records the log does not explain, and open refuses a damaged or foreign store', async () => {
    const ledger = await open();
    await ledger.reserve({ escrowId: 'e1', account: 'node', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
    await ledger.close();

    const raw = new Level<string, string>(path);
    await raw.sublevel<string, string>('acct', {}).put('node', '{"available":"991","escrowed":"10"}');
    await raw.close();
    const tampered = await open();
    const report = await tampered.audit();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(expect.arrayContaining([expect.stringMatching(/account node stores 991\/10, log gives 990\/10/)]));
    await tampered.close();

    const raw2 = new Level<string, string>(path);
    await raw2.sublevel<string, string>('meta', {}).put('nextSeq', '7');
    await raw2.close();
    await expect(open()).rejects.toThrow(/damaged: next seq 7 but the log ends at 0+2/);

    const raw3 = new Level<string, string>(path);
    await raw3.sublevel<string, string>('meta', {}).put('format', '99');
    await raw3.close();
    await expect(open()).rejects.toThrow(/format 99/);
  });
});

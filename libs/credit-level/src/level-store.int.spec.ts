import { EntryKind } from '@swarm/contracts';
import type { LedgerStore } from '@swarm/credit';
import { createLedger, LedgerOpenError } from '@swarm/credit';
import { manualClock } from '@swarm/determinism';
import type { TempDir } from '@swarm/testing';
import { ledgerStoreCompliance, tempDir } from '@swarm/testing';
import { Level } from 'level';
import { join } from 'node:path';
import type { LevelLedgerOptions } from './index';
import { createLevelStore, LEDGER_FORMAT, openLedger } from './index';

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

  it('writes nothing of a batch holding a record it cannot encode, and takes the next batch whole', async () => {
    const store = createLevelStore({ path, sync: false });
    await store.open();
    const account = { id: 'a', available: 7n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false };
    const entry = { seq: 1n, kind: EntryKind.ENTRY_KIND_GENESIS, escrowId: '', fromAccount: '', toAccount: 'a', amount: 7n, atMs: 7n };
    const bad = { ...entry, seq: 2n, kind: 999 as EntryKind };
    const side = [{ space: 'meta' as const, key: 'head', value: new Uint8Array([1]) }];
    const batch = { accounts: [account], escrows: [], transfers: [], entries: [entry, bad], expiryPuts: [], expiryDels: [], nextSeq: 3n, side };
    await expect(store.commit(batch)).rejects.toThrow(/cannot store a ledger entry of kind 999/);
    expect(store.account('a')).toBeUndefined();
    expect(store.side('meta', 'head')).toBeUndefined();
    expect(store.nextSeq()).toBe(1n);
    await store.commit({ ...batch, entries: [entry], nextSeq: 2n });
    expect(store.account('a')).toEqual(account);
    expect(store.side('meta', 'head')).toEqual(new Uint8Array([1]));
    expect(await store.entries(1n, 10)).toEqual([entry]);
    await store.close();
  });

  it('writes every batch with fsync when asked, and reads it back', async () => {
    let ledger = await open({ sync: true });
    await ledger.reserve({ escrowId: 'e1', account: 'node', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
    await ledger.close();
    ledger = await open();
    expect(await ledger.balance('node')).toEqual({ account: 'node', available: 990n, escrowed: 10n, spent: 0n, reserves: 1n, closed: false });
    await ledger.close();
  });

  it("writes a batch under the very keys LevelDB's sublevels read: each record, put and deleted, as a plain sublevel of another handle sees it", async () => {
    const store = createLevelStore({ path, sync: false });
    await store.open();
    const account = { id: 'a', available: 7n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false };
    const entry = { seq: 1n, kind: EntryKind.ENTRY_KIND_GENESIS, escrowId: '', fromAccount: '', toAccount: 'a', amount: 7n, atMs: 7n };
    const escrow = { id: 'e1', payer: 'a', amount: 5n, state: 'open' as const, expiresAtMs: 1_700_000_150_000, payees: ['b'] };
    const expiry = { expiresAtMs: 1_700_000_150_000, escrowId: 'e1' };
    const empty = { accounts: [], escrows: [], transfers: [], entries: [], expiryPuts: [], expiryDels: [], side: [] };
    const block = new Uint8Array([0, 1, 2, 255]);
    await store.commit({
      ...empty,
      accounts: [account],
      escrows: [escrow],
      entries: [entry],
      expiryPuts: [expiry],
      nextSeq: 2n,
      side: [
        { space: 'block', key: '00000000000000000001', value: block },
        { space: 'outbox', key: 'r1', value: new Uint8Array([9]) },
      ],
    });
    await store.commit({ ...empty, expiryDels: [expiry], nextSeq: 2n, side: [{ space: 'outbox', key: 'r1', value: undefined }] });
    await store.close();

    const raw = new Level<string, string>(path);
    const text = (sub: string) => raw.sublevel<string, string>(sub, {}).iterator().all();
    const bytes = (sub: string) => raw.sublevel<string, Uint8Array>(sub, { valueEncoding: 'view' }).iterator().all();
    expect((await text('acct')).map(([k]) => k)).toEqual(['a']);
    expect((await text('escrow')).map(([k]) => k)).toEqual(['e1']);
    expect((await text('log')).map(([k]) => k)).toEqual(['00000000000000000001']);
    expect(await text('meta')).toEqual(expect.arrayContaining([['nextSeq', '2']]));
    expect(await text('expiry')).toEqual([]);
    expect((await bytes('side-block')).map(([k, v]) => [k, Uint8Array.from(v)])).toEqual([['00000000000000000001', block]]);
    expect(await bytes('side-outbox')).toEqual([]);
    // Nothing outside the sublevels' prefixes.
    expect((await raw.keys().all()).filter((k) => !/^!(acct|escrow|log|meta|expiry|side-block)!/.test(k))).toEqual([]);
    await raw.close();
  });

  it('opens a format-1 directory written before multi-payee settles and account counters, derives the counters once, and settles on', async () => {
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

    // A crash while upgrading (its one batch failing) leaves the directory as it was, format 1.
    const level = createLevelStore({ path, sync: false });
    const failing: LedgerStore = { ...level, commit: () => Promise.reject(new Error('disk full')) };
    await expect(createLedger({ store: failing, clock }, { nodeAccount: 'node', genesisGrant: 1000n })).rejects.toThrow('disk full');
    const untouched = new Level<string, string>(path);
    expect(await untouched.sublevel<string, string>('meta', {}).get('format')).toBe('1');
    expect(await untouched.sublevel<string, string>('acct', {}).get('node')).toBe('{"available":"975","escrowed":"5"}');
    await untouched.close();

    let ledger = await open();
    expect(ledger.lastSeq()).toBe(5n);
    expect(ledger.openEscrows()).toBe(1);
    expect(await ledger.escrow('old')).toMatchObject({ state: 'settled', payee: 'peer', paid: 20n, refunded: 10n });
    // From the log: node reserved twice and paid 20 out; nothing was closed then.
    expect(await ledger.balance('node')).toEqual({ account: 'node', available: 975n, escrowed: 5n, spent: 20n, reserves: 2n, closed: false });
    expect(await ledger.balance('peer')).toEqual({ account: 'peer', available: 20n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false });
    expect((await ledger.audit()).problems).toEqual([]);
    expect(ledger.lastSeq()).toBe(5n);
    await ledger.close();

    // Upgraded in place: the current format now, every account with its counters (an older build refuses it).
    const after = new Level<string, string>(path);
    expect(await after.sublevel<string, string>('meta', {}).get('format')).toBe(LEDGER_FORMAT);
    expect(await after.sublevel<string, string>('acct', {}).get('node')).toBe('{"available":"975","escrowed":"5","spent":"20","reserves":"2"}');
    await after.close();
    ledger = await open();
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

  it('opens a format-2 directory (before side records) as is, and its first commit marks it format 3 with the side records', async () => {
    // What the format-2 build wrote: genesis and one reserve, accounts with their counters.
    const raw = new Level<string, string>(path);
    const put = (sub: string, key: string, value: string) => raw.sublevel<string, string>(sub, {}).put(key, value);
    await put('log', '00000000000000000001', '{"seq":"1","kind":"GENESIS","escrowId":"","from":"","to":"node","amount":"1000","atMs":"1700000000000"}');
    await put('log', '00000000000000000002', '{"seq":"2","kind":"RESERVE","escrowId":"e1","from":"node","to":"","amount":"10","atMs":"1700000000000"}');
    await put('escrow', 'e1', '{"payer":"node","amount":"10","state":"open","expiresAtMs":1700000150000,"payees":["peer","node"]}');
    await put('expiry', '0001700000150000!e1', '');
    await put('acct', 'node', '{"available":"990","escrowed":"10","spent":"0","reserves":"1"}');
    await put('meta', 'format', '2');
    await put('meta', 'nextSeq', '3');
    await raw.close();

    const formatOf = async () => {
      const db = new Level<string, string>(path);
      const format = await db.sublevel<string, string>('meta', {}).get('format');
      await db.close();
      return format;
    };
    let ledger = await open();
    expect(ledger.lastSeq()).toBe(2n);
    expect(await ledger.balance('node')).toEqual({ account: 'node', available: 990n, escrowed: 10n, spent: 0n, reserves: 1n, closed: false });
    expect(ledger.side('meta', 'head')).toBeUndefined();
    expect(await ledger.sideRange('block', '', 10)).toEqual([]);
    expect((await ledger.audit()).problems).toEqual([]);
    await ledger.close();
    // Opened and read, nothing written: a format-2 build may still open it.
    expect(await formatOf()).toBe('2');

    ledger = await open();
    const head = new Uint8Array([1, 2, 3]);
    await ledger.run((_view, at) => ({
      result: undefined,
      accounts: [],
      escrows: [],
      entries: [],
      side: [
        { space: 'meta', key: 'head', value: head },
        { space: 'block', key: String(at.nextSeq).padStart(20, '0'), value: new Uint8Array([255, 0]) },
      ],
    }));
    await ledger.close();
    expect(await formatOf()).toBe(LEDGER_FORMAT);
    expect(LEDGER_FORMAT).toBe('3');

    // One sublevel per side space, the bytes as given.
    const db = new Level<string, string>(path);
    expect(await db.sublevel<string, Uint8Array>('side-meta', { valueEncoding: 'view' }).get('head')).toEqual(head);
    expect(await db.sublevel<string, Uint8Array>('side-block', { valueEncoding: 'view' }).keys().all()).toEqual(['00000000000000000003']);
    await db.close();
    ledger = await open();
    expect(ledger.side('meta', 'head')).toStrictEqual(head);
    expect(await ledger.settle({ escrowId: 'e1', payee: 'peer', amount: 10n, payouts: [] })).toMatchObject({ result: { paid: 10n } });
    expect((await ledger.audit()).problems).toEqual([]);
    await ledger.close();
  });

  it("derives a format-1 agent's counters from its log, refuses nothing it may do, and answers list-worthy values", async () => {
    // A node that funded agent/bot, which paid one task and had another refunded, then was defunded.
    const raw = new Level<string, string>(path);
    const put = (sub: string, key: string, value: string) => raw.sublevel<string, string>(sub, {}).put(key, value);
    const entries: Array<[string, string, string, string, number]> = [
      ['GENESIS', '', '', 'node', 1000],
      ['TRANSFER', 'fund.bot.1', 'node', 'agent/bot', 100],
      ['RESERVE', 't1', 'agent/bot', '', 30],
      ['SETTLE', 't1', 'agent/bot', 'node', 12],
      ['REFUND', 't1', 'agent/bot', 'agent/bot', 18],
      ['RESERVE', 't2', 'agent/bot', '', 10],
      ['REFUND', 't2', 'agent/bot', 'agent/bot', 10],
      ['TRANSFER', 'defund.bot.1.1', 'agent/bot', 'node', 88],
    ];
    for (const [i, [kind, escrowId, from, to, amount]] of entries.entries()) {
      const seq = i + 1;
      await put('log', String(seq).padStart(20, '0'), JSON.stringify({ seq: String(seq), kind, escrowId, from, to, amount: String(amount), atMs: '1700000000000' }));
    }
    await put('escrow', 't1', '{"payer":"agent/bot","amount":"30","state":"settled","payee":"node","paid":"12","refunded":"18","expiresAtMs":1700000150000,"payees":["node"]}');
    await put('escrow', 't2', '{"payer":"agent/bot","amount":"10","state":"refunded","refunded":"10","expiresAtMs":1700000150000,"payees":["node"]}');
    await put('transfer', 'fund.bot.1', '{"from":"node","to":"agent/bot","amount":"100"}');
    await put('transfer', 'defund.bot.1.1', '{"from":"agent/bot","to":"node","amount":"88"}');
    await put('acct', 'node', '{"available":"1000","escrowed":"0"}');
    await put('acct', 'agent/bot', '{"available":"0","escrowed":"0"}');
    await put('meta', 'format', '1');
    await put('meta', 'nextSeq', String(entries.length + 1));
    await raw.close();

    const ledger = await open();
    expect(await ledger.balance('agent/bot')).toEqual({ account: 'agent/bot', available: 0n, escrowed: 0n, spent: 12n, reserves: 2n, closed: false });
    expect((await ledger.audit()).problems).toEqual([]);
    // Closing it now works as on any ledger: it was never closed before.
    expect((await ledger.defundAgent({ transferId: 'defund.bot.1.2', agentAccount: 'agent/bot', close: true })).result.returned).toBe(0n);
    expect((await ledger.balance('agent/bot')).closed).toBe(true);
    expect((await ledger.audit()).problems).toEqual([]);
    await ledger.close();
  });

  it('audit finds records the log does not explain, and open refuses a damaged or foreign store', async () => {
    const ledger = await open();
    await ledger.reserve({ escrowId: 'e1', account: 'node', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
    await ledger.close();

    const raw = new Level<string, string>(path);
    await raw.sublevel<string, string>('acct', {}).put('node', '{"available":"991","escrowed":"10","spent":"0","reserves":"1"}');
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

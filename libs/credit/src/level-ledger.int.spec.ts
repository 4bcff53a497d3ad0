import { EntryKind, ErrorCode, SwarmError } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import { tempDir, TempDir } from '@swarm/testing';
import { Level } from 'level';
import { join } from 'node:path';
import { DEFAULT_ESCROW_LIFETIME, Ledger, LedgerOpenError, LedgerOptions, openLedger } from './index';

const GRANT = 1000n;
/** The providers test escrows are reserved for. */
const PAYEES = ['peer', 'peer-a', 'peer-b', 'peer-0', 'peer-1', 'peer-2', 'node'];

describe('level ledger - on a real LevelDB', () => {
  let dir: TempDir;
  let path: string;
  const clock = manualClock(1_700_000_000_000);
  const open = (over: Partial<LedgerOptions> = {}) =>
    openLedger({ path, clock, nodeAccount: 'node', genesisGrant: GRANT, sync: false, ...over });

  beforeEach(async () => {
    dir = await tempDir('swarm-ledger-');
    path = join(dir.path, 'ledger');
  });
  afterEach(() => dir.remove());

  async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SwarmError);
    expect((err as SwarmError).code).toBe(code);
  }

  async function expectAuditOk(ledger: Ledger): Promise<void> {
    const report = await ledger.audit();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.totals.available + report.totals.escrowed).toBe(report.totals.genesis);
  }

  it('grants genesis exactly once, across reopens and a changed grant', async () => {
    let ledger = await open();
    expect(await ledger.balance('node')).toEqual({ account: 'node', available: GRANT, escrowed: 0n });
    expect(await ledger.entries(1n, 10)).toEqual([
      { seq: 1n, kind: EntryKind.ENTRY_KIND_GENESIS, escrowId: '', fromAccount: '', toAccount: 'node', amount: GRANT, atMs: 1_700_000_000_000n },
    ]);
    await ledger.close();
    ledger = await open({ genesisGrant: 5n });
    expect(ledger.lastSeq()).toBe(1n);
    expect((await ledger.balance('node')).available).toBe(GRANT);
    await ledger.close();
  });

  it('creates no node account for a zero grant', async () => {
    const ledger = await open({ genesisGrant: 0n });
    await expectCode(ledger.balance('node'), ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT);
    expect(ledger.lastSeq()).toBe(0n);
    await expectAuditOk(ledger);
    await ledger.close();
  });

  it('persists balances, escrows and the log across a reopen', async () => {
    let ledger = await open({ sync: true });
    await ledger.reserve({ escrowId: 'e1', account: 'node', amount: 100n, expiresAtMs: 0n, payees: PAYEES });
    clock.advance(5);
    const settled = await ledger.settle({ escrowId: 'e1', payee: 'peer', amount: 60n });
    expect(settled.result).toEqual({ escrowId: 'e1', paid: 60n, refunded: 40n });
    expect(settled.entries.map((e) => e.seq)).toEqual([3n, 4n]);
    await ledger.reserve({ escrowId: 'e2', account: 'peer', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
    await ledger.reserve({ escrowId: 'e3', account: 'node', amount: 7n, expiresAtMs: 0n, payees: PAYEES });
    await ledger.refund({ escrowId: 'e3' });
    const before = await ledger.entries(1n, 100);
    await ledger.close();

    ledger = await open();
    expect(await ledger.balance('node')).toEqual({ account: 'node', available: 940n, escrowed: 0n });
    expect(await ledger.balance('peer')).toEqual({ account: 'peer', available: 50n, escrowed: 10n });
    const e1ExpiresAt = 1_700_000_000_000 + DEFAULT_ESCROW_LIFETIME.defaultMs;
    expect(await ledger.escrow('e1')).toEqual({ id: 'e1', payer: 'node', amount: 100n, state: 'settled', payee: 'peer', paid: 60n, refunded: 40n, expiresAtMs: e1ExpiresAt, payees: PAYEES });
    expect(await ledger.escrow('e2')).toMatchObject({ state: 'open', payer: 'peer' });
    expect(await ledger.escrow('e3')).toMatchObject({ state: 'refunded', refunded: 7n });
    expect(await ledger.entries(1n, 100)).toEqual(before);
    expect(ledger.lastSeq()).toBe(7n);
    expect((await ledger.entries(3n, 2)).map((e) => e.seq)).toEqual([3n, 4n]);
    await expectAuditOk(ledger);
    await ledger.close();
  });

  it('answers retries with the recorded outcome and writes nothing', async () => {
    const ledger = await open();
    const first = await ledger.reserve({ escrowId: 'e1', account: 'node', amount: 100n, expiresAtMs: 0n, payees: PAYEES });
    expect(first.entries).toHaveLength(1);
    const again = await ledger.reserve({ escrowId: 'e1', account: 'node', amount: 100n, expiresAtMs: 0n, payees: PAYEES });
    expect(again).toEqual({ result: { escrowId: 'e1', available: 900n }, entries: [] });
    const settled = await ledger.settle({ escrowId: 'e1', payee: 'peer', amount: 100n });
    expect(await ledger.settle({ escrowId: 'e1', payee: 'peer', amount: 100n })).toEqual({ result: settled.result, entries: [] });
    await ledger.reserve({ escrowId: 'e2', account: 'node', amount: 5n, expiresAtMs: 0n, payees: PAYEES });
    const refunded = await ledger.refund({ escrowId: 'e2' });
    expect(await ledger.refund({ escrowId: 'e2' })).toEqual({ result: refunded.result, entries: [] });
    expect(ledger.lastSeq()).toBe(5n);
    await expectAuditOk(ledger);
    await ledger.close();
  });

  it('refuses bad operations with typed errors and changes nothing', async () => {
    const ledger = await open();
    await ledger.reserve({ escrowId: 'e1', account: 'node', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
    await ledger.settle({ escrowId: 'e1', payee: 'peer', amount: 10n });
    await ledger.reserve({ escrowId: 'e2', account: 'node', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
    const seq = ledger.lastSeq();
    await expectCode(ledger.reserve({ escrowId: 'e3', account: 'node', amount: 0n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    await expectCode(ledger.reserve({ escrowId: 'x'.repeat(129), account: 'node', amount: 1n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    await expectCode(ledger.reserve({ escrowId: 'e3', account: 'ghost', amount: 1n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT);
    await expectCode(ledger.reserve({ escrowId: 'e3', account: 'node', amount: 10_000n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
    await expectCode(ledger.reserve({ escrowId: 'e2', account: 'node', amount: 11n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_ESCROW_CONFLICT);
    await expectCode(ledger.settle({ escrowId: 'e2', payee: 'peer', amount: 11n }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    await expectCode(ledger.settle({ escrowId: 'e9', payee: 'peer', amount: 1n }), ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND);
    await expectCode(ledger.refund({ escrowId: 'e1' }), ErrorCode.ERROR_CODE_ESCROW_CLOSED);
    await expectCode(ledger.balance('bad id'), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    await expectCode(ledger.entries(1n, 0), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(ledger.lastSeq()).toBe(seq);
    expect(await ledger.balance('node')).toEqual({ account: 'node', available: 980n, escrowed: 10n });
    await expectAuditOk(ledger);
    await ledger.close();
  });

  it('stays consistent under many concurrent operations on the same escrows', async () => {
    const ledger = await open();
    const ids = Array.from({ length: 40 }, (_, i) => `c${i}`);
    const ops: Array<Promise<unknown>> = [];
    // Every escrow gets two reserves, two settles and two refunds racing each other.
    for (let round = 0; round < 2; round += 1) {
      for (const [i, id] of ids.entries()) {
        ops.push(ledger.reserve({ escrowId: id, account: 'node', amount: BigInt(10 + (i % 5)), expiresAtMs: 0n, payees: PAYEES }));
        ops.push(ledger.settle({ escrowId: id, payee: `peer-${i % 3}`, amount: BigInt(1 + (i % 7)) }));
        ops.push(ledger.refund({ escrowId: id }));
      }
    }
    const outcomes = await Promise.allSettled(ops);
    for (const o of outcomes) {
      if (o.status === 'rejected') {
        expect(o.reason).toBeInstanceOf(SwarmError);
        expect([ErrorCode.ERROR_CODE_ESCROW_CLOSED, ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND]).toContain((o.reason as SwarmError).code);
      }
    }
    await expectAuditOk(ledger);
    const entries = await ledger.entries(1n, 1000);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => BigInt(i + 1)));
    for (const id of ids) {
      const kinds = entries.filter((e) => e.escrowId === id).map((e) => e.kind);
      expect(kinds.filter((k) => k === EntryKind.ENTRY_KIND_RESERVE)).toHaveLength(1);
      expect(kinds.filter((k) => k === EntryKind.ENTRY_KIND_SETTLE).length).toBeLessThanOrEqual(1);
      expect(['settled', 'refunded']).toContain((await ledger.escrow(id))?.state);
    }
    await ledger.close();
  });

  it('finishes queued operations on close, then refuses new ones', async () => {
    const ledger = await open();
    const pending = ledger.reserve({ escrowId: 'e1', account: 'node', amount: 1n, expiresAtMs: 0n, payees: PAYEES });
    const closed = ledger.close();
    await expectCode(ledger.reserve({ escrowId: 'e2', account: 'node', amount: 1n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_UNAVAILABLE);
    await expect(pending).resolves.toMatchObject({ result: { escrowId: 'e1' } });
    await closed;
    await expect(ledger.close()).resolves.toBeUndefined();
    const reopened = await open();
    expect(reopened.lastSeq()).toBe(2n);
    await reopened.close();
  });

  describe('level ledger - escrow expiry', () => {
    const lifetime = { defaultMs: 60_000, maxMs: 120_000 };
    const SHORT_MS = 100;
    const openExpiring = () => open({ escrowLifetime: lifetime });
    const reserve = (ledger: Ledger, escrowId: string, amount: bigint, expiresAtMs = 0n) =>
      ledger.reserve({ escrowId, account: 'node', amount, expiresAtMs, payees: PAYEES });

    it('refunds an escrow once its expiry passes, keeps that across a reopen, and refuses a settle afterwards', async () => {
      let ledger = await openExpiring();
      await reserve(ledger, 'e1', 10n, BigInt(clock.now() + SHORT_MS));
      await reserve(ledger, 'e2', 20n);
      expect(await ledger.escrow('e2')).toMatchObject({ state: 'open', expiresAtMs: clock.now() + lifetime.defaultMs });
      expect(ledger.openEscrows()).toBe(2);
      expect(await ledger.expireDue(clock.now() + SHORT_MS - 1, 10)).toEqual({ result: [], entries: [] });

      clock.advance(SHORT_MS);
      const expired = await ledger.expireDue(clock.now(), 10);
      expect(expired.result).toEqual([{ escrowId: 'e1', refunded: 10n }]);
      expect(expired.entries).toMatchObject([{ seq: 4n, kind: EntryKind.ENTRY_KIND_REFUND, escrowId: 'e1', fromAccount: 'node', toAccount: 'node', amount: 10n }]);
      expect(await ledger.expireDue(clock.now(), 10)).toEqual({ result: [], entries: [] });
      expect(ledger.openEscrows()).toBe(1);
      await ledger.close();

      ledger = await openExpiring();
      expect(ledger.openEscrows()).toBe(1);
      expect(await ledger.escrow('e1')).toMatchObject({ state: 'refunded', refunded: 10n });
      expect(await ledger.balance('node')).toEqual({ account: 'node', available: 980n, escrowed: 20n });
      await expectCode(ledger.settle({ escrowId: 'e1', payee: 'peer', amount: 1n }), ErrorCode.ERROR_CODE_ESCROW_CLOSED);
      // A late reserve retry cannot reopen it.
      await expect(reserve(ledger, 'e1', 10n, BigInt(clock.now() - 1))).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_ESCROW_CLOSED });
      // Settled before its expiry: the expiry then does nothing.
      await ledger.settle({ escrowId: 'e2', payee: 'peer', amount: 20n });
      expect(await ledger.expireDue(clock.now() + lifetime.defaultMs, 10)).toEqual({ result: [], entries: [] });
      expect(ledger.openEscrows()).toBe(0);
      expect(ledger.lastSeq()).toBe(5n);
      await expectAuditOk(ledger);
      await ledger.close();
    });

    it('refuses an expiry in the past or beyond the maximum lifetime, changing nothing', async () => {
      const ledger = await openExpiring();
      await expectCode(reserve(ledger, 'e1', 1n, BigInt(clock.now() - 1)), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      await expectCode(reserve(ledger, 'e1', 1n, BigInt(clock.now() + lifetime.maxMs + 1)), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      expect(ledger.lastSeq()).toBe(1n);
      expect(ledger.openEscrows()).toBe(0);
      await ledger.close();
    });

    it('expires the earliest first, at most `limit` per call', async () => {
      const ledger = await openExpiring();
      const now = clock.now();
      await reserve(ledger, 'late', 1n, BigInt(now + 30));
      await reserve(ledger, 'early', 2n, BigInt(now + 10));
      await reserve(ledger, 'mid', 3n, BigInt(now + 20));
      expect((await ledger.expireDue(now + 30, 2)).result.map((r) => r.escrowId)).toEqual(['early', 'mid']);
      expect((await ledger.expireDue(now + 30, 2)).result.map((r) => r.escrowId)).toEqual(['late']);
      await expectCode(ledger.expireDue(now, 0), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      await expectCode(ledger.expireDue(Number.NaN, 10), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      await expectAuditOk(ledger);
      await ledger.close();
    });

    it('lets a settle queued behind the expiry walk win, closing the escrow once', async () => {
      const ledger = await openExpiring();
      await reserve(ledger, 'e1', 10n, BigInt(clock.now() + SHORT_MS));
      // The walk is queued first and sees e1 due; the settle runs next; the expiry then skips e1.
      const [expired, settled] = await Promise.all([
        ledger.expireDue(clock.now() + SHORT_MS, 10),
        ledger.settle({ escrowId: 'e1', payee: 'peer', amount: 10n }),
      ]);
      expect(expired).toEqual({ result: [], entries: [] });
      expect(settled.result).toEqual({ escrowId: 'e1', paid: 10n, refunded: 0n });
      expect(ledger.openEscrows()).toBe(0);
      await expectAuditOk(ledger);
      await ledger.close();
    });

    it('audit finds a stale expiry key, and expireDue drops it', async () => {
      let ledger = await openExpiring();
      await reserve(ledger, 'e1', 10n, BigInt(clock.now() + SHORT_MS));
      await ledger.settle({ escrowId: 'e1', payee: 'peer', amount: 10n });
      await ledger.close();

      const raw = new Level<string, string>(path);
      await raw.sublevel<string, string>('expiry', {}).put(`${String(clock.now() + SHORT_MS).padStart(16, '0')}!e1`, '');
      await raw.close();
      ledger = await openExpiring();
      expect((await ledger.audit()).problems).toEqual(['expiry index lists escrow e1, which is not open with an expiry']);
      expect(await ledger.expireDue(clock.now() + SHORT_MS, 10)).toEqual({ result: [], entries: [] });
      expect(ledger.openEscrows()).toBe(0);
      await expectAuditOk(ledger);
      await ledger.close();
    });
  });

  it('refuses a second open of the same store while it is open', async () => {
    const ledger = await open();
    const err = await open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerOpenError);
    expect((err as Error).message).toMatch(/is in use by another process/);
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

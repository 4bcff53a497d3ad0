/**
 * One suite for every LedgerStore (as js-libp2p's interface-compliance-tests do for its
 * interfaces): the ledger of @swarm/credit over the store must behave the same whichever store
 * holds it. Call it from a store's spec file; `makeStore` gives a new, empty, closed store that
 * can be opened again after each close (data kept), and `cleanup` removes what it left behind.
 * Store-specific behaviour (LevelDB's lock, damaged directories) stays in that store's spec.
 */
import type { SettleRequest } from '@swarm/contracts';
import { EntryKind, ErrorCode, SwarmError } from '@swarm/contracts';
import type { Ledger, LedgerInit, LedgerStore } from '@swarm/credit';
import { createLedger, DEFAULT_ESCROW_LIFETIME, emptyAccount } from '@swarm/credit';
import { manualClock } from '@swarm/determinism';
import { balanceOf, closedAccountCompliance } from './ledger-compliance-closed';
import { instrumented } from './ledger-compliance-instrumented';
import { sideRecordCompliance } from './ledger-compliance-side';
import { swarmErrorOf } from './swarm-error-of';

export interface LedgerStoreHarness {
  readonly store: LedgerStore;
  cleanup(): Promise<void>;
}

const GRANT = 1000n;
/** The providers test escrows are reserved for. */
const PAYEES = ['peer', 'peer-a', 'peer-b', 'peer-0', 'peer-1', 'peer-2', 'node'];
const START_MS = 1_700_000_000_000;

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  expect((await swarmErrorOf(p)).code).toBe(code);
}

async function expectAuditOk(ledger: Ledger): Promise<void> {
  const report = await ledger.audit();
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.totals.available + report.totals.escrowed).toBe(report.totals.genesis);
}

/** A settle in the single-payout form (what every caller sent before multi-payee settles). */
const settleOne = (escrowId: string, payee: string, amount: bigint): SettleRequest => ({ escrowId, payee, amount, payouts: [] });
const settleMany = (escrowId: string, payouts: Array<[string, bigint]>): SettleRequest => ({
  escrowId,
  payee: '',
  amount: 0n,
  payouts: payouts.map(([payee, amount]) => ({ payee, amount })),
});

export function ledgerStoreCompliance(name: string, makeStore: () => Promise<LedgerStoreHarness>): void {
  describe(`${name} - ledger store compliance`, () => {
    let harness: LedgerStoreHarness;
    let store: LedgerStore;
    const clock = manualClock(START_MS);
    const open = (over: Partial<LedgerInit> = {}) => createLedger({ store, clock }, { nodeAccount: 'node', genesisGrant: GRANT, ...over });

    beforeEach(async () => {
      harness = await makeStore();
      store = harness.store;
    });
    afterEach(async () => {
      await store.close();
      await harness.cleanup();
    });

    describe(`${name} - store primitives`, () => {
      it('commits a batch whole (records, entries, index, next seq) and keeps it across a reopen', async () => {
        await store.open();
        expect(store.nextSeq()).toBe(1n);
        expect(store.account('a')).toBeUndefined();
        const escrow = { id: 'e1', payer: 'a', amount: 3n, state: 'open' as const, expiresAtMs: 50, payees: ['b'] };
        const entry = { seq: 1n, kind: EntryKind.ENTRY_KIND_GENESIS, escrowId: '', fromAccount: '', toAccount: 'a', amount: 10n, atMs: 7n };
        const transfer = { id: 't1', from: 'a', to: 'agent/x', amount: 0n };
        const closing = { id: 't2', from: 'agent/x', to: 'a', amount: 5n, closedAtSeq: 9n };
        const account = { id: 'a', available: 7n, escrowed: 3n, spent: 4n, reserves: 2n, closed: false };
        const closed = { ...emptyAccount('agent/x'), reserves: 1n, closed: true };
        expect(store.legacyAccounts()).toBe(false);
        await store.commit({
          accounts: [account, closed],
          escrows: [escrow],
          transfers: [transfer, closing],
          entries: [entry],
          expiryPuts: [{ expiresAtMs: 50, escrowId: 'e1' }],
          expiryDels: [],
          nextSeq: 2n,
          side: [],
        });
        await store.close();
        await store.open();
        expect(store.nextSeq()).toBe(2n);
        expect(store.account('a')).toEqual(account);
        expect(store.account('agent/x')).toEqual(closed);
        expect(store.legacyAccounts()).toBe(false);
        expect(store.escrow('e1')).toEqual(escrow);
        expect(store.transfer('t1')).toEqual(transfer);
        expect(store.transfer('t2')).toEqual(closing);
        expect(store.transfer('e1')).toBeUndefined();
        const scanned = [];
        for await (const t of store.scanTransfers()) scanned.push(t);
        expect(scanned.sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual([transfer, closing]);
        expect(store.hasExpiry({ expiresAtMs: 50, escrowId: 'e1' })).toBe(true);
        expect(store.hasExpiry({ expiresAtMs: 51, escrowId: 'e1' })).toBe(false);
        expect(await store.entries(1n, 10)).toEqual([entry]);
        await store.commit({ accounts: [], escrows: [], transfers: [], entries: [], expiryPuts: [], expiryDels: [{ expiresAtMs: 50, escrowId: 'e1' }], nextSeq: 2n, side: [] });
        expect(store.hasExpiry({ expiresAtMs: 50, escrowId: 'e1' })).toBe(false);
      });

      it('reads the log from a seq a page at a time, and the index by expiry then id up to a limit', async () => {
        await store.open();
        const entries = [1n, 2n, 3n, 4n].map((seq) => ({ seq, kind: EntryKind.ENTRY_KIND_GENESIS, escrowId: '', fromAccount: '', toAccount: 'a', amount: seq, atMs: 0n }));
        const refs = [
          { expiresAtMs: 30, escrowId: 'a' },
          { expiresAtMs: 9, escrowId: 'z' },
          { expiresAtMs: 10, escrowId: 'b' },
          { expiresAtMs: 10, escrowId: 'a' },
        ];
        await store.commit({ accounts: [], escrows: [], transfers: [], entries, expiryPuts: refs, expiryDels: [], nextSeq: 5n, side: [] });
        expect((await store.entries(2n, 2)).map((e) => e.seq)).toEqual([2n, 3n]);
        expect((await store.entries(0n, 10)).map((e) => e.seq)).toEqual([1n, 2n, 3n, 4n]);
        expect(await store.entries(5n, 10)).toEqual([]);
        expect(await store.expiring(10, 10)).toEqual([refs[1], refs[3], refs[2]]);
        expect(await store.expiring(30, 2)).toEqual([refs[1], refs[3]]);
        expect(await store.expiring(8, 10)).toEqual([]);
        const scanned = [];
        for await (const ref of store.scanExpiries()) scanned.push(ref);
        expect(scanned).toHaveLength(4);
        const log = [];
        for await (const e of store.scanLog()) log.push(e.seq);
        expect(log).toEqual([1n, 2n, 3n, 4n]);
      });
    });

    it('grants genesis exactly once, across reopens and a changed grant', async () => {
      let ledger = await open();
      expect(await ledger.balance('node')).toEqual(balanceOf('node', GRANT, 0n));
      expect(await ledger.entries(1n, 10)).toEqual([
        { seq: 1n, kind: EntryKind.ENTRY_KIND_GENESIS, escrowId: '', fromAccount: '', toAccount: 'node', amount: GRANT, atMs: BigInt(clock.now()) },
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
      let ledger = await open();
      const reservedAt = clock.now();
      await ledger.reserve({ escrowId: 'e1', account: 'node', amount: 100n, expiresAtMs: 0n, payees: PAYEES });
      clock.advance(5);
      const settled = await ledger.settle(settleOne('e1', 'peer', 60n));
      expect(settled.result).toEqual({ escrowId: 'e1', paid: 60n, refunded: 40n });
      expect(settled.entries.map((e) => e.seq)).toEqual([3n, 4n]);
      await ledger.reserve({ escrowId: 'e2', account: 'peer', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
      await ledger.reserve({ escrowId: 'e3', account: 'node', amount: 7n, expiresAtMs: 0n, payees: PAYEES });
      await ledger.refund({ escrowId: 'e3' });
      const before = await ledger.entries(1n, 100);
      await ledger.close();

      ledger = await open();
      expect(await ledger.balance('node')).toEqual(balanceOf('node', 940n, 0n, { spent: 60n, reserves: 2n }));
      expect(await ledger.balance('peer')).toEqual(balanceOf('peer', 50n, 10n, { reserves: 1n }));
      const e1ExpiresAt = reservedAt + DEFAULT_ESCROW_LIFETIME.defaultMs;
      expect(await ledger.escrow('e1')).toEqual({
        id: 'e1',
        payer: 'node',
        amount: 100n,
        state: 'settled',
        payee: 'peer',
        paid: 60n,
        refunded: 40n,
        expiresAtMs: e1ExpiresAt,
        payees: PAYEES,
      });
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
      const settled = await ledger.settle(settleOne('e1', 'peer', 100n));
      expect(await ledger.settle(settleOne('e1', 'peer', 100n))).toEqual({ result: settled.result, entries: [] });
      // The same payout in the multi-payee form is the same settle.
      expect(await ledger.settle(settleMany('e1', [['peer', 100n]]))).toEqual({ result: settled.result, entries: [] });
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
      await ledger.settle(settleOne('e1', 'peer', 10n));
      await ledger.reserve({ escrowId: 'e2', account: 'node', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
      const seq = ledger.lastSeq();
      await expectCode(ledger.reserve({ escrowId: 'e3', account: 'node', amount: 0n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      await expectCode(ledger.reserve({ escrowId: 'x'.repeat(129), account: 'node', amount: 1n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      await expectCode(ledger.reserve({ escrowId: 'e3', account: 'ghost', amount: 1n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT);
      await expectCode(ledger.reserve({ escrowId: 'e3', account: 'node', amount: 10_000n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
      await expectCode(ledger.reserve({ escrowId: 'e2', account: 'node', amount: 11n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_ESCROW_CONFLICT);
      await expectCode(ledger.settle(settleOne('e2', 'peer', 11n)), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      await expectCode(ledger.settle(settleOne('e9', 'peer', 1n)), ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND);
      await expectCode(ledger.refund({ escrowId: 'e1' }), ErrorCode.ERROR_CODE_ESCROW_CLOSED);
      await expectCode(ledger.balance('bad id'), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      await expectCode(ledger.entries(1n, 0), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      expect(ledger.lastSeq()).toBe(seq);
      expect(await ledger.balance('node')).toEqual(balanceOf('node', 980n, 10n, { spent: 10n, reserves: 2n }));
      await expectAuditOk(ledger);
      await ledger.close();
    });

    it('stays consistent under many concurrent operations on the same escrows', async () => {
      const ledger = await open();
      const ids = Array.from({ length: 40 }, (_, i) => `c${i}`);
      const ops: Array<Promise<unknown>> = [];
      // Every escrow gets two reserves, two settles (one or two payees) and two refunds racing each other.
      for (let round = 0; round < 2; round += 1) {
        for (const [i, id] of ids.entries()) {
          ops.push(ledger.reserve({ escrowId: id, account: 'node', amount: BigInt(10 + (i % 5)), expiresAtMs: 0n, payees: PAYEES }));
          ops.push(
            ledger.settle(
              i % 2 === 0
                ? settleOne(id, `peer-${i % 3}`, BigInt(1 + (i % 7)))
                : settleMany(id, [
                    [`peer-${i % 3}`, BigInt(1 + (i % 4))],
                    ['peer', 2n],
                  ]),
            ),
          );
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
      for (const [i, id] of ids.entries()) {
        const kinds = entries.filter((e) => e.escrowId === id).map((e) => e.kind);
        expect(kinds.filter((k) => k === EntryKind.ENTRY_KIND_RESERVE)).toHaveLength(1);
        expect(kinds.filter((k) => k === EntryKind.ENTRY_KIND_SETTLE).length).toBeLessThanOrEqual(i % 2 === 0 ? 1 : 2);
        expect(['settled', 'refunded']).toContain((await ledger.escrow(id))?.state);
      }
      await ledger.close();
    });

    describe(`${name} - group commit`, () => {
      const openInstrumented = async () => {
        const probe = instrumented(store);
        const ledger = await createLedger({ store: probe.store, clock }, { nodeAccount: 'node', genesisGrant: GRANT });
        return { probe, ledger };
      };
      const reserve = (ledger: Ledger, escrowId: string, amount: bigint) => ledger.reserve({ escrowId, account: 'node', amount, expiresAtMs: 0n, payees: PAYEES });
      const outcome = (s: PromiseSettledResult<unknown>) => (s.status === 'fulfilled' ? 'ok' : s.reason instanceof SwarmError ? s.reason.code : String(s.reason));

      it('applies concurrent operations on one escrow and one account in the order issued, in one batch', async () => {
        const { probe, ledger } = await openInstrumented();
        const commits = probe.commits();
        const outcomes = await Promise.allSettled([
          reserve(ledger, 'e1', 600n),
          ledger.settle(settleOne('e1', 'peer', 100n)),
          ledger.refund({ escrowId: 'e1' }),
          reserve(ledger, 'e1', 600n),
          reserve(ledger, 'e2', 900n),
          reserve(ledger, 'e3', 1n),
          ledger.refund({ escrowId: 'e2' }),
          reserve(ledger, 'e3', 1n),
        ]);
        expect(outcomes.map(outcome)).toEqual([
          'ok',
          'ok',
          ErrorCode.ERROR_CODE_ESCROW_CLOSED,
          ErrorCode.ERROR_CODE_ESCROW_CLOSED,
          'ok',
          ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
          'ok',
          'ok',
        ]);
        // Issued in one tick, so they share one write.
        expect(probe.commits() - commits).toBe(1);
        expect((await ledger.entries(2n, 100)).map((e) => [e.seq, e.kind, e.escrowId])).toEqual([
          [2n, EntryKind.ENTRY_KIND_RESERVE, 'e1'],
          [3n, EntryKind.ENTRY_KIND_SETTLE, 'e1'],
          [4n, EntryKind.ENTRY_KIND_REFUND, 'e1'],
          [5n, EntryKind.ENTRY_KIND_RESERVE, 'e2'],
          [6n, EntryKind.ENTRY_KIND_REFUND, 'e2'],
          [7n, EntryKind.ENTRY_KIND_RESERVE, 'e3'],
        ]);
        expect(outcomes[1]).toMatchObject({ status: 'fulfilled', value: { result: { escrowId: 'e1', paid: 100n, refunded: 500n } } });
        expect(await ledger.balance('node')).toEqual(balanceOf('node', 899n, 1n, { spent: 100n, reserves: 3n }));
        expect(ledger.openEscrows()).toBe(1);
        await expectAuditOk(ledger);
        await ledger.close();
      });

      it('answers nothing before its batch is written; what queues meanwhile shares the next batch', async () => {
        const { probe, ledger } = await openInstrumented();
        const commits = probe.commits();
        const answered: string[] = [];
        const track = <T>(label: string, p: Promise<T>) => p.then((v) => (answered.push(label), v));
        const gate = probe.holdNextCommit();
        // Alone, so it is written at once, not held back waiting for company.
        const first = track('e1', reserve(ledger, 'e1', 10n));
        await gate.entered;
        const rest = [track('e2', reserve(ledger, 'e2', 20n)), track('settle e1', ledger.settle(settleOne('e1', 'peer', 10n)))];
        // Reads see only written batches.
        expect(await ledger.balance('node')).toEqual(balanceOf('node', GRANT, 0n));
        expect(ledger.lastSeq()).toBe(1n);
        expect(answered).toEqual([]);
        gate.release();
        await Promise.all([first, ...rest]);
        expect(answered).toEqual(['e1', 'e2', 'settle e1']);
        expect(probe.commits() - commits).toBe(2);
        expect(ledger.lastSeq()).toBe(4n);
        await expectAuditOk(ledger);
        await ledger.close();
      });

      it('answers an escrow read after writes once every operation queued before it is written; a plain read sees only written batches', async () => {
        const { probe, ledger } = await openInstrumented();
        const gate = probe.holdNextCommit();
        const first = reserve(ledger, 'e1', 10n);
        await gate.entered;
        const charged = ledger.charge({ escrowId: 'c1', account: 'node', amount: 5n, payouts: [{ payee: 'peer', amount: 3n }], notAfterMs: BigInt(START_MS + 60_000) });
        const final = ledger.escrow('c1', true);
        expect(await ledger.escrow('c1')).toBeUndefined();
        gate.release();
        await Promise.all([first, charged]);
        expect(await final).toMatchObject({ id: 'c1', state: 'settled', payee: 'peer', paid: 3n, refunded: 2n });
        await expectAuditOk(ledger);
        await ledger.close();
      });

      it('fails every operation of a batch whose write fails, and leaves the ledger as before', async () => {
        const { probe, ledger } = await openInstrumented();
        await reserve(ledger, 'e1', 100n);
        const before = { seq: ledger.lastSeq(), node: await ledger.balance('node'), e1: await ledger.escrow('e1'), open: ledger.openEscrows(), log: await ledger.entries(1n, 100) };
        const diskFull = new Error('disk full');
        probe.failNextCommit(diskFull);
        const outcomes = await Promise.allSettled([
          ledger.settle(settleOne('e1', 'peer', 60n)),
          reserve(ledger, 'e2', 5n),
          ledger.refund({ escrowId: 'e2' }),
          // A retry and a refusal: their answers rest on the batch too.
          reserve(ledger, 'e1', 100n),
          ledger.refund({ escrowId: 'e9' }),
        ]);
        expect(outcomes.map((o) => o.status === 'rejected' && o.reason === diskFull)).toEqual([true, true, true, true, true]);
        expect(ledger.lastSeq()).toBe(before.seq);
        expect(await ledger.balance('node')).toEqual(before.node);
        expect(await ledger.escrow('e1')).toEqual(before.e1);
        expect(await ledger.escrow('e2')).toBeUndefined();
        expect(ledger.openEscrows()).toBe(before.open);
        expect(await ledger.entries(1n, 100)).toEqual(before.log);
        await expectAuditOk(ledger);

        // Nothing of the failed batch lingers in memory: the same operations now apply afresh.
        expect((await reserve(ledger, 'e2', 5n)).entries.map((e) => e.seq)).toEqual([before.seq + 1n]);
        expect((await ledger.settle(settleOne('e1', 'peer', 60n))).result).toEqual({ escrowId: 'e1', paid: 60n, refunded: 40n });
        await ledger.close();
        const reopened = await open();
        expect(reopened.lastSeq()).toBe(before.seq + 3n);
        expect(await reopened.balance('node')).toEqual(balanceOf('node', 935n, 5n, { spent: 60n, reserves: 2n }));
        await expectAuditOk(reopened);
        await reopened.close();
      });
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

    it('audit finds a stored record the log does not explain', async () => {
      let ledger = await open();
      await ledger.reserve({ escrowId: 'e1', account: 'node', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
      await ledger.close();
      await store.open();
      await store.commit({
        accounts: [{ ...emptyAccount('node'), available: 991n, escrowed: 10n, reserves: 1n }],
        escrows: [],
        transfers: [],
        entries: [],
        expiryPuts: [],
        expiryDels: [],
        nextSeq: store.nextSeq(),
        side: [],
      });
      await store.close();
      ledger = await open();
      const report = await ledger.audit();
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual(expect.arrayContaining([expect.stringMatching(/account node stores 991\/10, log gives 990\/10/)]));
      await ledger.close();
    });

    describe(`${name} - agent accounts`, () => {
      const fund = (ledger: Ledger, transferId: string, agentAccount: string, amount: bigint) => ledger.fundAgent({ transferId, agentAccount, amount });
      const reserveAs = (ledger: Ledger, account: string, escrowId: string, amount: bigint) => ledger.reserve({ escrowId, account, amount, expiresAtMs: 0n, payees: PAYEES });

      it('funds an agent from the node, lets it pay its own escrows, defunds it, and keeps all of it across a reopen', async () => {
        let ledger = await open();
        const funded = await fund(ledger, 'f1', 'agent/bot', 300n);
        expect(funded.result).toEqual({ agentAvailable: 300n, nodeAvailable: 700n });
        expect(funded.entries).toMatchObject([{ seq: 2n, kind: EntryKind.ENTRY_KIND_TRANSFER, escrowId: 'f1', fromAccount: 'node', toAccount: 'agent/bot', amount: 300n }]);
        expect(await ledger.balance('agent/bot')).toEqual(balanceOf('agent/bot', 300n, 0n));
        await reserveAs(ledger, 'agent/bot', 'e1', 100n);
        await reserveAs(ledger, 'agent/bot', 'e2', 50n);
        await reserveAs(ledger, 'agent/bot', 'e3', 20n);
        await ledger.settle(settleOne('e1', 'peer', 60n));
        await ledger.refund({ escrowId: 'e2' });
        expect(await ledger.balance('agent/bot')).toEqual(balanceOf('agent/bot', 220n, 20n, { spent: 60n, reserves: 3n }));
        // Defund returns what it may spend now; the open escrow stays and refunds to it later.
        const defunded = await ledger.defundAgent({ transferId: 'd1', agentAccount: 'agent/bot', close: false });
        expect(defunded.result).toEqual({ returned: 220n, nodeAvailable: 920n });
        await ledger.refund({ escrowId: 'e3' });
        expect((await ledger.defundAgent({ transferId: 'd2', agentAccount: 'agent/bot', close: false })).result).toEqual({ returned: 20n, nodeAvailable: 940n });
        await ledger.close();

        ledger = await open();
        expect(await ledger.balance('agent/bot')).toEqual(balanceOf('agent/bot', 0n, 0n, { spent: 60n, reserves: 3n }));
        expect(await ledger.balance('node')).toEqual(balanceOf('node', 940n, 0n));
        expect(await ledger.balance('peer')).toEqual(balanceOf('peer', 60n, 0n));
        expect(await ledger.transfer('d1')).toEqual({ id: 'd1', from: 'agent/bot', to: 'node', amount: 220n });
        expect(await ledger.escrow('e1')).toMatchObject({ payer: 'agent/bot', state: 'settled' });
        const report = await ledger.audit();
        expect(report.problems).toEqual([]);
        expect(report.totals).toMatchObject({ genesis: GRANT, available: GRANT, escrowed: 0n, transfers: 3 });
        await ledger.close();
      });

      it('answers a retried transfer id with its first outcome and moves nothing more, also across a reopen', async () => {
        let ledger = await open();
        await fund(ledger, 'f1', 'agent/bot', 100n);
        expect(await fund(ledger, 'f1', 'agent/bot', 100n)).toEqual({ result: { agentAvailable: 100n, nodeAvailable: 900n }, entries: [] });
        // A defund of nothing still pins its id: credit that returns later needs a new one.
        await reserveAs(ledger, 'agent/bot', 'e1', 100n);
        expect((await ledger.defundAgent({ transferId: 'd1', agentAccount: 'agent/bot', close: false })).result).toEqual({ returned: 0n, nodeAvailable: 900n });
        await ledger.refund({ escrowId: 'e1' });
        const seq = ledger.lastSeq();
        await ledger.close();
        ledger = await open();
        expect(await ledger.defundAgent({ transferId: 'd1', agentAccount: 'agent/bot', close: false })).toEqual({ result: { returned: 0n, nodeAvailable: 900n }, entries: [] });
        expect(await fund(ledger, 'f1', 'agent/bot', 100n)).toEqual({ result: { agentAvailable: 100n, nodeAvailable: 900n }, entries: [] });
        expect(ledger.lastSeq()).toBe(seq);
        await expectAuditOk(ledger);
        await ledger.close();
      });

      it('refuses bad transfers with typed errors and changes nothing', async () => {
        const ledger = await open();
        await fund(ledger, 'f1', 'agent/bot', 100n);
        await reserveAs(ledger, 'agent/bot', 'e1', 60n);
        const seq = ledger.lastSeq();
        await expectCode(fund(ledger, 'f2', 'agent/bot', 901n), ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
        await expectCode(fund(ledger, 'f1', 'agent/bot', 99n), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
        await expectCode(fund(ledger, 'f1', 'agent/other', 100n), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
        await expectCode(ledger.defundAgent({ transferId: 'f1', agentAccount: 'agent/bot', close: true }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
        await expectCode(fund(ledger, 'f2', 'peer', 1n), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
        await expectCode(fund(ledger, 'f2', 'agent/Bot', 1n), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
        await expectCode(fund(ledger, 'f2', 'agent/bot', 0n), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
        await expectCode(fund(ledger, 'x'.repeat(65), 'agent/bot', 1n), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
        // The agent can never spend more than it holds, nor anyone else's credit.
        await expectCode(reserveAs(ledger, 'agent/bot', 'e2', 41n), ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
        await expectCode(reserveAs(ledger, 'agent/ghost', 'e2', 1n), ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT);
        await expectCode(ledger.reserve({ escrowId: 'e2', account: 'node', amount: 1n, expiresAtMs: 0n, payees: ['agent/bot'] }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
        await expectCode(ledger.balance('agent/ghost'), ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT);
        expect(ledger.lastSeq()).toBe(seq);
        expect(await ledger.balance('agent/bot')).toEqual(balanceOf('agent/bot', 40n, 60n, { reserves: 1n }));
        await expectAuditOk(ledger);
        await ledger.close();
      });

      it('keeps concurrent funds, reserves and defunds consistent', async () => {
        const ledger = await open();
        const agents = ['agent/a', 'agent/b', 'agent/c'];
        const ops: Array<Promise<unknown>> = [];
        for (let i = 0; i < 30; i += 1) {
          const agent = agents[i % agents.length] ?? 'agent/a';
          ops.push(fund(ledger, `f${i}`, agent, 40n));
          ops.push(reserveAs(ledger, agent, `e${i}`, 30n));
          ops.push(ledger.defundAgent({ transferId: `d${i}`, agentAccount: agent, close: false }));
          if (i % 2 === 0) ops.push(ledger.refund({ escrowId: `e${i}` }));
        }
        const outcomes = await Promise.allSettled(ops);
        for (const o of outcomes) {
          if (o.status === 'rejected') {
            expect([ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT, ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND]).toContain(
              (o.reason as SwarmError).code,
            );
          }
        }
        await expectAuditOk(ledger);
        await ledger.close();
      });
    });

    closedAccountCompliance(name, { open, clock, grant: GRANT });
    sideRecordCompliance(name, { store: () => store, clock, grant: GRANT });

    describe(`${name} - multi-payee settle`, () => {
      const reserveSplit = (ledger: Ledger, escrowId: string, amount: bigint) =>
        ledger.reserve({ escrowId, account: 'node', amount, expiresAtMs: 0n, payees: ['peer-a', 'peer-b', 'peer-c', 'node'] });

      it('pays every payout, refunds the rest in the same operation, and keeps it across a reopen', async () => {
        let ledger = await open();
        await reserveSplit(ledger, 's1', 100n);
        const settled = await ledger.settle(
          settleMany('s1', [
            ['peer-b', 50n],
            ['peer-a', 30n],
            ['node', 5n],
          ]),
        );
        expect(settled.result).toEqual({ escrowId: 's1', paid: 85n, refunded: 15n });
        expect(settled.entries.map((e) => [e.seq, e.kind, e.fromAccount, e.toAccount, e.amount])).toEqual([
          [3n, EntryKind.ENTRY_KIND_SETTLE, 'node', 'peer-b', 50n],
          [4n, EntryKind.ENTRY_KIND_SETTLE, 'node', 'peer-a', 30n],
          [5n, EntryKind.ENTRY_KIND_SETTLE, 'node', 'node', 5n],
          [6n, EntryKind.ENTRY_KIND_REFUND, 'node', 'node', 15n],
        ]);
        // A retry, in any order, answers the recorded outcome; any other close is refused.
        expect(
          await ledger.settle(
            settleMany('s1', [
              ['node', 5n],
              ['peer-a', 30n],
              ['peer-b', 50n],
            ]),
          ),
        ).toEqual({ result: settled.result, entries: [] });
        await expectCode(
          ledger.settle(
            settleMany('s1', [
              ['peer-b', 50n],
              ['peer-a', 30n],
            ]),
          ),
          ErrorCode.ERROR_CODE_ESCROW_CLOSED,
        );
        await ledger.close();

        ledger = await open();
        expect(await ledger.balance('node')).toEqual(balanceOf('node', 920n, 0n, { spent: 85n, reserves: 1n }));
        expect(await ledger.balance('peer-a')).toEqual(balanceOf('peer-a', 30n, 0n));
        expect(await ledger.balance('peer-b')).toEqual(balanceOf('peer-b', 50n, 0n));
        expect(await ledger.escrow('s1')).toMatchObject({
          state: 'settled',
          payouts: [
            { payee: 'peer-b', amount: 50n },
            { payee: 'peer-a', amount: 30n },
            { payee: 'node', amount: 5n },
          ],
          paid: 85n,
          refunded: 15n,
        });
        expect(ledger.openEscrows()).toBe(0);
        expect(ledger.lastSeq()).toBe(6n);
        await expectAuditOk(ledger);
        await ledger.close();
      });

      it('pays the whole escrow with no refund when the payouts sum to it', async () => {
        const ledger = await open();
        await reserveSplit(ledger, 's1', 10n);
        const settled = await ledger.settle(
          settleMany('s1', [
            ['peer-a', 4n],
            ['peer-c', 6n],
          ]),
        );
        expect(settled.result).toEqual({ escrowId: 's1', paid: 10n, refunded: 0n });
        expect(settled.entries.map((e) => e.kind)).toEqual([EntryKind.ENTRY_KIND_SETTLE, EntryKind.ENTRY_KIND_SETTLE]);
        await expectAuditOk(ledger);
        await ledger.close();
      });

      it('refuses a bad multi-payee settle with a typed error and changes nothing', async () => {
        const ledger = await open();
        await reserveSplit(ledger, 's1', 10n);
        const seq = ledger.lastSeq();
        const cases: Array<[SettleRequest, ErrorCode]> = [
          [{ ...settleMany('s1', [['peer-a', 1n]]), payee: 'peer-a' }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
          [{ ...settleMany('s1', [['peer-a', 1n]]), amount: 1n }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
          [
            settleMany('s1', [
              ['peer-a', 1n],
              ['peer-a', 2n],
            ]),
            ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
          ],
          [
            settleMany('s1', [
              ['peer-a', 1n],
              ['peer-b', 0n],
            ]),
            ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
          ],
          [
            settleMany('s1', [
              ['peer-a', 1n],
              ['bad id', 1n],
            ]),
            ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
          ],
          [
            settleMany(
              's1',
              Array.from({ length: 17 }, (_, i): [string, bigint] => [`p${i}`, 1n]),
            ),
            ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
          ],
          [
            settleMany('s1', [
              ['peer-a', 6n],
              ['peer-b', 5n],
            ]),
            ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
          ],
          [
            settleMany('s1', [
              ['peer-a', 1n],
              ['thief', 1n],
            ]),
            ErrorCode.ERROR_CODE_ESCROW_CONFLICT,
          ],
        ];
        for (const [req, code] of cases) await expectCode(ledger.settle(req), code);
        expect(ledger.lastSeq()).toBe(seq);
        expect(await ledger.escrow('s1')).toMatchObject({ state: 'open' });
        expect(await ledger.balance('node')).toEqual(balanceOf('node', 990n, 10n, { reserves: 1n }));
        await expectAuditOk(ledger);
        await ledger.close();
      });
    });

    describe(`${name} - escrow expiry`, () => {
      const lifetime = { defaultMs: 60_000, maxMs: 120_000 };
      const SHORT_MS = 100;
      const openExpiring = () => open({ escrowLifetime: lifetime });
      const reserve = (ledger: Ledger, escrowId: string, amount: bigint, expiresAtMs = 0n) => ledger.reserve({ escrowId, account: 'node', amount, expiresAtMs, payees: PAYEES });

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
        expect(await ledger.balance('node')).toEqual(balanceOf('node', 980n, 20n, { reserves: 2n }));
        await expectCode(ledger.settle(settleOne('e1', 'peer', 1n)), ErrorCode.ERROR_CODE_ESCROW_CLOSED);
        // A late reserve retry cannot reopen it.
        await expect(reserve(ledger, 'e1', 10n, BigInt(clock.now() - 1))).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_ESCROW_CLOSED });
        // Settled before its expiry: the expiry then does nothing.
        await ledger.settle(settleOne('e2', 'peer', 20n));
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
        const [expired, settled] = await Promise.all([ledger.expireDue(clock.now() + SHORT_MS, 10), ledger.settle(settleOne('e1', 'peer', 10n))]);
        expect(expired).toEqual({ result: [], entries: [] });
        expect(settled.result).toEqual({ escrowId: 'e1', paid: 10n, refunded: 0n });
        expect(ledger.openEscrows()).toBe(0);
        await expectAuditOk(ledger);
        await ledger.close();
      });

      it('audit finds a stale expiry key, and expireDue drops it', async () => {
        let ledger = await openExpiring();
        await reserve(ledger, 'e1', 10n, BigInt(clock.now() + SHORT_MS));
        await ledger.settle(settleOne('e1', 'peer', 10n));
        await ledger.close();

        // A key left behind (by a bug or a crash of an older build) under a closed escrow.
        await store.open();
        await store.commit({
          accounts: [],
          escrows: [],
          transfers: [],
          entries: [],
          expiryPuts: [{ expiresAtMs: clock.now() + SHORT_MS, escrowId: 'e1' }],
          expiryDels: [],
          nextSeq: store.nextSeq(),
          side: [],
        });
        await store.close();
        ledger = await openExpiring();
        expect((await ledger.audit()).problems).toEqual(['expiry index lists escrow e1, which is not open with an expiry']);
        expect(await ledger.expireDue(clock.now() + SHORT_MS, 10)).toEqual({ result: [], entries: [] });
        expect(ledger.openEscrows()).toBe(0);
        await expectAuditOk(ledger);
        await ledger.close();
      });
    });
  });
}

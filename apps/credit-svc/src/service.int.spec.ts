import type { BusClient } from '@swarm/bus';
import { createBusClient } from '@swarm/bus';
import type { LedgerEntry } from '@swarm/contracts';
import {
  CreditAudit,
  CreditBalance,
  CreditHealth,
  CreditRefund,
  CreditEscrow,
  CreditReserve,
  CreditSettle,
  EntryKind,
  EscrowState,
  ErrorCode,
  LedgerEntryEvents,
  SwarmError,
  SwarmErrorMessage,
} from '@swarm/contracts';
import { openLedger } from '@swarm/credit-level';
import { manualClock, systemTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadCreditConfig } from './config';
import type { CreditService } from './service';
import { startCreditService } from './service';

const NODE = 'node-1';
/** The providers test escrows are reserved for. */
const PAYEES = ['peer', 'peer-a', 'peer-b', NODE];

describe('credit-svc - over a real nats-server', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let svc: CreditService;
  let bus: BusClient;
  const events: LedgerEntry[] = [];
  const clock = manualClock(1_700_000_000_000);
  const config = () =>
    loadCreditConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_CREDIT_SYNC_WRITES: 'false', SWARM_GRACE_MS: '2000', SWARM_ESCROW_SWEEP_MS: '50' });

  beforeAll(async () => {
    [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-credit-svc-')]);
    nc = await connect({ servers: server.url });
    bus = createBusClient(nc, silentLogger());
    bus.subscribe(LedgerEntryEvents, (e) => events.push(e));
    svc = await startCreditService({ config: config(), log: silentLogger(), nc, nodeId: NODE, ...systemTime, clock });
  });

  afterAll(async () => {
    await svc.stop();
    await nc.drain();
    await Promise.all([server.stop(), dir.remove()]);
  });

  const lastSeq = async () => BigInt((await bus.request(CreditHealth, {})).details['lastSeq'] ?? '-1');
  const balance = (account: string) => bus.request(CreditBalance, { account });

  async function codeOf(p: Promise<unknown>): Promise<ErrorCode | undefined> {
    try {
      await p;
      return undefined;
    } catch (err) {
      expect(err).toBeInstanceOf(SwarmError);
      return (err as SwarmError).code;
    }
  }

  describe('credit-svc - happy path', () => {
    it('reserves, settles, refunds and reports balances, publishing each committed entry', async () => {
      expect(await balance('')).toEqual({ account: NODE, available: 1000n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false });
      expect(await bus.request(CreditReserve, { escrowId: 'task-1', account: NODE, amount: 100n, expiresAtMs: 0n, payees: PAYEES })).toEqual({
        escrowId: 'task-1',
        available: 900n,
      });
      expect(await balance(NODE)).toEqual({ account: NODE, available: 900n, escrowed: 100n, spent: 0n, reserves: 1n, closed: false });
      expect(await bus.request(CreditSettle, { escrowId: 'task-1', payee: 'peer-a', amount: 60n, payouts: [] })).toEqual({ escrowId: 'task-1', paid: 60n, refunded: 40n });
      await bus.request(CreditReserve, { escrowId: 'task-2', account: NODE, amount: 50n, expiresAtMs: 0n, payees: PAYEES });
      expect(await bus.request(CreditRefund, { escrowId: 'task-2' })).toEqual({ escrowId: 'task-2', refunded: 50n });
      expect(await balance('')).toEqual({ account: NODE, available: 940n, escrowed: 0n, spent: 60n, reserves: 2n, closed: false });
      expect(await balance('peer-a')).toEqual({ account: 'peer-a', available: 60n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false });

      await waitFor(() => events.length >= 5, { what: 'ledger entry events' });
      expect(events.map((e) => [e.seq, e.kind, e.escrowId, e.amount])).toEqual([
        [2n, EntryKind.ENTRY_KIND_RESERVE, 'task-1', 100n],
        [3n, EntryKind.ENTRY_KIND_SETTLE, 'task-1', 60n],
        [4n, EntryKind.ENTRY_KIND_REFUND, 'task-1', 40n],
        [5n, EntryKind.ENTRY_KIND_RESERVE, 'task-2', 50n],
        [6n, EntryKind.ENTRY_KIND_REFUND, 'task-2', 50n],
      ]);
    });

    it('answers retried requests with the recorded outcome and moves nothing', async () => {
      const seq = await lastSeq();
      const published = events.length;
      await expect(bus.request(CreditReserve, { escrowId: 'task-1', account: NODE, amount: 100n, expiresAtMs: 0n, payees: PAYEES })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_ESCROW_CLOSED,
      });
      expect(await bus.request(CreditSettle, { escrowId: 'task-1', payee: 'peer-a', amount: 60n, payouts: [] })).toEqual({ escrowId: 'task-1', paid: 60n, refunded: 40n });
      expect(await bus.request(CreditRefund, { escrowId: 'task-2' })).toEqual({ escrowId: 'task-2', refunded: 50n });
      expect(await lastSeq()).toBe(seq);
      expect(events).toHaveLength(published);
    });

    it('reports entries and last seq in health', async () => {
      const health = await bus.request(CreditHealth, {});
      expect(health).toMatchObject({ service: 'credit-svc', nodeId: NODE, status: 'ok', details: { entries: '6', lastSeq: '6', syncWrites: 'false', openEscrows: '0' } });
    });
  });

  describe('credit-svc - bad input', () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]);
    const long = 'x'.repeat(129);

    it.each([CreditReserve, CreditSettle, CreditRefund, CreditBalance])('answers malformed bytes on $subject with MALFORMED_MESSAGE', async (rpc) => {
      const reply = await nc.request(rpc.subject, garbage, { timeout: 2000 });
      expect(SwarmErrorMessage.decode(reply.data).code).toBe(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
    });

    it('refuses each bad request with a typed error, keeps serving, and moves no credit', async () => {
      await bus.request(CreditReserve, { escrowId: 'open-1', account: NODE, amount: 10n, expiresAtMs: 0n, payees: PAYEES });
      const seq = await lastSeq();
      const before = await Promise.all([balance(NODE), balance('peer-a')]);

      const cases: Array<[string, Promise<unknown>, ErrorCode]> = [
        ['reserve zero', bus.request(CreditReserve, { escrowId: 'z', account: NODE, amount: 0n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
        ['settle zero', bus.request(CreditSettle, { escrowId: 'open-1', payee: 'peer-a', amount: 0n, payouts: [] }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
        [
          'reserve unknown account',
          bus.request(CreditReserve, { escrowId: 'u', account: 'ghost', amount: 1n, expiresAtMs: 0n, payees: PAYEES }),
          ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT,
        ],
        ['balance unknown account', balance('ghost'), ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT],
        [
          'reserve too much',
          bus.request(CreditReserve, { escrowId: 'big', account: NODE, amount: 1_000_000n, expiresAtMs: 0n, payees: PAYEES }),
          ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
        ],
        ['oversized escrow id', bus.request(CreditReserve, { escrowId: long, account: NODE, amount: 1n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
        ['oversized account', bus.request(CreditReserve, { escrowId: 'o', account: long, amount: 1n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
        ['oversized payee', bus.request(CreditSettle, { escrowId: 'open-1', payee: long, amount: 1n, payouts: [] }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
        ['oversized refund id', bus.request(CreditRefund, { escrowId: long }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
        ['oversized balance account', balance(long), ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
        ['id with bad characters', bus.request(CreditRefund, { escrowId: 'a b' }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
        ['request over the size limit', bus.request(CreditRefund, { escrowId: 'y'.repeat(4096) }), ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE],
        ['settle more than escrowed', bus.request(CreditSettle, { escrowId: 'open-1', payee: 'peer-a', amount: 11n, payouts: [] }), ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
        ['settle a missing escrow', bus.request(CreditSettle, { escrowId: 'nope', payee: 'peer-a', amount: 1n, payouts: [] }), ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND],
        ['refund a missing escrow', bus.request(CreditRefund, { escrowId: 'nope' }), ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND],
        ['reserve conflict', bus.request(CreditReserve, { escrowId: 'open-1', account: NODE, amount: 11n, expiresAtMs: 0n, payees: PAYEES }), ErrorCode.ERROR_CODE_ESCROW_CONFLICT],
        ['refund after settle', bus.request(CreditRefund, { escrowId: 'task-1' }), ErrorCode.ERROR_CODE_ESCROW_CLOSED],
        ['settle after refund', bus.request(CreditSettle, { escrowId: 'task-2', payee: 'peer-a', amount: 1n, payouts: [] }), ErrorCode.ERROR_CODE_ESCROW_CLOSED],
        ['second settle, other amount', bus.request(CreditSettle, { escrowId: 'task-1', payee: 'peer-a', amount: 61n, payouts: [] }), ErrorCode.ERROR_CODE_ESCROW_CLOSED],
      ];
      const codes = await Promise.all(cases.map(async ([name, p]) => [name, await codeOf(p)]));
      expect(codes).toEqual(cases.map(([name, , code]) => [name, code]));

      expect(await lastSeq()).toBe(seq);
      expect(await Promise.all([balance(NODE), balance('peer-a')])).toEqual(before);
      // Still serving: the open escrow can be closed normally.
      expect(await bus.request(CreditRefund, { escrowId: 'open-1' })).toEqual({ escrowId: 'open-1', refunded: 10n });
    });
  });

  describe('credit-svc - escrow expiry', () => {
    it('refunds an escrow nobody closed once its expiry passes, publishing the REFUND; a settle afterwards is ESCROW_CLOSED', async () => {
      const before = await balance(NODE);
      const published = events.length;
      const expiresAtMs = BigInt(clock.now() + 300);
      await bus.request(CreditReserve, { escrowId: 'stranded-1', account: NODE, amount: 25n, expiresAtMs, payees: PAYEES });
      expect(await balance(NODE)).toEqual({ ...before, available: before.available - 25n, escrowed: before.escrowed + 25n, reserves: before.reserves + 1n });
      expect((await bus.request(CreditHealth, {})).details['openEscrows']).toBe('1');

      clock.advance(300);
      await waitFor(async () => (await balance(NODE)).escrowed === before.escrowed, { what: 'the expired escrow back in the balance' });
      expect(await balance(NODE)).toEqual({ ...before, reserves: before.reserves + 1n });
      await waitFor(() => events.length >= published + 2, { what: 'the REFUND event' });
      expect(events.slice(published).map((e) => [e.kind, e.escrowId, e.amount])).toEqual([
        [EntryKind.ENTRY_KIND_RESERVE, 'stranded-1', 25n],
        [EntryKind.ENTRY_KIND_REFUND, 'stranded-1', 25n],
      ]);
      expect(await codeOf(bus.request(CreditSettle, { escrowId: 'stranded-1', payee: 'peer-a', amount: 25n, payouts: [] }))).toBe(ErrorCode.ERROR_CODE_ESCROW_CLOSED);
      expect((await bus.request(CreditHealth, {})).details['openEscrows']).toBe('0');
    });

    it('refuses an expiry in the past as INVALID_ARGUMENT', async () => {
      const reserve = bus.request(CreditReserve, { escrowId: 'late-1', account: NODE, amount: 1n, expiresAtMs: BigInt(clock.now() - 1), payees: PAYEES });
      expect(await codeOf(reserve)).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    });
  });

  describe('credit-svc - escrow status', () => {
    it('answers what the ledger holds for an escrow: none, open, settled, refunded; a bad id is refused', async () => {
      const none = await bus.request(CreditEscrow, { escrowId: 'never-reserved' });
      expect(none).toMatchObject({ escrowId: 'never-reserved', state: EscrowState.ESCROW_STATE_NONE, amount: 0n });
      await bus.request(CreditReserve, { escrowId: 'status-1', account: NODE, amount: 20n, expiresAtMs: 0n, payees: PAYEES });
      expect(await bus.request(CreditEscrow, { escrowId: 'status-1' })).toMatchObject({ state: EscrowState.ESCROW_STATE_OPEN, payer: NODE, amount: 20n });
      await bus.request(CreditSettle, { escrowId: 'status-1', payee: 'peer-b', amount: 15n, payouts: [] });
      expect(await bus.request(CreditEscrow, { escrowId: 'status-1' })).toMatchObject({ state: EscrowState.ESCROW_STATE_SETTLED, paid: 15n, refunded: 5n, payee: 'peer-b' });
      await bus.request(CreditReserve, { escrowId: 'status-2', account: NODE, amount: 7n, expiresAtMs: 0n, payees: PAYEES });
      await bus.request(CreditRefund, { escrowId: 'status-2' });
      expect(await bus.request(CreditEscrow, { escrowId: 'status-2' })).toMatchObject({ state: EscrowState.ESCROW_STATE_REFUNDED, paid: 0n, refunded: 7n });
      expect(await codeOf(bus.request(CreditEscrow, { escrowId: 'bad id!' }))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      // Put the balance back as the other tests expect it: status-1 paid 15 away.
      await bus.request(CreditReserve, { escrowId: 'status-3', account: 'peer-b', amount: 15n, expiresAtMs: 0n, payees: PAYEES });
      await bus.request(CreditSettle, { escrowId: 'status-3', payee: NODE, amount: 15n, payouts: [] });
    });

    it('takes a reserve naming 16 payees of 128 characters (the most an escrow names), and refuses one past its size limit', async () => {
      const payees = Array.from({ length: 16 }, (_, i) => `${i.toString(16)}${'p'.repeat(127)}`);
      const escrowId = `wide-${'e'.repeat(123)}`;
      await bus.request(CreditReserve, { escrowId, account: NODE, amount: 2n, expiresAtMs: 0n, payees });
      expect(await bus.request(CreditEscrow, { escrowId })).toMatchObject({ state: EscrowState.ESCROW_STATE_OPEN, amount: 2n });
      await bus.request(CreditRefund, { escrowId });
      const tooWide = bus.request(CreditReserve, {
        escrowId: 'too-wide',
        account: NODE,
        amount: 2n,
        expiresAtMs: 0n,
        payees: Array.from({ length: 40 }, (_, i) => `${i}${'p'.repeat(120)}`),
      });
      expect(await codeOf(tooWide)).toBe(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE);
    });

    it('settles one escrow to several payees, reports each payout, and refuses a request in both forms', async () => {
      await bus.request(CreditReserve, { escrowId: 'split-1', account: NODE, amount: 30n, expiresAtMs: 0n, payees: PAYEES });
      const both = { escrowId: 'split-1', payee: 'peer-a', amount: 10n, payouts: [{ payee: 'peer-a', amount: 10n }] };
      expect(await codeOf(bus.request(CreditSettle, both))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      const payouts = [
        { payee: 'peer-a', amount: 10n },
        { payee: NODE, amount: 5n },
      ];
      expect(await bus.request(CreditSettle, { escrowId: 'split-1', payee: '', amount: 0n, payouts })).toEqual({ escrowId: 'split-1', paid: 15n, refunded: 15n });
      expect(await bus.request(CreditEscrow, { escrowId: 'split-1' })).toMatchObject({ state: EscrowState.ESCROW_STATE_SETTLED, paid: 15n, refunded: 15n, payee: '', payouts });
      // Put the balance back: peer-a returns the 10 it was paid.
      await bus.request(CreditReserve, { escrowId: 'split-2', account: 'peer-a', amount: 10n, expiresAtMs: 0n, payees: PAYEES });
      await bus.request(CreditSettle, { escrowId: 'split-2', payee: '', amount: 0n, payouts: [{ payee: NODE, amount: 10n }] });
      expect(await bus.request(CreditAudit, {})).toMatchObject({ ok: true, problems: [] });
    });
  });

  describe('credit-svc - stop', () => {
    it('closes LevelDB, leaving a ledger that reopens and audits clean', async () => {
      await svc.stop();
      const ledger = await openLedger({ path: config().ledgerPath, clock, nodeAccount: NODE, genesisGrant: 1000n, sync: false });
      const report = await ledger.audit();
      expect(report).toMatchObject({ ok: true, problems: [] });
      expect(report.totals).toMatchObject({ genesis: 1000n, available: 1000n, escrowed: 0n, openEscrows: 0 });
      await ledger.close();
      // Serve again on the same store, for afterAll's stop.
      svc = await startCreditService({ config: config(), log: silentLogger(), nc, nodeId: NODE, ...systemTime, clock });
      expect(await balance('')).toMatchObject({ available: 940n });
    });
  });
});

import type { BusClient } from '@swarm/bus';
import { createBusClient, SWARM_ERROR_HEADER } from '@swarm/bus';
import type { LedgerEntry } from '@swarm/contracts';
import {
  CreditAudit,
  CreditBalance,
  CreditDefundAgent,
  CreditEscrow,
  CreditFundAgent,
  CreditRefund,
  CreditReserve,
  CreditSettle,
  EntryKind,
  ErrorCode,
  EscrowState,
  LedgerEntryEvents,
  SwarmErrorMessage,
} from '@swarm/contracts';
import { manualClock, systemTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, swarmErrorOf, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadCreditConfig } from './config';
import type { CreditService } from './service';
import { startCreditService } from './service';

const NODE = 'node-1';
const BOT = 'agent/bot';
const PAYEES = ['peer', NODE];

describe('credit-svc - agent accounts over a real nats-server', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let svc: CreditService;
  let bus: BusClient;
  const events: LedgerEntry[] = [];
  const clock = manualClock(1_700_000_000_000);

  beforeAll(async () => {
    [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-credit-agents-')]);
    nc = await connect({ servers: server.url });
    bus = createBusClient(nc, silentLogger());
    bus.subscribe(LedgerEntryEvents, (e) => events.push(e));
    const config = loadCreditConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_CREDIT_SYNC_WRITES: 'false', SWARM_GRACE_MS: '2000' });
    svc = await startCreditService({ config, log: silentLogger(), nc, nodeId: NODE, ...systemTime, clock });
  });

  afterAll(async () => {
    await svc.stop();
    await nc.drain();
    await Promise.all([server.stop(), dir.remove()]);
  });

  const balance = (account: string) => bus.request(CreditBalance, { account });
  const fund = (transferId: string, agentAccount: string, amount: bigint) => bus.request(CreditFundAgent, { transferId, agentAccount, amount });
  const defund = (transferId: string, agentAccount: string, close = false) => bus.request(CreditDefundAgent, { transferId, agentAccount, close });
  const open = (account: string, available: bigint, escrowed: bigint, more: { spent?: bigint; reserves?: bigint } = {}) => ({
    account,
    available,
    escrowed,
    spent: 0n,
    reserves: 0n,
    closed: false,
    ...more,
  });
  const codeOf = async (p: Promise<unknown>) => (await swarmErrorOf(p)).code;

  it('funds an agent from the node, retries idempotently and refuses more than the node has', async () => {
    expect(await fund('add-bot', BOT, 300n)).toEqual({ agentAvailable: 300n, nodeAvailable: 700n });
    expect(await fund('add-bot', BOT, 300n)).toEqual({ agentAvailable: 300n, nodeAvailable: 700n });
    expect(await balance(BOT)).toEqual(open(BOT, 300n, 0n));
    expect(await balance('')).toEqual(open(NODE, 700n, 0n));
    await waitFor(() => events.length >= 1, { what: 'the TRANSFER event' });
    expect(events.map((e) => [e.kind, e.escrowId, e.fromAccount, e.toAccount, e.amount])).toEqual([[EntryKind.ENTRY_KIND_TRANSFER, 'add-bot', NODE, BOT, 300n]]);

    const over = await swarmErrorOf(fund('add-big', 'agent/big', 701n));
    expect(over.code).toBe(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
    expect(over.message).toMatch(/has 700 available, cannot fund 701/);
    expect(await codeOf(fund('add-bot', BOT, 1n))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(await codeOf(balance('agent/big'))).toBe(ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT);
  });

  it('lets the agent pay its own escrows (reserve, settle, refund) and never beyond its account', async () => {
    expect(await bus.request(CreditReserve, { escrowId: 'task-a1', account: BOT, amount: 200n, expiresAtMs: 0n, payees: PAYEES })).toEqual({
      escrowId: 'task-a1',
      available: 100n,
    });
    expect(await codeOf(bus.request(CreditReserve, { escrowId: 'task-a2', account: BOT, amount: 101n, expiresAtMs: 0n, payees: PAYEES }))).toBe(
      ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
    );
    expect(await bus.request(CreditSettle, { escrowId: 'task-a1', payee: NODE, amount: 150n, payouts: [] })).toEqual({ escrowId: 'task-a1', paid: 150n, refunded: 50n });
    await bus.request(CreditReserve, { escrowId: 'task-a3', account: BOT, amount: 100n, expiresAtMs: 0n, payees: PAYEES });
    expect(await bus.request(CreditEscrow, { escrowId: 'task-a3' })).toMatchObject({ state: EscrowState.ESCROW_STATE_OPEN, payer: BOT, amount: 100n });
    expect(await balance(BOT)).toEqual(open(BOT, 50n, 100n, { spent: 150n, reserves: 2n }));
    expect(await balance('')).toEqual(open(NODE, 850n, 0n));
  });

  it('defunds all the agent may spend, then what its refunded escrow returned under a new id', async () => {
    expect(await defund('revoke-bot', BOT)).toEqual({ returned: 50n, nodeAvailable: 900n });
    expect(await defund('revoke-bot', BOT)).toEqual({ returned: 50n, nodeAvailable: 900n });
    expect(await defund('revoke-bot-empty', BOT)).toEqual({ returned: 0n, nodeAvailable: 900n });
    await bus.request(CreditRefund, { escrowId: 'task-a3' });
    expect(await balance(BOT)).toEqual(open(BOT, 100n, 0n, { spent: 150n, reserves: 2n }));
    // The id of the empty defund is spent: it moves nothing more.
    expect(await defund('revoke-bot-empty', BOT)).toEqual({ returned: 0n, nodeAvailable: 900n });
    expect(await defund('revoke-bot-2', BOT)).toEqual({ returned: 100n, nodeAvailable: 1000n });
    expect(await codeOf(defund('add-bot', BOT))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);

    const audit = await bus.request(CreditAudit, {});
    expect(audit.problems).toEqual([]);
    expect(audit).toMatchObject({ ok: true, genesis: 1000n, available: 1000n, escrowed: 0n });
  });

  it.each([
    ['a peer account', { transferId: 't', agentAccount: 'peer', amount: 1n }],
    ['an agent name with a capital', { transferId: 't', agentAccount: 'agent/Bot', amount: 1n }],
    ['a 33-character agent name', { transferId: 't', agentAccount: `agent/${'a'.repeat(33)}`, amount: 1n }],
    ['a zero amount', { transferId: 't', agentAccount: BOT, amount: 0n }],
    ['an empty transfer id', { transferId: '', agentAccount: BOT, amount: 1n }],
    ['a 65-character transfer id', { transferId: 't'.repeat(65), agentAccount: BOT, amount: 1n }],
  ])('refuses a fund naming %s with INVALID_ARGUMENT, echoing little', async (_, req) => {
    const err = await swarmErrorOf(bus.request(CreditFundAgent, req));
    expect(err.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(err.message.length).toBeLessThan(200);
    expect(await balance('')).toEqual(open(NODE, 1000n, 0n));
  });

  it('answers malformed bytes and an oversized field with typed errors, and keeps serving', async () => {
    for (const subject of [CreditFundAgent.subject, CreditDefundAgent.subject]) {
      const malformed = await nc.request(subject, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), { timeout: 5_000 });
      expect(malformed.headers?.has(SWARM_ERROR_HEADER)).toBe(true);
      expect(SwarmErrorMessage.decode(malformed.data).code).toBe(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
      const big = CreditDefundAgent.request.encode({ agentAccount: `agent/${'a'.repeat(100_000)}`, transferId: 't', close: true }).finish();
      const tooLarge = await nc.request(subject, big, { timeout: 5_000 });
      expect(SwarmErrorMessage.decode(tooLarge.data).code).toBe(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE);
      expect(tooLarge.data.byteLength).toBeLessThan(1024);
    }
    expect(await balance(BOT)).toEqual(open(BOT, 0n, 0n, { spent: 150n, reserves: 2n }));
  });

  it('closes an account with its defund: its open escrow refunds to the node, it reserves nothing more, the audit agrees', async () => {
    const GONE = 'agent/gone';
    await fund('add-gone', GONE, 100n);
    await bus.request(CreditReserve, { escrowId: 'task-g1', account: GONE, amount: 40n, expiresAtMs: 0n, payees: PAYEES });
    const seen = events.length;
    expect(await defund('revoke-gone', GONE, true)).toEqual({ returned: 60n, nodeAvailable: 960n });
    expect(await balance(GONE)).toEqual({ ...open(GONE, 0n, 40n, { reserves: 1n }), closed: true });
    // The task fails after the revocation: its budget goes back to the node.
    await bus.request(CreditRefund, { escrowId: 'task-g1' });
    expect(await balance(GONE)).toEqual({ ...open(GONE, 0n, 0n, { reserves: 1n }), closed: true });
    expect(await balance('')).toEqual(open(NODE, 1000n, 0n));
    await waitFor(() => events.length >= seen + 2, { what: 'the TRANSFER and REFUND events' });
    expect(events.slice(seen).map((e) => [e.kind, e.fromAccount, e.toAccount, e.amount])).toEqual([
      [EntryKind.ENTRY_KIND_TRANSFER, GONE, NODE, 60n],
      [EntryKind.ENTRY_KIND_REFUND, GONE, NODE, 40n],
    ]);
    const refused = await swarmErrorOf(bus.request(CreditReserve, { escrowId: 'task-g2', account: GONE, amount: 1n, expiresAtMs: 0n, payees: PAYEES }));
    expect([refused.code, refused.message]).toEqual([
      ErrorCode.ERROR_CODE_PERMISSION_DENIED,
      'account agent/gone is closed (its agent was revoked): it pays for and receives nothing more',
    ]);
    expect(await bus.request(CreditAudit, {})).toMatchObject({ ok: true, problems: [] });
  });
});

import { agentAccount, EntryKind, ErrorCode, SwarmError } from '@swarm/contracts';
import { isAgentAccount } from './agent-accounts';
import type { Account, Transfer } from './ledger-records';
import { emptyAccount, MAX_UINT64 } from './ledger-records';
import type { Stamp } from './ledger-rules';
import { balanceRule, reserveRule } from './ledger-rules';
import type { TransferRecords } from './transfer-rules';
import { defundAgentRule, fundAgentRule } from './transfer-rules';

const at: Stamp = { nextSeq: 4n, atMs: 2_000 };
const acct = (id: string, available: bigint, escrowed: bigint, over: Partial<Account> = {}): Account => ({ ...emptyAccount(id), available, escrowed, ...over });
const node = acct('node', 100n, 5n, { spent: 7n, reserves: 2n });
const agent = acct('agent/bot', 30n, 10n, { spent: 9n, reserves: 3n });
const none: TransferRecords = { transfer: undefined, node, agent: undefined };

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SwarmError) return err.code;
    throw err;
  }
  return undefined;
}

describe('agent accounts - names', () => {
  it('accepts agent/<1-32 of [a-z0-9-]> and nothing else', () => {
    expect(agentAccount('bot-1')).toBe('agent/bot-1');
    expect(isAgentAccount('agent/bot-1')).toBe(true);
    expect(isAgentAccount(`agent/${'a'.repeat(32)}`)).toBe(true);
    for (const bad of ['agent/', `agent/${'a'.repeat(33)}`, 'agent/Bot', 'agent/a_b', 'agent/a/b', 'agents/a', 'node', 'agent/a ']) expect(isAgentAccount(bad)).toBe(false);
  });

  it('lets an agent account reserve like any payer, and read its balance', () => {
    const c = reserveRule({ escrowId: 't1', account: 'agent/bot', amount: 30n, expiresAtMs: 0n, payees: ['node'] }, { escrow: undefined, payer: agent }, at, {
      defaultMs: 10,
      maxMs: 20,
    });
    expect(c.accounts).toEqual([{ ...agent, available: 0n, escrowed: 40n, reserves: 4n }]);
    expect(balanceRule('agent/bot', agent)).toEqual({ account: 'agent/bot', available: 30n, escrowed: 10n, spent: 9n, reserves: 3n, closed: false });
    const over = () =>
      reserveRule({ escrowId: 't1', account: 'agent/bot', amount: 31n, expiresAtMs: 0n, payees: ['node'] }, { escrow: undefined, payer: agent }, at, { defaultMs: 10, maxMs: 20 });
    expect(codeOf(over)).toBe(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
    // An agent can never be paid: payees are node ids.
    const paysAgent = () =>
      reserveRule({ escrowId: 't1', account: 'node', amount: 1n, expiresAtMs: 0n, payees: ['agent/bot'] }, { escrow: undefined, payer: node }, at, { defaultMs: 10, maxMs: 20 });
    expect(codeOf(paysAgent)).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(codeOf(() => balanceRule('agent/Bad', undefined))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });
});

describe('transfer rules - fund', () => {
  it('moves the amount from the node to a new agent account, with one TRANSFER entry and its record', () => {
    const c = fundAgentRule({ agentAccount: 'agent/bot', amount: 40n, transferId: 'f1' }, 'node', none, at);
    expect(c.result).toEqual({ agentAvailable: 40n, nodeAvailable: 60n });
    expect(c.accounts).toEqual([{ ...node, available: 60n }, acct('agent/bot', 40n, 0n)]);
    expect(c.entries).toEqual([{ seq: 4n, kind: EntryKind.ENTRY_KIND_TRANSFER, escrowId: 'f1', fromAccount: 'node', toAccount: 'agent/bot', amount: 40n, atMs: 2_000n }]);
    expect(c.transfers).toEqual([{ id: 'f1', from: 'node', to: 'agent/bot', amount: 40n }]);
  });

  it('adds to an existing agent account and may spend all of the node account', () => {
    const c = fundAgentRule({ agentAccount: 'agent/bot', amount: 100n, transferId: 'f2' }, 'node', { ...none, agent }, at);
    expect(c.result).toEqual({ agentAvailable: 130n, nodeAvailable: 0n });
    expect(c.accounts[1]).toEqual({ ...agent, available: 130n });
  });

  it('answers a retry with the balances now and writes nothing; the same id with other terms is INVALID_ARGUMENT', () => {
    const first: Transfer = { id: 'f1', from: 'node', to: 'agent/bot', amount: 40n };
    const again = fundAgentRule({ agentAccount: 'agent/bot', amount: 40n, transferId: 'f1' }, 'node', { transfer: first, node, agent }, at);
    expect(again).toEqual({ result: { agentAvailable: 30n, nodeAvailable: 100n }, accounts: [], escrows: [], entries: [] });
    for (const req of [
      { agentAccount: 'agent/bot', amount: 41n, transferId: 'f1' },
      { agentAccount: 'agent/other', amount: 40n, transferId: 'f1' },
    ]) {
      expect(codeOf(() => fundAgentRule(req, 'node', { transfer: first, node, agent: undefined }, at))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    }
    const defund: Transfer = { id: 'f1', from: 'agent/bot', to: 'node', amount: 40n };
    expect(codeOf(() => fundAgentRule({ agentAccount: 'agent/bot', amount: 40n, transferId: 'f1' }, 'node', { transfer: defund, node, agent }, at))).toBe(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    );
  });

  it.each([
    ['zero amount', { agentAccount: 'agent/bot', amount: 0n, transferId: 'f1' }],
    ['amount over uint64', { agentAccount: 'agent/bot', amount: MAX_UINT64 + 1n, transferId: 'f1' }],
    ['a peer account', { agentAccount: 'peer', amount: 1n, transferId: 'f1' }],
    ['the node account', { agentAccount: 'node', amount: 1n, transferId: 'f1' }],
    ['an upper-case agent name', { agentAccount: 'agent/Bot', amount: 1n, transferId: 'f1' }],
    ['an empty transfer id', { agentAccount: 'agent/bot', amount: 1n, transferId: '' }],
    ['a transfer id over 64 characters', { agentAccount: 'agent/bot', amount: 1n, transferId: 'f'.repeat(65) }],
    ['a transfer id with a slash', { agentAccount: 'agent/bot', amount: 1n, transferId: 'f/1' }],
  ])('refuses %s as INVALID_ARGUMENT', (_, req) => {
    expect(codeOf(() => fundAgentRule(req, 'node', none, at))).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });

  it('refuses more than the node has available (escrowed credit does not count), and a node without an account', () => {
    expect(codeOf(() => fundAgentRule({ agentAccount: 'agent/bot', amount: 101n, transferId: 'f1' }, 'node', none, at))).toBe(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
    expect(codeOf(() => fundAgentRule({ agentAccount: 'agent/bot', amount: 1n, transferId: 'f1' }, 'node', { ...none, node: undefined }, at))).toBe(
      ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT,
    );
  });

  it('never echoes a long input whole', () => {
    try {
      fundAgentRule({ agentAccount: `agent/${'x'.repeat(10_000)}`, amount: 1n, transferId: 'f1' }, 'node', none, at);
    } catch (err) {
      expect((err as Error).message.length).toBeLessThan(200);
    }
    expect.assertions(1);
  });
});

describe('transfer rules - defund', () => {
  it('moves all of the agent available credit back to the node; its escrowed credit stays', () => {
    const c = defundAgentRule({ agentAccount: 'agent/bot', transferId: 'd1', close: false }, 'node', { ...none, agent }, at);
    expect(c.result).toEqual({ returned: 30n, nodeAvailable: 130n });
    expect(c.accounts).toEqual([
      { ...agent, available: 0n },
      { ...node, available: 130n },
    ]);
    expect(c.entries).toMatchObject([{ kind: EntryKind.ENTRY_KIND_TRANSFER, escrowId: 'd1', fromAccount: 'agent/bot', toAccount: 'node', amount: 30n }]);
    expect(c.transfers).toEqual([{ id: 'd1', from: 'agent/bot', to: 'node', amount: 30n }]);
  });

  it('returns 0 from an empty or unknown agent account, recording only the id', () => {
    for (const empty of [undefined, { ...agent, available: 0n }]) {
      const c = defundAgentRule({ agentAccount: 'agent/bot', transferId: 'd1', close: false }, 'node', { ...none, agent: empty }, at);
      expect(c).toEqual({
        result: { returned: 0n, nodeAvailable: 100n },
        accounts: [],
        escrows: [],
        entries: [],
        transfers: [{ id: 'd1', from: 'agent/bot', to: 'node', amount: 0n }],
      });
    }
  });

  it('answers a retry with what the first returned and moves nothing more', () => {
    const first: Transfer = { id: 'd1', from: 'agent/bot', to: 'node', amount: 0n };
    // Credit came back to the agent since (an escrow refunded): the same id still moves nothing.
    expect(defundAgentRule({ agentAccount: 'agent/bot', transferId: 'd1', close: false }, 'node', { transfer: first, node, agent }, at)).toEqual({
      result: { returned: 0n, nodeAvailable: 100n },
      accounts: [],
      escrows: [],
      entries: [],
    });
    expect(codeOf(() => defundAgentRule({ agentAccount: 'agent/other', transferId: 'd1', close: false }, 'node', { transfer: first, node, agent: undefined }, at))).toBe(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    );
  });

  it('treats a record passed under the wrong id as a bug, not a user error', () => {
    expect(() => defundAgentRule({ agentAccount: 'agent/bot', transferId: 'd1', close: true }, 'node', { ...none, agent: { ...agent, id: 'agent/x' } }, at)).toThrow(
      /got record agent\/x/,
    );
  });
});

describe('transfer rules - defund with close', () => {
  const closeReq = { agentAccount: 'agent/bot', transferId: 'd1', close: true };

  it('returns the available credit and closes the account in the same change, the record saying where', () => {
    const c = defundAgentRule(closeReq, 'node', { ...none, agent }, at);
    expect(c.result).toEqual({ returned: 30n, nodeAvailable: 130n });
    expect(c.accounts).toEqual([
      { ...agent, available: 0n, closed: true },
      { ...node, available: 130n },
    ]);
    // Its TRANSFER entry is seq 4: the close takes effect after it.
    expect(c.entries).toMatchObject([{ seq: 4n, kind: EntryKind.ENTRY_KIND_TRANSFER, amount: 30n }]);
    expect(c.transfers).toEqual([{ id: 'd1', from: 'agent/bot', to: 'node', amount: 30n, closedAtSeq: 5n }]);
  });

  it('closes an account with nothing available without a log entry, and closes nothing that does not exist', () => {
    const empty = defundAgentRule(closeReq, 'node', { ...none, agent: { ...agent, available: 0n } }, at);
    expect(empty).toEqual({
      result: { returned: 0n, nodeAvailable: 100n },
      accounts: [{ ...agent, available: 0n, closed: true }],
      escrows: [],
      entries: [],
      transfers: [{ id: 'd1', from: 'agent/bot', to: 'node', amount: 0n, closedAtSeq: 4n }],
    });
    const never = defundAgentRule(closeReq, 'node', none, at);
    expect(never.accounts).toEqual([]);
    expect(never.transfers).toEqual([{ id: 'd1', from: 'agent/bot', to: 'node', amount: 0n }]);
  });

  it('closes an account once: a later close records no second one', () => {
    const closed = { ...agent, available: 0n, closed: true };
    const c = defundAgentRule({ ...closeReq, transferId: 'd2' }, 'node', { ...none, agent: closed }, at);
    expect(c.accounts).toEqual([]);
    expect(c.transfers).toEqual([{ id: 'd2', from: 'agent/bot', to: 'node', amount: 0n }]);
  });

  it('answers a retry with the first outcome; one asking to close what the first left open closes it then', () => {
    const first: Transfer = { id: 'd1', from: 'agent/bot', to: 'node', amount: 30n };
    const later = { ...agent, available: 4n };
    const c = defundAgentRule(closeReq, 'node', { transfer: first, node, agent: later }, at);
    expect(c).toEqual({
      result: { returned: 30n, nodeAvailable: 100n },
      accounts: [{ ...later, closed: true }],
      escrows: [],
      entries: [],
      transfers: [{ ...first, closedAtSeq: 4n }],
    });
    const closedFirst: Transfer = { ...first, closedAtSeq: 3n };
    expect(defundAgentRule(closeReq, 'node', { transfer: closedFirst, node, agent: { ...later, closed: true } }, at)).toEqual({
      result: { returned: 30n, nodeAvailable: 100n },
      accounts: [],
      escrows: [],
      entries: [],
    });
  });

  it('funds a closed account no more (PERMISSION_DENIED), but still answers a fund it recorded before', () => {
    const closed = { ...agent, available: 0n, closed: true };
    const fund = () => fundAgentRule({ agentAccount: 'agent/bot', amount: 1n, transferId: 'f2' }, 'node', { ...none, agent: closed }, at);
    expect(codeOf(fund)).toBe(ErrorCode.ERROR_CODE_PERMISSION_DENIED);
    expect(fund).toThrow('account agent/bot is closed (its agent was revoked): it pays for and receives nothing more');
    const recorded: Transfer = { id: 'f1', from: 'node', to: 'agent/bot', amount: 40n };
    expect(fundAgentRule({ agentAccount: 'agent/bot', amount: 40n, transferId: 'f1' }, 'node', { transfer: recorded, node, agent: closed }, at).entries).toEqual([]);
  });
});

import type { LedgerEntry } from '@swarm/contracts';
import { EntryKind } from '@swarm/contracts';
import { createAuditor, MAX_AUDIT_ACCOUNTS } from './ledger-audit';
import type { Account, Escrow, Transfer } from './ledger-records';
import { emptyAccount } from './ledger-records';

const acct = (id: string, available: bigint, escrowed: bigint, over: Partial<Account> = {}): Account => ({ ...emptyAccount(id), available, escrowed, ...over });

const entry = (seq: bigint, kind: EntryKind, escrowId: string, from: string, to: string, amount: bigint): LedgerEntry => ({
  seq,
  kind,
  escrowId,
  fromAccount: from,
  toAccount: to,
  amount,
  atMs: 0n,
});

/** genesis 100 -> node; reserve e1 30; settle e1 20 to peer, 10 back; reserve e2 5 (left open). */
const log: LedgerEntry[] = [
  entry(1n, EntryKind.ENTRY_KIND_GENESIS, '', '', 'node', 100n),
  entry(2n, EntryKind.ENTRY_KIND_RESERVE, 'e1', 'node', '', 30n),
  entry(3n, EntryKind.ENTRY_KIND_SETTLE, 'e1', 'node', 'peer', 20n),
  entry(4n, EntryKind.ENTRY_KIND_REFUND, 'e1', 'node', 'node', 10n),
  entry(5n, EntryKind.ENTRY_KIND_RESERVE, 'e2', 'node', '', 5n),
];
const accounts: Account[] = [acct('node', 75n, 5n, { spent: 20n, reserves: 2n }), acct('peer', 20n, 0n)];
const escrows: Escrow[] = [
  { id: 'e1', payer: 'node', amount: 30n, state: 'settled', payee: 'peer', paid: 20n, refunded: 10n },
  { id: 'e2', payer: 'node', amount: 5n, state: 'open' },
];

function auditOf(l: LedgerEntry[], a: Account[], e: Escrow[], nextSeq = BigInt(l.length + 1), index: Array<[string, number]> = [], t: Transfer[] = []) {
  const auditor = createAuditor();
  l.forEach((x) => auditor.replay(x));
  a.forEach((x) => auditor.checkAccount(x));
  e.forEach((x) => auditor.checkEscrow(x));
  t.forEach((x) => auditor.checkTransfer(x));
  index.forEach(([id, at]) => auditor.checkExpiry(id, at));
  return auditor.finish(nextSeq);
}

describe('ledger audit - receipts paid in by other nodes', () => {
  const paidIn = [...log, entry(6n, EntryKind.ENTRY_KIND_RECEIPT_IN, 't9:node', 'payer-node', 'node', 7n)];
  const withEarnings = [acct('node', 82n, 5n, { spent: 20n, reserves: 2n }), acct('peer', 20n, 0n)];

  it('counts them beside the genesis: available + escrowed = genesis + received', () => {
    const report = auditOf(paidIn, withEarnings, escrows);
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ genesis: 100n, received: 7n, available: 102n, escrowed: 5n });
  });

  it('finds a receipt credited twice, one credited to an agent, and credit the log does not show', () => {
    const twice = [...paidIn, entry(7n, EntryKind.ENTRY_KIND_RECEIPT_IN, 't9:node', 'payer-node', 'node', 7n)];
    expect(auditOf(twice, [acct('node', 89n, 5n, { spent: 20n, reserves: 2n }), acct('peer', 20n, 0n)], escrows).problems).toEqual(['seq 7: receipt t9:node credited twice']);
    const toAgent = [...log, entry(6n, EntryKind.ENTRY_KIND_RECEIPT_IN, 't9:agent', 'payer-node', 'agent/bot', 7n)];
    expect(auditOf(toAgent, [...accounts, acct('agent/bot', 7n, 0n)], escrows).problems).toContain('seq 6: receipt t9:agent credits agent account agent/bot; receipts pay nodes');
    expect(auditOf(paidIn, accounts, escrows).ok).toBe(false);
  });
});

describe('ledger audit - voided receipts', () => {
  // The settle paid peer 20 by a receipt peer then voided: 20 back from peer to node.
  const voided = [...log, entry(6n, EntryKind.ENTRY_KIND_VOID, 'e1:node:peer', 'peer', 'node', 20n)];
  const after = [acct('node', 95n, 5n, { spent: 20n, reserves: 2n }), acct('peer', 0n, 0n)];

  it('moves the credit back from the payee node to the node, conserving it', () => {
    const report = auditOf(voided, after, escrows);
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ genesis: 100n, received: 0n, available: 95n, escrowed: 5n });
  });

  it('finds a receipt voided twice, a void to anyone but the node, one from an agent, and more than the payee holds', () => {
    const twice = [...voided, entry(7n, EntryKind.ENTRY_KIND_VOID, 'e1:node:peer', 'peer', 'node', 1n)];
    expect(auditOf(twice, after, escrows).problems).toContain('seq 7: receipt e1:node:peer voided twice');
    const toPeer = [...log, entry(6n, EntryKind.ENTRY_KIND_VOID, 'x:node:peer', 'node', 'peer', 5n)];
    expect(auditOf(toPeer, accounts, escrows).problems[0]).toMatch(/^seq 6: void of receipt x:node:peer moves credit from node to peer/);
    const fromAgent = [...log, entry(6n, EntryKind.ENTRY_KIND_VOID, 'x:node:agent', 'agent/bot', 'node', 5n)];
    expect(auditOf(fromAgent, accounts, escrows).problems[0]).toMatch(/^seq 6: void of receipt x:node:agent moves credit from agent\/bot/);
    const tooMuch = [...log, entry(6n, EntryKind.ENTRY_KIND_VOID, 'e1:node:peer', 'peer', 'node', 21n)];
    expect(auditOf(tooMuch, after, escrows).problems).toContain('seq 6: peer available would go negative (20 - 21)');
  });

  // peer broke its word on the void: the receipt is paid after all, 20 back from node to peer.
  const reinstated = [...voided, entry(7n, EntryKind.ENTRY_KIND_REINSTATE, 'e1:node:peer', 'node', 'peer', 20n)];
  const paidAgain = [acct('node', 75n, 5n, { spent: 20n, reserves: 2n }), acct('peer', 20n, 0n)];

  it('moves a voided receipt paid after all back to its payee, conserving it', () => {
    const report = auditOf(reinstated, paidAgain, escrows);
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ genesis: 100n, available: 95n, escrowed: 5n });
  });

  it('finds a reinstatement of a receipt never voided, one twice, one of another amount than its void took back, and one to anyone but that payee', () => {
    const neverVoided = [...log, entry(6n, EntryKind.ENTRY_KIND_REINSTATE, 'x:node:peer', 'node', 'peer', 5n)];
    expect(auditOf(neverVoided, accounts, escrows).problems[0]).toBe('seq 6: reinstates receipt x:node:peer, which was never voided');
    const twice = [...reinstated, entry(8n, EntryKind.ENTRY_KIND_REINSTATE, 'e1:node:peer', 'node', 'peer', 1n)];
    expect(auditOf(twice, paidAgain, escrows).problems).toContain('seq 8: receipt e1:node:peer reinstated twice');
    const more = [...voided, entry(7n, EntryKind.ENTRY_KIND_REINSTATE, 'e1:node:peer', 'node', 'peer', 25n)];
    expect(auditOf(more, paidAgain, escrows).problems).toContain('seq 7: reinstating receipt e1:node:peer moves 25; its void took back 20');
    const elsewhere = [...voided, entry(7n, EntryKind.ENTRY_KIND_REINSTATE, 'e1:node:peer', 'node', 'agent/bot', 20n)];
    expect(auditOf(elsewhere, paidAgain, escrows).problems[0]).toMatch(
      /^seq 7: reinstating receipt e1:node:peer moves credit from node to agent\/bot; it returns the node's credit to peer/,
    );
  });
});

describe('ledger audit - replay', () => {
  it('passes a consistent ledger and reports its totals', () => {
    expect(auditOf(log, accounts, escrows)).toEqual({
      ok: true,
      problems: [],
      totals: { genesis: 100n, received: 0n, available: 95n, escrowed: 5n, accounts: 2, escrows: 2, openEscrows: 1, transfers: 0, lastSeq: 5n },
      accounts: [
        { id: 'node', storedAvailable: 75n, storedEscrowed: 5n, replayedAvailable: 75n, replayedEscrowed: 5n },
        { id: 'peer', storedAvailable: 20n, storedEscrowed: 0n, replayedAvailable: 20n, replayedEscrowed: 0n },
      ],
    });
  });

  it('finds a stored balance that the log does not explain', () => {
    const r = auditOf(log, [{ ...accounts[0], available: 76n }, accounts[1]], escrows);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(expect.arrayContaining([expect.stringMatching(/account node stores 76\/5, log gives 75\/5/), expect.stringMatching(/not conserved/)]));
    expect(r.accounts[0]).toEqual({ id: 'node', storedAvailable: 76n, storedEscrowed: 5n, replayedAvailable: 75n, replayedEscrowed: 5n });
  });

  it('finds stored counters the log does not give: reserves = RESERVE entries, spent = SETTLE amounts', () => {
    const r = auditOf(
      log,
      [
        { ...accounts[0], spent: 19n },
        { ...accounts[1], reserves: 1n },
      ],
      escrows,
    );
    expect(r.problems).toEqual(['account node stores 19/2, log gives 20/2 (spent/reserves)', 'account peer stores 0/1, log gives 0/0 (spent/reserves)']);
    // Listed first, as differing.
    expect(r.accounts.map((a) => a.id)).toEqual(['node', 'peer']);
  });

  it('lists differing accounts first, at most MAX_AUDIT_ACCOUNTS of them', () => {
    expect(auditOf(log, [accounts[0], { ...accounts[1], available: 21n }], escrows).accounts.map((a) => a.id)).toEqual(['peer', 'node']);
    const strays: Account[] = Array.from({ length: MAX_AUDIT_ACCOUNTS + 5 }, (_, i) => emptyAccount(`stray${i}`));
    const r = auditOf(log, [...accounts, ...strays], escrows);
    expect(r.accounts).toHaveLength(MAX_AUDIT_ACCOUNTS);
    expect(r.accounts[0]).toMatchObject({ id: 'stray0', replayedAvailable: 0n });
    expect(r.totals.accounts).toBe(MAX_AUDIT_ACCOUNTS + 7);
  });

  it('finds an escrow closed twice', () => {
    const r = auditOf([...log.slice(0, 4), entry(5n, EntryKind.ENTRY_KIND_REFUND, 'e1', 'node', 'node', 30n)], accounts, escrows);
    expect(r.problems).toEqual(expect.arrayContaining([expect.stringMatching(/seq 5: escrow e1 closed again/)]));
  });

  it('finds a settle whose remainder never came back', () => {
    const r = auditOf(log.slice(0, 3), accounts, escrows);
    expect(r.problems).toEqual(expect.arrayContaining([expect.stringMatching(/settle of e1 left 10 escrowed/)]));
  });

  it('finds gaps in the log, a wrong next seq and records missing on either side', () => {
    const r = auditOf([log[0], { ...log[1], seq: 3n }], [accounts[1]], [], 9n);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        'seq 3: expected seq 2',
        'stored next seq 9 but the log ends at 3',
        'account node appears in the log but is not stored',
        'account peer is stored but never appears in the log',
        'escrow e1 appears in the log but is not stored',
      ]),
    );
  });

  it('finds an overdraft in the log', () => {
    const r = auditOf([log[0], entry(2n, EntryKind.ENTRY_KIND_RESERVE, 'e1', 'node', '', 101n)], [], []);
    expect(r.problems).toEqual(expect.arrayContaining([expect.stringMatching(/seq 2: node available would go negative/)]));
  });
});

describe('ledger audit - expiry index', () => {
  const expiring: Escrow[] = [
    { ...escrows[0], expiresAtMs: 500 },
    { ...escrows[1], expiresAtMs: 900 },
  ];
  const next = BigInt(log.length + 1);

  it('passes when the index lists exactly the open escrows with an expiry', () => {
    expect(auditOf(log, accounts, expiring, next, [['e2', 900]]).problems).toEqual([]);
  });

  it('finds an open escrow missing from the index, a closed one still in it, and a wrong or doubled time', () => {
    expect(auditOf(log, accounts, expiring, next, []).problems).toEqual(['open escrow e2 expires at 900 but is missing from the expiry index']);
    expect(
      auditOf(log, accounts, expiring, next, [
        ['e2', 900],
        ['e1', 500],
      ]).problems,
    ).toEqual(['expiry index lists escrow e1, which is not open with an expiry']);
    expect(auditOf(log, accounts, expiring, next, [['e2', 901]]).problems).toEqual(['expiry index lists escrow e2 at 901, but it expires at 900']);
    expect(
      auditOf(log, accounts, expiring, next, [
        ['e2', 900],
        ['e2', 800],
      ]).problems,
    ).toEqual(['expiry index lists escrow e2 at 900, 800, but it expires at 900']);
  });
});

describe('ledger audit - multi-payee settles', () => {
  /** genesis 100 -> node; reserve e1 30 for a and b; settle e1: 12 to b, 8 to a, 10 back. */
  const split: LedgerEntry[] = [
    entry(1n, EntryKind.ENTRY_KIND_GENESIS, '', '', 'node', 100n),
    entry(2n, EntryKind.ENTRY_KIND_RESERVE, 'e1', 'node', '', 30n),
    entry(3n, EntryKind.ENTRY_KIND_SETTLE, 'e1', 'node', 'b', 12n),
    entry(4n, EntryKind.ENTRY_KIND_SETTLE, 'e1', 'node', 'a', 8n),
    entry(5n, EntryKind.ENTRY_KIND_REFUND, 'e1', 'node', 'node', 10n),
  ];
  const splitAccounts: Account[] = [acct('node', 80n, 0n, { spent: 20n, reserves: 1n }), acct('a', 8n, 0n), acct('b', 12n, 0n)];
  const splitEscrow: Escrow = {
    id: 'e1',
    payer: 'node',
    amount: 30n,
    state: 'settled',
    payouts: [
      { payee: 'b', amount: 12n },
      { payee: 'a', amount: 8n },
    ],
    paid: 20n,
    refunded: 10n,
    payees: ['a', 'b'],
  };

  it('passes consecutive SETTLEs of one escrow and their remainder REFUND as one settle', () => {
    expect(auditOf(split, splitAccounts, [splitEscrow])).toMatchObject({ ok: true, problems: [] });
  });

  it('finds a stored split that differs from the log, and a payout to an account never reserved for', () => {
    const swapped = {
      ...splitEscrow,
      payouts: [
        { payee: 'a', amount: 8n },
        { payee: 'b', amount: 12n },
      ],
    };
    expect(auditOf(split, splitAccounts, [swapped]).problems).toEqual([
      expect.stringMatching(/escrow e1 stores settled 30 from node \(paid 20 to a 8, b 12, refunded 10\), log gives .*to b 12, a 8/),
    ]);
    expect(auditOf(split, splitAccounts, [{ ...splitEscrow, payees: ['b'] }]).problems).toEqual(['escrow e1 paid a, who is not among the payees it was reserved for']);
  });

  it('finds a split that pays one account twice, pays more than the escrow, or leaves a remainder', () => {
    const twice = [...split.slice(0, 3), entry(4n, EntryKind.ENTRY_KIND_SETTLE, 'e1', 'node', 'b', 8n), split[4]];
    expect(auditOf(twice, [], []).problems).toEqual(expect.arrayContaining(['seq 4: settle of e1 pays b twice']));
    const over = [...split.slice(0, 3), entry(4n, EntryKind.ENTRY_KIND_SETTLE, 'e1', 'node', 'a', 19n)];
    expect(auditOf(over, [], []).problems).toEqual(expect.arrayContaining(['seq 4: settles 19 from escrow e1 with 18 left']));
    const unrefunded = [...split.slice(0, 4), entry(5n, EntryKind.ENTRY_KIND_RESERVE, 'e2', 'node', '', 1n)];
    expect(auditOf(unrefunded, [], []).problems).toEqual(expect.arrayContaining(['seq 3: settle of e1 left 10 escrowed']));
  });
});

describe('ledger audit - transfers', () => {
  /** genesis 100 -> node; fund agent/a 40 (f1); agent/a reserves 30 (e1), settles 10 to node (20 back); defund all 30 (d1); a defund of nothing (d2). */
  const agentLog: LedgerEntry[] = [
    entry(1n, EntryKind.ENTRY_KIND_GENESIS, '', '', 'node', 100n),
    entry(2n, EntryKind.ENTRY_KIND_TRANSFER, 'f1', 'node', 'agent/a', 40n),
    entry(3n, EntryKind.ENTRY_KIND_RESERVE, 'e1', 'agent/a', '', 30n),
    entry(4n, EntryKind.ENTRY_KIND_SETTLE, 'e1', 'agent/a', 'node', 10n),
    entry(5n, EntryKind.ENTRY_KIND_REFUND, 'e1', 'agent/a', 'agent/a', 20n),
    entry(6n, EntryKind.ENTRY_KIND_TRANSFER, 'd1', 'agent/a', 'node', 30n),
  ];
  const agentAccounts: Account[] = [acct('node', 100n, 0n), acct('agent/a', 0n, 0n, { spent: 10n, reserves: 1n })];
  const agentEscrows: Escrow[] = [{ id: 'e1', payer: 'agent/a', amount: 30n, state: 'settled', payee: 'node', paid: 10n, refunded: 20n }];
  const transfers: Transfer[] = [
    { id: 'f1', from: 'node', to: 'agent/a', amount: 40n },
    { id: 'd1', from: 'agent/a', to: 'node', amount: 30n },
    { id: 'd2', from: 'agent/a', to: 'node', amount: 0n },
  ];
  const auditAgents = (l = agentLog, a = agentAccounts, t = transfers) => auditOf(l, a, agentEscrows, BigInt(l.length + 1), [], t);

  it('replays transfers and conserves credit: balances + escrows = genesis', () => {
    const r = auditAgents();
    expect(r.problems).toEqual([]);
    expect(r.totals).toMatchObject({ genesis: 100n, available: 100n, escrowed: 0n, transfers: 3 });
  });

  it('finds a transfer record the log does not explain, and a logged transfer with no record', () => {
    const r = auditAgents(agentLog, agentAccounts, [{ ...transfers[0], amount: 41n }, transfers[2]]);
    expect(r.problems).toEqual(
      expect.arrayContaining(['transfer f1 stores 41 from node to agent/a, log gives 40 from node to agent/a', 'transfer d1 appears in the log but is not stored']),
    );
    expect(auditAgents(agentLog, agentAccounts, [...transfers, { id: 'ghost', from: 'node', to: 'agent/a', amount: 5n }]).problems).toEqual([
      'transfer ghost is stored but never appears in the log',
    ]);
  });

  it('finds a transfer between two agents, or between the node and a peer, and one logged twice', () => {
    const sideways = [...agentLog.slice(0, 2), entry(3n, EntryKind.ENTRY_KIND_TRANSFER, 'x', 'agent/a', 'agent/b', 5n)];
    expect(auditOf(sideways, [], [], 4n).problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/seq 3: transfer x moves credit from agent\/a to agent\/b; transfers are only/)]),
    );
    const toPeer = [agentLog[0], entry(2n, EntryKind.ENTRY_KIND_TRANSFER, 'x', 'peer', 'agent/a', 5n)];
    expect(auditOf(toPeer, [], [], 3n).problems).toEqual(expect.arrayContaining([expect.stringMatching(/seq 2: transfer x moves credit from peer/)]));
    const twice = [...agentLog.slice(0, 2), entry(3n, EntryKind.ENTRY_KIND_TRANSFER, 'f1', 'node', 'agent/a', 40n)];
    expect(auditOf(twice, [], [], 4n).problems).toEqual(expect.arrayContaining(['seq 3: transfer f1 logged twice']));
  });

  it('finds an agent overdrawn by a transfer, and a settle that pays an agent account', () => {
    const overdrawn = [...agentLog.slice(0, 2), entry(3n, EntryKind.ENTRY_KIND_TRANSFER, 'd9', 'agent/a', 'node', 41n)];
    expect(auditOf(overdrawn, [], [], 4n).problems).toEqual(expect.arrayContaining(['seq 3: agent/a available would go negative (40 - 41)']));
    const paysAgent = [agentLog[0], entry(2n, EntryKind.ENTRY_KIND_RESERVE, 'e1', 'node', '', 10n), entry(3n, EntryKind.ENTRY_KIND_SETTLE, 'e1', 'node', 'agent/a', 10n)];
    expect(auditOf(paysAgent, [], [], 4n).problems).toEqual(expect.arrayContaining([expect.stringMatching(/seq 3: settle of e1 pays agent account agent\/a/)]));
  });
});

describe('ledger audit - closed accounts', () => {
  /**
   * genesis 100 -> node; fund agent/a 40; it reserves e1 30 and e2 5; defund d1 returns 5 and
   * closes it (after seq 5: closedAtSeq 6); e1 refunds to the node; e2 settles 2 to the node and
   * its rest 3 goes to the node.
   */
  const closedLog: LedgerEntry[] = [
    entry(1n, EntryKind.ENTRY_KIND_GENESIS, '', '', 'node', 100n),
    entry(2n, EntryKind.ENTRY_KIND_TRANSFER, 'f1', 'node', 'agent/a', 40n),
    entry(3n, EntryKind.ENTRY_KIND_RESERVE, 'e1', 'agent/a', '', 30n),
    entry(4n, EntryKind.ENTRY_KIND_RESERVE, 'e2', 'agent/a', '', 5n),
    entry(5n, EntryKind.ENTRY_KIND_TRANSFER, 'd1', 'agent/a', 'node', 5n),
    entry(6n, EntryKind.ENTRY_KIND_REFUND, 'e1', 'agent/a', 'node', 30n),
    entry(7n, EntryKind.ENTRY_KIND_SETTLE, 'e2', 'agent/a', 'node', 2n),
    entry(8n, EntryKind.ENTRY_KIND_REFUND, 'e2', 'agent/a', 'node', 3n),
  ];
  const closedAgent = acct('agent/a', 0n, 0n, { spent: 2n, reserves: 2n, closed: true });
  const closedAccounts = [acct('node', 100n, 0n), closedAgent];
  const closedEscrows: Escrow[] = [
    { id: 'e1', payer: 'agent/a', amount: 30n, state: 'refunded', refunded: 30n },
    { id: 'e2', payer: 'agent/a', amount: 5n, state: 'settled', payee: 'node', paid: 2n, refunded: 3n },
  ];
  const fund: Transfer = { id: 'f1', from: 'node', to: 'agent/a', amount: 40n };
  const close: Transfer = { id: 'd1', from: 'agent/a', to: 'node', amount: 5n, closedAtSeq: 6n };
  const auditClosed = (l = closedLog, a = closedAccounts, t = [fund, close], e = closedEscrows) => auditOf(l, a, e, BigInt(l.length + 1), [], t);

  it('passes refunds of a closed account that go to the node, and conserves credit', () => {
    const r = auditClosed();
    expect(r.problems).toEqual([]);
    expect(r.totals).toMatchObject({ genesis: 100n, available: 100n, escrowed: 0n });
  });

  it('finds a close the account does not show, and a closed account no defund closed', () => {
    expect(auditClosed(closedLog, [closedAccounts[0], { ...closedAgent, closed: false }]).problems).toEqual(['transfer d1 closed agent/a, but the account is stored open']);
    // Without the record of its close, the refunds to the node are unexplained too.
    expect(auditClosed(closedLog, closedAccounts, [fund, { ...close, closedAtSeq: undefined }]).problems).toEqual([
      'account agent/a is stored closed, but no defund closed it',
      'seq 6: a refund of agent/a goes to node, but agent/a was never closed',
    ]);
  });

  it('holds the log to the moment of the close: refunds to the node only after it, to the account only before, no reserve after', () => {
    expect(auditClosed(closedLog, closedAccounts, [fund, { ...close, closedAtSeq: 7n }]).problems).toEqual(['seq 6: a refund of agent/a goes to node before its close at seq 7']);
    const selfAfter = [...closedLog.slice(0, 5), entry(6n, EntryKind.ENTRY_KIND_REFUND, 'e1', 'agent/a', 'agent/a', 30n), ...closedLog.slice(6)];
    expect(auditClosed(selfAfter).problems).toEqual(
      expect.arrayContaining(['seq 6: a refund credits agent/a after its close at seq 6', expect.stringMatching(/^account agent\/a stores 0\/0, log gives 30\/0/)]),
    );
    const reserveAfter = [...closedLog, entry(9n, EntryKind.ENTRY_KIND_RESERVE, 'e3', 'agent/a', '', 1n)];
    expect(auditClosed(reserveAfter).problems).toEqual(expect.arrayContaining(['seq 9: agent/a reserves after its close at seq 6']));
    expect(auditClosed(closedLog, closedAccounts, [fund, { ...close, closedAtSeq: 10n }]).problems).toEqual(
      expect.arrayContaining(['transfer d1 closed agent/a at seq 10, past the end of the log']),
    );
  });

  it('finds a refund to an account that is neither the payer nor the node, and two closes of one account', () => {
    const stray = [...closedLog.slice(0, 5), entry(6n, EntryKind.ENTRY_KIND_REFUND, 'e1', 'agent/a', 'peer', 30n), ...closedLog.slice(6)];
    expect(auditClosed(stray).problems).toEqual(expect.arrayContaining(["seq 6: a refund of agent/a credits peer, neither the payer nor the node's account"]));
    const again: Transfer = { id: 'd2', from: 'agent/a', to: 'node', amount: 0n, closedAtSeq: 9n };
    expect(auditClosed(closedLog, closedAccounts, [fund, close, again]).problems).toEqual(['transfers d1 and d2 both close agent/a']);
    const fundCloses: Transfer = { ...fund, closedAtSeq: 3n };
    expect(auditClosed(closedLog, closedAccounts, [fundCloses, close]).problems).toEqual(
      expect.arrayContaining(["transfer f1 closes node; only a defund of an agent's account to the node's closes one"]),
    );
  });
});

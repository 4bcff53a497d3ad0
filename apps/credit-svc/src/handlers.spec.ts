import type { DefundAgentRequest, LedgerEntry } from '@swarm/contracts';
import { EntryKind, ErrorCode } from '@swarm/contracts';
import type { AuditReport, ChainBook, Ledger } from '@swarm/credit';
import { createStandingIndex, MAX_UINT64 } from '@swarm/credit';
import { manualClock } from '@swarm/determinism';
import { NO_TRACE, silentLogger } from '@swarm/telemetry';
import { auditResponse, createCreditHandlers, MAX_AUDIT_PROBLEM_CHARS } from './handlers';

const entry: LedgerEntry = { seq: 2n, kind: EntryKind.ENTRY_KIND_REFUND, escrowId: 'e1', fromAccount: 'n', toAccount: 'n', amount: 5n, atMs: 0n };
const transferEntry: LedgerEntry = { seq: 3n, kind: EntryKind.ENTRY_KIND_TRANSFER, escrowId: 't1', fromAccount: 'n', toAccount: 'agent/a', amount: 5n, atMs: 0n };
const ctx = { log: silentLogger(), headers: undefined, trace: NO_TRACE };
const HOUR = 3_600_000;
/** An empty standing index on a clock that stands still. */
const standingDeps = (clock = manualClock(10 * HOUR)) => ({ standing: createStandingIndex({ windowMs: HOUR }), clock, book: noChainBook(), onReceiptsOwed: () => undefined });

/** These specs never reach the chain: a book whose every use fails the test. */
function noChainBook(): ChainBook {
  const unused = (): never => {
    throw new Error('the chain book is not used here');
  };
  return {
    nodeId: 'n',
    hooks: { afterRule: unused },
    open: unused,
    head: unused,
    pledged: unused,
    voided: unused,
    acceptReceipt: unused,
    completeReceipt: unused,
    startVoid: unused,
    cancelVoid: unused,
    acceptVoid: unused,
    completeVoid: unused,
    paidVoids: unused,
    reinstateVoided: unused,
    pending: unused,
    blocks: unused,
    appendDueBurns: unused,
  };
}

function fakeLedger(): Ledger & { balances: string[]; defunds: DefundAgentRequest[] } {
  const balances: string[] = [];
  const defunds: DefundAgentRequest[] = [];
  return {
    balances,
    defunds,
    reserve: async () => ({ result: { escrowId: 'e1', available: 1n }, entries: [] }),
    settle: async () => ({ result: { escrowId: 'e1', paid: 1n, refunded: 0n }, entries: [] }),
    charge: async () => ({ result: { escrowId: 'e1', paid: 1n, refunded: 0n }, entries: [] }),
    refund: async () => ({ result: { escrowId: 'e1', refunded: 5n }, entries: [entry] }),
    fundAgent: async () => ({ result: { agentAvailable: 5n, nodeAvailable: 95n }, entries: [transferEntry] }),
    defundAgent: async (req) => {
      defunds.push(req);
      return { result: { returned: 0n, nodeAvailable: 95n }, entries: [] };
    },
    expireDue: async () => ({ result: [], entries: [] }),
    balance: async (account) => {
      balances.push(account);
      return { account, available: 0n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false };
    },
    escrow: async () => undefined,
    transfer: async () => undefined,
    entries: async () => [],
    lastSeq: () => 2n,
    openEscrows: () => 0,
    audit: async () => ({
      ok: true,
      problems: [],
      totals: { genesis: 0n, received: 0n, available: 0n, escrowed: 0n, accounts: 0, escrows: 0, openEscrows: 0, transfers: 0, lastSeq: 2n },
      accounts: [],
    }),
    run: () => Promise.reject(new Error('not used here')),
    side: () => undefined,
    sideRange: async () => [],
    close: async () => undefined,
  };
}

describe('credit handlers - standing', () => {
  it("answers a node's payouts in the window, 0 for one never paid, and refuses a bad node id", async () => {
    const deps = standingDeps();
    const settle: LedgerEntry = {
      seq: 4n,
      kind: EntryKind.ENTRY_KIND_SETTLE,
      escrowId: 'e1',
      fromAccount: 'node',
      toAccount: 'peer-a',
      amount: 7n,
      atMs: BigInt(10 * HOUR - 1_000),
    };
    deps.standing.record(settle);
    const h = createCreditHandlers({ ledger: fakeLedger(), nodeAccount: 'node', publish: () => undefined, log: silentLogger(), stopwatch: manualClock(), ...deps });
    expect(h.standing({ nodeId: 'peer-a' }, ctx)).toEqual({ nodeId: 'peer-a', earnedInWindow: 7n, windowMs: BigInt(HOUR) });
    expect(h.standing({ nodeId: 'peer-b' }, ctx)).toEqual({ nodeId: 'peer-b', earnedInWindow: 0n, windowMs: BigInt(HOUR) });
    deps.clock.advance(HOUR + 60_000);
    expect(h.standing({ nodeId: 'peer-a' }, ctx)).toMatchObject({ earnedInWindow: 0n });
    for (const nodeId of ['', 'x'.repeat(129), 'a b']) {
      expect(() => h.standing({ nodeId }, ctx)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }));
    }
  });
});

describe('credit handlers - mapping', () => {
  it('reads the node account for an empty balance request', async () => {
    const ledger = fakeLedger();
    const h = createCreditHandlers({ ledger, nodeAccount: 'node', publish: () => undefined, log: silentLogger(), stopwatch: manualClock(), ...standingDeps() });
    await h.balance({ account: '' }, ctx);
    await h.balance({ account: 'peer' }, ctx);
    expect(ledger.balances).toEqual(['node', 'peer']);
  });

  it('publishes committed entries, and still replies when publishing fails', async () => {
    const published: LedgerEntry[] = [];
    const ok = createCreditHandlers({
      ledger: fakeLedger(),
      nodeAccount: 'node',
      publish: (e) => published.push(e),
      log: silentLogger(),
      stopwatch: manualClock(),
      ...standingDeps(),
    });
    await expect(ok.refund({ escrowId: 'e1' }, ctx)).resolves.toEqual({ escrowId: 'e1', refunded: 5n });
    expect(published).toEqual([entry]);

    const failing = createCreditHandlers({
      ledger: fakeLedger(),
      nodeAccount: 'node',
      publish: () => {
        throw new Error('connection closed');
      },
      log: silentLogger(),
      stopwatch: manualClock(),
      ...standingDeps(),
    });
    await expect(failing.refund({ escrowId: 'e1' }, ctx)).resolves.toEqual({ escrowId: 'e1', refunded: 5n });
  });

  it('publishes the TRANSFER entry of a fund, and nothing for a defund that moved nothing', async () => {
    const published: LedgerEntry[] = [];
    const ledger = fakeLedger();
    const h = createCreditHandlers({ ledger, nodeAccount: 'node', publish: (e) => published.push(e), log: silentLogger(), stopwatch: manualClock(), ...standingDeps() });
    await expect(h.fundAgent({ agentAccount: 'agent/a', amount: 5n, transferId: 't1' }, ctx)).resolves.toEqual({ agentAvailable: 5n, nodeAvailable: 95n });
    await expect(h.defundAgent({ agentAccount: 'agent/a', transferId: 't2', close: true }, ctx)).resolves.toEqual({ returned: 0n, nodeAvailable: 95n });
    expect(published).toEqual([transferEntry]);
    // A revocation's close reaches the ledger.
    expect(ledger.defunds).toEqual([{ agentAccount: 'agent/a', transferId: 't2', close: true }]);
  });
});

describe('credit handlers - audit', () => {
  const damaged: AuditReport = {
    ok: false,
    problems: ['seq 5: escrow e1 closed again (already settled)', 'x'.repeat(2 * MAX_AUDIT_PROBLEM_CHARS)],
    totals: { genesis: 100n, received: 0n, available: MAX_UINT64, escrowed: 5n, accounts: 60, escrows: 2, openEscrows: 1, transfers: 0, lastSeq: 5n },
    accounts: [{ id: 'node', storedAvailable: 80n, storedEscrowed: 5n, replayedAvailable: -10n, replayedEscrowed: 5n }],
  };

  it('answers a bounded summary of what the ledger audit found', () => {
    const res = auditResponse(damaged, 12.4);
    expect(res).toMatchObject({
      ok: false,
      entriesChecked: 5n,
      accountsChecked: 60n,
      escrowsChecked: 2n,
      openEscrows: 1n,
      genesis: 100n,
      available: MAX_UINT64,
      accounts: [{ account: 'node', storedAvailable: 80n, storedEscrowed: 5n, logAvailable: 0n, logEscrowed: 5n }],
      accountsOmitted: 59n,
      durationMs: 12n,
    });
    expect(res.problems[0]).toBe('seq 5: escrow e1 closed again (already settled)');
    expect(res.problems[1]).toHaveLength(MAX_AUDIT_PROBLEM_CHARS);
  });

  it('runs one audit for requests that arrive while one is running, timed on the stopwatch', async () => {
    const stopwatch = manualClock(500);
    let runs = 0;
    let finish: (r: AuditReport) => void = () => undefined;
    const ledger: Ledger = {
      ...fakeLedger(),
      audit: () => {
        runs += 1;
        return new Promise<AuditReport>((r) => (finish = r));
      },
    };
    const h = createCreditHandlers({ ledger, nodeAccount: 'node', publish: () => undefined, log: silentLogger(), stopwatch, ...standingDeps() });
    const both = Promise.all([h.audit({}, ctx), h.audit({}, ctx)]);
    stopwatch.advance(7);
    finish(damaged);
    const [a, b] = await both;
    expect(a.ok).toBe(false);
    expect(a.durationMs).toBe(7n);
    expect(b).toBe(a);
    expect(runs).toBe(1);
    finish = () => undefined;
    const again = h.audit({}, ctx);
    finish(damaged);
    await again;
    expect(runs).toBe(2);
  });
});

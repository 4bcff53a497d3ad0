import type { LedgerEntry, RefundResponse } from '@swarm/contracts';
import { EntryKind, ErrorCode, SwarmError } from '@swarm/contracts';
import fc from 'fast-check';
import { createAuditor } from './ledger-audit';
import type { Account, Escrow, Transfer } from './ledger-records';
import type { Change, EscrowLifetime } from './ledger-rules';
import { genesisRule, isDue, refundRule, reserveRule, settleRule, validateSettle } from './ledger-rules';
import { defundAgentRule, fundAgentRule } from './transfer-rules';
import { chargeRule } from './charge-rule';

/**
 * A ledger held in maps: the same records the LevelDB adapter stores, minus the I/O, plus the
 * clock its operations read.
 */
interface Model {
  accounts: Map<string, Account>;
  escrows: Map<string, Escrow>;
  transfers: Map<string, Transfer>;
  log: LedgerEntry[];
  nextSeq: bigint;
  genesis: bigint;
  now: number;
}

type Command =
  /** `expiresIn` ms from now; 0 asks for the default lifetime. */
  | { op: 'reserve'; escrowId: string; account: string; amount: bigint; expiresIn: number; payees: string[] }
  | { op: 'settle'; escrowId: string; payee: string; amount: bigint }
  | { op: 'refund'; escrowId: string }
  /** Reserve and settle at once (charge-rule.ts); refused once the clock is past `notAfterIn` ms from now. */
  | { op: 'charge'; escrowId: string; account: string; payee: string; amount: bigint; extra: bigint; notAfterIn: number }
  /** Node -> agent account, and all of an agent's available credit back. */
  | { op: 'fund'; transferId: string; agentAccount: string; amount: bigint }
  | { op: 'defund'; transferId: string; agentAccount: string; close: boolean }
  /** The clock moves `advance` ms, then expireDue(now, limit) runs. */
  | { op: 'expire'; advance: number; limit: number };

const GRANT = 100n;
const escrowIds = fc.constantFrom('e0', 'e1', 'e2', 'e3', 'e4', '', 'bad id');
/** Payees are node ids; agents only pay (an agent named as a payee is refused). */
const payeeIds = fc.constantFrom('node', 'peer-a', 'peer-b', 'ghost', 'agent/a');
const accountIds = fc.constantFrom('node', 'peer-a', 'peer-b', 'ghost', 'agent/a', 'agent/b');
const transferIds = fc.constantFrom('t0', 't1', 't2', '');
const amounts = fc.bigInt({ min: 0n, max: 60n });
const LIFETIME: EscrowLifetime = { defaultMs: 50, maxMs: 100 };
const START_MS = 1_000;
// Reaches past both ends of the valid range (not after now; beyond the maximum lifetime).
const expiresIn = fc.integer({ min: -10, max: LIFETIME.maxMs + 10 });
const command: fc.Arbitrary<Command> = fc.oneof(
  // Payees: none (refused), some, or all; a settle to anyone else must be refused.
  fc.record({ op: fc.constant('reserve' as const), escrowId: escrowIds, account: accountIds, amount: amounts, expiresIn, payees: fc.uniqueArray(payeeIds, { maxLength: 3 }) }),
  fc.record({ op: fc.constant('settle' as const), escrowId: escrowIds, payee: payeeIds, amount: amounts }),
  // Agent accounts and others (a peer, the node itself): only node <-> agent may move.
  fc.record({ op: fc.constant('fund' as const), transferId: transferIds, agentAccount: accountIds, amount: amounts }),
  fc.record({ op: fc.constant('defund' as const), transferId: transferIds, agentAccount: accountIds, close: fc.boolean() }),
  fc.record({ op: fc.constant('refund' as const), escrowId: escrowIds }),
  fc.record({ op: fc.constant('expire' as const), advance: fc.integer({ min: 0, max: 80 }), limit: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    op: fc.constant('charge' as const),
    escrowId: escrowIds,
    account: accountIds,
    payee: payeeIds,
    amount: amounts,
    extra: fc.bigInt({ min: -1n, max: 10n }),
    notAfterIn: fc.integer({ min: -5, max: 60 }),
  }),
);

const agents = fc.constantFrom('agent/a', 'agent/b');
const validEscrowIds = fc.constantFrom('e0', 'e1', 'e2', 'e3');
/**
 * Agents' lives, mostly well-formed: funded, reserving for their tasks, closed while some escrows
 * are open, then those escrows settled, refunded or expired. The general commands mix in.
 */
const agentCommand: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('fund' as const), transferId: fc.constantFrom('t0', 't1'), agentAccount: agents, amount: fc.bigInt({ min: 1n, max: 40n }) }),
  fc.record({
    op: fc.constant('reserve' as const),
    escrowId: validEscrowIds,
    account: agents,
    amount: fc.bigInt({ min: 1n, max: 20n }),
    expiresIn: fc.constant(0),
    payees: fc.constantFrom<string[]>(['node'], ['peer-a'], ['peer-a', 'node']),
  }),
  fc.record({ op: fc.constant('defund' as const), transferId: fc.constantFrom('d0', 'd1'), agentAccount: agents, close: fc.boolean() }),
  fc.record({ op: fc.constant('settle' as const), escrowId: validEscrowIds, payee: fc.constantFrom('node', 'peer-a'), amount: fc.bigInt({ min: 1n, max: 20n }) }),
  fc.record({ op: fc.constant('refund' as const), escrowId: validEscrowIds }),
  fc.record({ op: fc.constant('expire' as const), advance: fc.integer({ min: 0, max: 80 }), limit: fc.integer({ min: 1, max: 3 }) }),
  command,
);

/** Codes a well-formed-but-refused operation may produce; anything else is a bug. */
const REFUSALS = new Set([
  ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
  ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT,
  ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
  ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND,
  ErrorCode.ERROR_CODE_ESCROW_CLOSED,
  ErrorCode.ERROR_CODE_ESCROW_CONFLICT,
  // A closed account's reserve or fund.
  ErrorCode.ERROR_CODE_PERMISSION_DENIED,
  // A charge read after its not-after time.
  ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
]);

function newModel(): Model {
  const m: Model = { accounts: new Map(), escrows: new Map(), transfers: new Map(), log: [], nextSeq: 1n, genesis: GRANT, now: START_MS };
  commit(m, genesisRule('node', GRANT, undefined, { nextSeq: 1n, atMs: START_MS }));
  return m;
}

function commit<R>(m: Model, c: Change<R>): R {
  // Frozen, so a rule that mutated a record it was given would throw here in strict mode.
  for (const a of c.accounts) m.accounts.set(a.id, Object.freeze({ ...a }));
  for (const e of c.escrows) m.escrows.set(e.id, Object.freeze({ ...e }));
  for (const t of c.transfers ?? []) m.transfers.set(t.id, Object.freeze({ ...t }));
  c.entries.forEach((e, i) => expect(e.seq).toBe(m.nextSeq + BigInt(i)));
  m.log.push(...c.entries);
  m.nextSeq += BigInt(c.entries.length);
  return c.result;
}

type Operation = Exclude<Command, { op: 'expire' }>;

/** The payer of `escrow` and, when it is closed, the node's account its refunds go to (as create-ledger.ts reads them). */
function payerRecords(m: Model, escrow: Escrow | undefined) {
  const payer = escrow && m.accounts.get(escrow.payer);
  return { payer, node: payer?.closed ? { id: 'node', account: m.accounts.get('node') } : undefined };
}

function plan(m: Model, cmd: Operation): Change<unknown> {
  const at = { nextSeq: m.nextSeq, atMs: m.now };
  if (cmd.op === 'fund' || cmd.op === 'defund') {
    const records = { transfer: m.transfers.get(cmd.transferId), node: m.accounts.get('node'), agent: m.accounts.get(cmd.agentAccount) };
    return cmd.op === 'fund' ? fundAgentRule(cmd, 'node', records, at) : defundAgentRule(cmd, 'node', records, at);
  }
  const escrow = m.escrows.get(cmd.escrowId);
  switch (cmd.op) {
    case 'reserve': {
      const expiresAtMs = cmd.expiresIn === 0 ? 0n : BigInt(m.now + cmd.expiresIn);
      return reserveRule({ ...cmd, expiresAtMs }, { escrow, payer: m.accounts.get(cmd.account) }, at, LIFETIME);
    }
    case 'settle':
      return settleRule({ ...cmd, payouts: [] }, { escrow, ...payerRecords(m, escrow), payees: new Map([[cmd.payee, m.accounts.get(cmd.payee)]]) }, at);
    case 'refund':
      return refundRule(cmd, { escrow, ...payerRecords(m, escrow) }, at);
    case 'charge': {
      const amount = cmd.amount + cmd.extra;
      const req = {
        escrowId: cmd.escrowId,
        account: cmd.account,
        amount: amount < 0n ? 0n : amount,
        payouts: [{ payee: cmd.payee, amount: cmd.amount }],
        notAfterMs: BigInt(m.now + cmd.notAfterIn),
      };
      return chargeRule(req, { escrow, payer: m.accounts.get(cmd.account), payees: new Map([[cmd.payee, m.accounts.get(cmd.payee)]]) }, at, LIFETIME);
    }
  }
}

type Outcome = { ok: true; result: unknown; entries: number } | { ok: false; code: ErrorCode };

function wellFormed(cmd: Extract<Command, { op: 'settle' }>): boolean {
  try {
    validateSettle({ ...cmd, payouts: [] });
    return true;
  } catch {
    return false;
  }
}

/**
 * What the LevelDB adapter's expireDue does, minus the index: the due escrows in index order
 * (expiry, then id), at most `limit`, each refunded by refundRule as its own change.
 */
function expireDue(m: Model, limit: number): Outcome {
  const due = [...m.escrows.values()]
    .filter((e) => isDue(e, m.now))
    .sort((a, b) => (a.expiresAtMs as number) - (b.expiresAtMs as number) || (a.id < b.id ? -1 : 1))
    .slice(0, limit);
  const result: unknown[] = [];
  let entries = 0;
  for (const escrow of due) {
    const change = refundRule({ escrowId: escrow.id }, { escrow, ...payerRecords(m, escrow) }, { nextSeq: m.nextSeq, atMs: m.now });
    entries += change.entries.length;
    result.push(commit(m, change));
  }
  return { ok: true, result, entries };
}

/** Runs `cmd` once; an expire first moves the clock (a retry of it, via run(), does not). */
function step(m: Model, cmd: Command): Outcome {
  if (cmd.op === 'expire') m.now += cmd.advance;
  return run(m, cmd);
}

function run(m: Model, cmd: Command): Outcome {
  if (cmd.op === 'expire') return expireDue(m, cmd.limit);
  let change: Change<unknown>;
  try {
    change = plan(m, cmd);
  } catch (err) {
    if (!(err instanceof SwarmError) || !REFUSALS.has(err.code)) throw err;
    return { ok: false, code: err.code };
  }
  return { ok: true, result: commit(m, change), entries: change.entries.length };
}

function checkInvariants(m: Model): void {
  let total = 0n;
  const openByPayer = new Map<string, bigint>();
  for (const e of m.escrows.values()) if (e.state === 'open') openByPayer.set(e.payer, (openByPayer.get(e.payer) ?? 0n) + e.amount);
  for (const a of m.accounts.values()) {
    expect(a.available).toBeGreaterThanOrEqual(0n);
    expect(a.escrowed).toBe(openByPayer.get(a.id) ?? 0n);
    // The counters are exactly what the log says.
    const from = m.log.filter((e) => e.fromAccount === a.id);
    expect(a.reserves).toBe(BigInt(from.filter((e) => e.kind === EntryKind.ENTRY_KIND_RESERVE).length));
    expect(a.spent).toBe(from.filter((e) => e.kind === EntryKind.ENTRY_KIND_SETTLE).reduce((n, e) => n + e.amount, 0n));
    total += a.available + a.escrowed;
  }
  expect(total).toBe(m.genesis);
}

/** Available credit of every closed account, to compare after a step. */
function closedAvailable(m: Model): Map<string, bigint> {
  return new Map([...m.accounts.values()].filter((a) => a.closed).map((a) => [a.id, a.available]));
}

function audit(m: Model) {
  const auditor = createAuditor();
  m.log.forEach((e) => auditor.replay(e));
  m.accounts.forEach((a) => auditor.checkAccount(a));
  m.escrows.forEach((e) => auditor.checkEscrow(e));
  m.transfers.forEach((t) => auditor.checkTransfer(t));
  // The index the adapter would hold: exactly the open escrows with an expiry.
  m.escrows.forEach((e) => e.state === 'open' && e.expiresAtMs !== undefined && auditor.checkExpiry(e.id, e.expiresAtMs));
  return auditor.finish(m.nextSeq);
}

describe('ledger rules - properties over random operation sequences', () => {
  it('never break conservation or non-negativity, and a retry changes nothing, with expiries at random clock times', () => {
    let charged = 0;
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (cmds) => {
        const m = newModel();
        const expired = new Set<string>();
        for (const cmd of cmds) {
          const first = step(m, cmd);
          checkInvariants(m);
          if (cmd.op === 'expire') {
            const refunded = (first.ok ? first.result : []) as RefundResponse[];
            refunded.forEach((r) => expired.add(r.escrowId));
            // A sweep that was not cut short by its limit leaves nothing due behind.
            if (refunded.length < cmd.limit) {
              expect([...m.escrows.values()].filter((e) => isDue(e, m.now))).toEqual([]);
              expect(run(m, cmd)).toEqual({ ok: true, result: [], entries: 0 });
            }
            continue;
          }
          // A settle the request check accepts (a malformed one, such as an amount of 0 or a payee
          // no account id can be, is refused as INVALID_ARGUMENT before the escrow is looked at).
          if (cmd.op === 'settle' && expired.has(cmd.escrowId) && wellFormed(cmd)) {
            expect(first).toEqual({ ok: false, code: ErrorCode.ERROR_CODE_ESCROW_CLOSED });
          }
          if (cmd.op === 'charge' && first.ok && first.entries > 0) charged += 1;
          // A caller that lost the reply sends the same request again: same answer, no new entries.
          const again = run(m, cmd);
          if (first.ok) expect(again).toEqual({ ok: true, result: first.result, entries: 0 });
          else expect(again).toEqual(first);
        }
        // Every escrow that was ever open got an expiry after the moment it was reserved, so none can
        // be stranded; a charge's was born settled and needs none.
        for (const e of m.escrows.values()) {
          if (e.expiresAtMs === undefined) expect(e.state).toBe('settled');
          else expect(e.expiresAtMs).toBeGreaterThan(START_MS);
        }
        expect(audit(m)).toMatchObject({ ok: true, problems: [] });
      }),
      { numRuns: 300 },
    );
    // Not vacuous: charges did commit.
    expect(charged).toBeGreaterThan(0);
  });

  it('move credit between the node and agents only, each transfer id at most once, and never credit an agent otherwise', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (cmds) => {
        const m = newModel();
        const outcomes = cmds.map((cmd) => ({ cmd, out: step(m, cmd) }));
        checkInvariants(m);
        const transfers = m.log.filter((e) => e.kind === EntryKind.ENTRY_KIND_TRANSFER);
        expect(new Set(transfers.map((e) => e.escrowId)).size).toBe(transfers.length);
        for (const e of transfers) expect([e.fromAccount, e.toAccount].sort()).toEqual(['node', e.fromAccount === 'node' ? e.toAccount : e.fromAccount].sort());
        for (const e of m.log) if (e.kind === EntryKind.ENTRY_KIND_SETTLE) expect(e.toAccount.startsWith('agent/')).toBe(false);
        // An agent holds exactly what was funded, less what came back and what its settles paid.
        for (const id of ['agent/a', 'agent/b']) {
          const sum = (kind: EntryKind, pick: (e: LedgerEntry) => boolean) => m.log.filter((e) => e.kind === kind && pick(e)).reduce((n, e) => n + e.amount, 0n);
          // Refunds of a closed account's escrows went to the node: they left it too.
          const held =
            sum(EntryKind.ENTRY_KIND_TRANSFER, (e) => e.toAccount === id) -
            sum(EntryKind.ENTRY_KIND_TRANSFER, (e) => e.fromAccount === id) -
            sum(EntryKind.ENTRY_KIND_SETTLE, (e) => e.fromAccount === id) -
            sum(EntryKind.ENTRY_KIND_REFUND, (e) => e.fromAccount === id && e.toAccount !== id);
          const a = m.accounts.get(id);
          expect((a?.available ?? 0n) + (a?.escrowed ?? 0n)).toBe(held);
        }
        for (const { cmd, out } of outcomes) {
          if (cmd.op === 'fund' && cmd.agentAccount.startsWith('agent/') === false && cmd.transferId !== '')
            expect(out).toEqual({ ok: false, code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
        }
        expect(audit(m)).toMatchObject({ ok: true, problems: [] });
      }),
      { numRuns: 300 },
    );
  });

  it('never credit a closed account: it reserves and is funded no more, and what its escrows return goes to the node', () => {
    let refundsToNode = 0;
    fc.assert(
      fc.property(fc.array(agentCommand, { minLength: 20, maxLength: 60 }), (cmds) => {
        const m = newModel();
        for (const cmd of cmds) {
          const closed = closedAvailable(m);
          const from = m.nextSeq;
          const out = step(m, cmd);
          for (const [id, available] of closed) {
            const a = m.accounts.get(id) as Account;
            expect(a.closed).toBe(true);
            // Only a defund takes from it; nothing adds to it.
            expect(a.available).toBeLessThanOrEqual(available);
          }
          for (const e of m.log.filter((x) => x.seq >= from)) {
            expect(closed.has(e.toAccount)).toBe(false);
            if (!closed.has(e.fromAccount)) continue;
            expect(e.kind).not.toBe(EntryKind.ENTRY_KIND_RESERVE);
            if (e.kind === EntryKind.ENTRY_KIND_REFUND) {
              expect(e.toAccount).toBe('node');
              refundsToNode += 1;
            }
          }
          if ((cmd.op === 'reserve' || cmd.op === 'fund') && closed.has(cmd.op === 'reserve' ? cmd.account : cmd.agentAccount) && out.ok) expect(out.entries).toBe(0);
        }
        checkInvariants(m);
        expect(audit(m)).toMatchObject({ ok: true, problems: [] });
      }),
      { numRuns: 300 },
    );
    // Not vacuous: the random runs did refund closed accounts' escrows.
    expect(refundsToNode).toBeGreaterThan(0);
  });

  it('close each escrow at most once: one SETTLE (with its remainder REFUND) or one REFUND', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (cmds) => {
        const m = newModel();
        cmds.forEach((cmd) => step(m, cmd));
        const byEscrow = new Map<string, LedgerEntry[]>();
        // A TRANSFER's escrow_id is its transfer id, not an escrow.
        for (const e of m.log) if (e.escrowId && e.kind !== EntryKind.ENTRY_KIND_TRANSFER) byEscrow.set(e.escrowId, [...(byEscrow.get(e.escrowId) ?? []), e]);
        for (const [id, entries] of byEscrow) {
          const kinds = entries.map((e) => e.kind);
          expect(kinds[0]).toBe(EntryKind.ENTRY_KIND_RESERVE);
          const closes = kinds.slice(1);
          expect([[], [EntryKind.ENTRY_KIND_REFUND], [EntryKind.ENTRY_KIND_SETTLE], [EntryKind.ENTRY_KIND_SETTLE, EntryKind.ENTRY_KIND_REFUND]]).toContainEqual(closes);
          if (closes.length === 2) expect(entries[2].seq).toBe(entries[1].seq + 1n);
          const state = (m.escrows.get(id) as Escrow).state;
          expect(state).toBe(closes.length === 0 ? 'open' : closes[0] === EntryKind.ENTRY_KIND_SETTLE ? 'settled' : 'refunded');
        }
      }),
      { numRuns: 300 },
    );
  });
});

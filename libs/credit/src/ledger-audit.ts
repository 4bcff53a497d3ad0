/**
 * Audit, pure and streaming: replay the log from seq 1 into derived balances and escrows, then
 * compare them with the stored records. The log is the evidence; stored records are a cache of
 * it that each operation writes in the same atomic batch, so any difference is a bug or damage.
 * The expiry index is checked against the stored escrows (the log does not carry expiries): it
 * must list exactly the open escrows that have an expiry, each once, at that expiry.
 *
 * A settle is one SETTLE entry per payout, consecutive, then the REFUND of any remainder; since an
 * escrow closes once, consecutive SETTLEs of one escrow can only be one settle's payouts.
 * A TRANSFER moves available credit between an account that received GENESIS (the node's) and an
 * agent's account, once per transfer id; no SETTLE may pay an agent account (agent-accounts.ts).
 *
 * Counters: an account's `reserves` is the number of its RESERVE entries, its `spent` the sum of
 * its SETTLE entries. Closed accounts: audit-closes.ts.
 */
import type { LedgerEntry, Payout } from '@swarm/contracts';
import { EntryKind } from '@swarm/contracts';
import { isAgentAccount } from './agent-accounts';
import type { Account, Escrow, Transfer } from './ledger-records';
import { createCloseAudit } from './audit-closes';
import { MAX_UINT64, paidOut, settledEscrow } from './ledger-records';

/** Enough to diagnose; a damaged ledger could otherwise produce one problem per record. */
export const MAX_AUDIT_PROBLEMS = 100;
/** Accounts a report lists with their stored and replayed balances; the totals cover them all. */
export const MAX_AUDIT_ACCOUNTS = 50;

export interface AuditTotals {
  /** Sum of GENESIS entries: all credit this node was granted. */
  readonly genesis: bigint;
  /** Sum of RECEIPT_IN entries: credit other nodes paid this node by receipts. */
  readonly received: bigint;
  /** Sums over the stored accounts. */
  readonly available: bigint;
  readonly escrowed: bigint;
  readonly accounts: number;
  readonly escrows: number;
  readonly openEscrows: number;
  /** Stored transfer records (those that moved nothing included). */
  readonly transfers: number;
  readonly lastSeq: bigint;
}

/** One stored account beside what the log gives it (0/0 when the log never mentions it). */
export interface AuditedAccount {
  readonly id: string;
  readonly storedAvailable: bigint;
  readonly storedEscrowed: bigint;
  /** Replayed from the log; negative only in a log that overdraws (a problem says where). */
  readonly replayedAvailable: bigint;
  readonly replayedEscrowed: bigint;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly totals: AuditTotals;
  /**
   * Stored accounts whose balances differ from the log first, then the others in store order;
   * at most MAX_AUDIT_ACCOUNTS (`totals.accounts` counts them all).
   */
  readonly accounts: readonly AuditedAccount[];
}

export interface Auditor {
  /** Feed every log entry, in seq order. */
  replay(entry: LedgerEntry): void;
  /** Then every stored account and escrow, in any order. */
  checkAccount(stored: Account): void;
  checkEscrow(stored: Escrow): void;
  checkTransfer(stored: Transfer): void;
  /** Then every key of the expiry index, in any order. */
  checkExpiry(escrowId: string, expiresAtMs: number): void;
  /** `nextSeq` as stored in the ledger's metadata. */
  finish(nextSeq: bigint): AuditReport;
}

interface DerivedAccount {
  available: bigint;
  escrowed: bigint;
  spent: bigint;
  reserves: bigint;
}

export function createAuditor(): Auditor {
  const problems: string[] = [];
  let dropped = 0;
  const problem = (p: string) => {
    if (problems.length < MAX_AUDIT_PROBLEMS) problems.push(p);
    else dropped += 1;
  };

  const accounts = new Map<string, DerivedAccount>();
  const escrows = new Map<string, Escrow>();
  const transfers = new Map<string, Transfer>();
  /** Accounts that received GENESIS: the node's (one per ledger in practice). */
  const granted = new Set<string>();
  let expectedSeq = 1n;
  let genesis = 0n;
  let received = 0n;
  /** Receipt ids of RECEIPT_IN entries: each is credited once. */
  const receiptsIn = new Set<string>();
  /** Receipt ids of VOID entries, with the account each took credit back from and how much: each is taken back once. */
  const voided = new Map<string, { readonly from: string; readonly amount: bigint }>();
  /** Receipt ids of REINSTATE entries: each voided receipt is paid after all at most once. */
  const reinstated = new Set<string>();
  // The settle being replayed while it still leaves a remainder: its next entry is another payout
  // (SETTLE) or the REFUND of what is left.
  let settling: { escrow: Escrow; payouts: Payout[]; rest: bigint; seq: bigint } | undefined;

  const closes = createCloseAudit(granted, problem);
  const account = (id: string): DerivedAccount => {
    let a = accounts.get(id);
    if (!a) accounts.set(id, (a = { available: 0n, escrowed: 0n, spent: 0n, reserves: 0n }));
    return a;
  };
  const debit = (seq: bigint, id: string, field: 'available' | 'escrowed', amount: bigint) => {
    const a = accounts.get(id);
    if (!a) return problem(`seq ${seq}: debits ${id}, which was never credited`);
    if (a[field] < amount) problem(`seq ${seq}: ${id} ${field} would go negative (${a[field]} - ${amount})`);
    a[field] -= amount;
  };

  function replay(e: LedgerEntry): void {
    const seq = e.seq;
    if (seq !== expectedSeq) problem(`seq ${seq}: expected seq ${expectedSeq}`);
    expectedSeq = seq + 1n;
    if (e.amount <= 0n || e.amount > MAX_UINT64) problem(`seq ${seq}: amount ${e.amount} out of range`);
    const continuesSettle = e.kind === EntryKind.ENTRY_KIND_SETTLE || e.kind === EntryKind.ENTRY_KIND_REFUND;
    if (settling && !(continuesSettle && e.escrowId === settling.escrow.id)) {
      problem(`seq ${settling.seq}: settle of ${settling.escrow.id} left ${settling.rest} escrowed`);
      settling = undefined;
    }
    switch (e.kind) {
      case EntryKind.ENTRY_KIND_GENESIS:
        genesis += e.amount;
        granted.add(e.toAccount);
        account(e.toAccount).available += e.amount;
        return;
      case EntryKind.ENTRY_KIND_RESERVE:
        if (escrows.has(e.escrowId)) return problem(`seq ${seq}: escrow ${e.escrowId} reserved twice`);
        debit(seq, e.fromAccount, 'available', e.amount);
        account(e.fromAccount).escrowed += e.amount;
        account(e.fromAccount).reserves += 1n;
        closes.reserved(seq, e.fromAccount);
        escrows.set(e.escrowId, { id: e.escrowId, payer: e.fromAccount, amount: e.amount, state: 'open' });
        return;
      case EntryKind.ENTRY_KIND_SETTLE:
        return replaySettle(e);
      case EntryKind.ENTRY_KIND_REFUND:
        return replayRefund(e);
      case EntryKind.ENTRY_KIND_TRANSFER:
        return replayTransfer(e);
      case EntryKind.ENTRY_KIND_RECEIPT_IN:
        if (isAgentAccount(e.toAccount)) problem(`seq ${seq}: receipt ${e.escrowId} credits agent account ${e.toAccount}; receipts pay nodes`);
        if (receiptsIn.has(e.escrowId)) problem(`seq ${seq}: receipt ${e.escrowId} credited twice`);
        receiptsIn.add(e.escrowId);
        received += e.amount;
        account(e.toAccount).available += e.amount;
        return;
      case EntryKind.ENTRY_KIND_VOID:
        return replayVoid(e);
      case EntryKind.ENTRY_KIND_REINSTATE:
        return replayReinstate(e);
      // Listed so that a new kind in the proto fails lint here instead of landing in `default`.
      case EntryKind.ENTRY_KIND_UNSPECIFIED:
      case EntryKind.UNRECOGNIZED:
      default:
        problem(`seq ${seq}: unknown entry kind ${e.kind}`);
    }
  }

  function replaySettle(e: LedgerEntry): void {
    if (settling) return replayPayout(e, settling);
    const escrow = openEscrowFor(e);
    if (!escrow) return;
    if (e.amount > escrow.amount) return problem(`seq ${e.seq}: settles ${e.amount} from escrow ${escrow.id} of ${escrow.amount}`);
    settling = { escrow, payouts: [], rest: escrow.amount, seq: e.seq };
    replayPayout(e, settling);
  }

  /** One payout of the settle being replayed. */
  function replayPayout(e: LedgerEntry, s: NonNullable<typeof settling>): void {
    const { escrow } = s;
    // The first payout's payer was checked when the escrow was found open.
    if (s.payouts.length > 0 && e.fromAccount !== escrow.payer) problem(`seq ${e.seq}: escrow ${escrow.id} belongs to ${escrow.payer}, entry says ${e.fromAccount}`);
    if (e.amount > s.rest) return problem(`seq ${e.seq}: settles ${e.amount} from escrow ${escrow.id} with ${s.rest} left`);
    if (s.payouts.some((p) => p.payee === e.toAccount)) problem(`seq ${e.seq}: settle of ${escrow.id} pays ${e.toAccount} twice`);
    if (isAgentAccount(e.toAccount)) problem(`seq ${e.seq}: settle of ${escrow.id} pays agent account ${e.toAccount}; agents are credited only by transfers`);
    debit(e.seq, escrow.payer, 'escrowed', e.amount);
    account(escrow.payer).spent += e.amount;
    account(e.toAccount).available += e.amount;
    s.payouts.push({ payee: e.toAccount, amount: e.amount });
    s.rest -= e.amount;
    escrows.set(escrow.id, settledEscrow(escrow, s.payouts, 0n));
    if (s.rest === 0n) settling = undefined;
  }

  function replayRefund(e: LedgerEntry): void {
    if (settling) {
      const { escrow, payouts, rest } = settling;
      settling = undefined;
      if (e.amount !== rest) problem(`seq ${e.seq}: refunds ${e.amount} of the ${rest} left in settled escrow ${escrow.id}`);
      returnTo(e, escrow);
      escrows.set(escrow.id, settledEscrow(escrow, payouts, e.amount));
      return;
    }
    const escrow = openEscrowFor(e);
    if (!escrow) return;
    if (e.amount !== escrow.amount) problem(`seq ${e.seq}: refunds ${e.amount} of escrow ${escrow.id} holding ${escrow.amount}`);
    returnTo(e, escrow);
    escrows.set(escrow.id, { ...escrow, state: 'refunded', refunded: e.amount });
  }

  /** A refund credits its payer, or the node's account once the payer is closed (audit-closes.ts). */
  function returnTo(e: LedgerEntry, escrow: Escrow): void {
    debit(e.seq, escrow.payer, 'escrowed', e.amount);
    account(e.toAccount).available += e.amount;
    closes.refunded(e.seq, escrow.payer, e.toAccount);
  }

  /** Credit paid to another node's account here, taken back to the node's when that node voided its receipt. */
  function replayVoid(e: LedgerEntry): void {
    if (voided.has(e.escrowId)) problem(`seq ${e.seq}: receipt ${e.escrowId} voided twice`);
    voided.set(e.escrowId, { from: e.fromAccount, amount: e.amount });
    if (isAgentAccount(e.fromAccount) || !granted.has(e.toAccount)) {
      problem(`seq ${e.seq}: void of receipt ${e.escrowId} moves credit from ${e.fromAccount} to ${e.toAccount}; a void returns a payee node's credit to the node's account`);
    }
    debit(e.seq, e.fromAccount, 'available', e.amount);
    account(e.toAccount).available += e.amount;
  }

  /** A voided receipt paid after all (its payee kept it): credit from the node's account back to the payee's its VOID took it from. */
  function replayReinstate(e: LedgerEntry): void {
    const voidOf = voided.get(e.escrowId);
    if (voidOf === undefined) problem(`seq ${e.seq}: reinstates receipt ${e.escrowId}, which was never voided`);
    else if (e.toAccount !== voidOf.from || !granted.has(e.fromAccount)) {
      problem(`seq ${e.seq}: reinstating receipt ${e.escrowId} moves credit from ${e.fromAccount} to ${e.toAccount}; it returns the node's credit to ${voidOf.from}`);
    } else if (e.amount !== voidOf.amount) problem(`seq ${e.seq}: reinstating receipt ${e.escrowId} moves ${e.amount}; its void took back ${voidOf.amount}`);
    if (reinstated.has(e.escrowId)) problem(`seq ${e.seq}: receipt ${e.escrowId} reinstated twice`);
    reinstated.add(e.escrowId);
    debit(e.seq, e.fromAccount, 'available', e.amount);
    account(e.toAccount).available += e.amount;
  }

  function replayTransfer(e: LedgerEntry): void {
    if (transfers.has(e.escrowId)) return problem(`seq ${e.seq}: transfer ${e.escrowId} logged twice`);
    const fromAgent = isAgentAccount(e.fromAccount);
    const nodeSide = fromAgent ? e.toAccount : e.fromAccount;
    if (fromAgent === isAgentAccount(e.toAccount) || !granted.has(nodeSide)) {
      problem(`seq ${e.seq}: transfer ${e.escrowId} moves credit from ${e.fromAccount} to ${e.toAccount}; transfers are only between the node's account and an agent's`);
    }
    debit(e.seq, e.fromAccount, 'available', e.amount);
    account(e.toAccount).available += e.amount;
    transfers.set(e.escrowId, { id: e.escrowId, from: e.fromAccount, to: e.toAccount, amount: e.amount });
  }

  function openEscrowFor(e: LedgerEntry): Escrow | undefined {
    const escrow = escrows.get(e.escrowId);
    if (!escrow) return void problem(`seq ${e.seq}: escrow ${e.escrowId} was never reserved`);
    if (escrow.state !== 'open') return void problem(`seq ${e.seq}: escrow ${e.escrowId} closed again (already ${escrow.state})`);
    if (e.fromAccount !== escrow.payer) problem(`seq ${e.seq}: escrow ${e.escrowId} belongs to ${escrow.payer}, entry says ${e.fromAccount}`);
    return escrow;
  }

  const seenAccounts = new Set<string>();
  const seenEscrows = new Set<string>();
  const seenTransfers = new Set<string>();
  const stored = { available: 0n, escrowed: 0n, accounts: 0, escrows: 0, openEscrows: 0, transfers: 0 };
  const openByPayer = new Map<string, bigint>();
  const escrowedByAccount = new Map<string, bigint>();
  /** Open escrows with an expiry, as stored, and what the expiry index lists. */
  const expiring = new Map<string, number>();
  const indexed = new Map<string, number[]>();
  const differing: AuditedAccount[] = [];
  const matching: AuditedAccount[] = [];

  return {
    replay,
    checkAccount(a) {
      seenAccounts.add(a.id);
      stored.accounts += 1;
      stored.available += a.available;
      stored.escrowed += a.escrowed;
      escrowedByAccount.set(a.id, a.escrowed);
      if (a.closed) closes.storedClosed(a.id);
      if (a.available < 0n || a.escrowed < 0n) problem(`account ${a.id} is negative`);
      const d = accounts.get(a.id);
      const sameCounters = d !== undefined && d.spent === a.spent && d.reserves === a.reserves;
      const same = d !== undefined && d.available === a.available && d.escrowed === a.escrowed && sameCounters;
      const listed = same ? matching : differing;
      if (listed.length < MAX_AUDIT_ACCOUNTS) {
        listed.push({ id: a.id, storedAvailable: a.available, storedEscrowed: a.escrowed, replayedAvailable: d?.available ?? 0n, replayedEscrowed: d?.escrowed ?? 0n });
      }
      if (!d) return problem(`account ${a.id} is stored but never appears in the log`);
      if (d.available !== a.available || d.escrowed !== a.escrowed) {
        problem(`account ${a.id} stores ${a.available}/${a.escrowed}, log gives ${d.available}/${d.escrowed} (available/escrowed)`);
      }
      if (!sameCounters) problem(`account ${a.id} stores ${a.spent}/${a.reserves}, log gives ${d.spent}/${d.reserves} (spent/reserves)`);
    },
    checkEscrow(s) {
      seenEscrows.add(s.id);
      stored.escrows += 1;
      if (s.state === 'open') {
        stored.openEscrows += 1;
        if (s.expiresAtMs !== undefined) expiring.set(s.id, s.expiresAtMs);
        openByPayer.set(s.payer, (openByPayer.get(s.payer) ?? 0n) + s.amount);
      } else if ((s.paid ?? 0n) + (s.refunded ?? 0n) !== s.amount) {
        problem(`escrow ${s.id} is ${s.state} but paid + refunded != ${s.amount}`);
      }
      if (s.state === 'settled' && s.payees !== undefined) {
        const payees = s.payees;
        const paid = paidOut(s);
        for (const p of paid) if (!payees.includes(p.payee)) problem(`escrow ${s.id} paid ${p.payee}, who is not among the payees it was reserved for`);
        if (paid.length === 0) problem(`escrow ${s.id} paid -, who is not among the payees it was reserved for`);
      }
      const d = escrows.get(s.id);
      if (!d) return problem(`escrow ${s.id} is stored but never reserved in the log`);
      if (!sameEscrow(d, s)) problem(`escrow ${s.id} stores ${describe(s)}, log gives ${describe(d)}`);
    },
    checkTransfer(t) {
      seenTransfers.add(t.id);
      stored.transfers += 1;
      closes.transfer(t);
      const logged = transfers.get(t.id);
      // A transfer that moved nothing has no entry: only its record keeps the id.
      if (t.amount === 0n) {
        if (logged) problem(`transfer ${t.id} stores 0 moved, log gives ${logged.amount} from ${logged.from} to ${logged.to}`);
        return;
      }
      if (!logged) return problem(`transfer ${t.id} is stored but never appears in the log`);
      if (logged.from !== t.from || logged.to !== t.to || logged.amount !== t.amount) {
        problem(`transfer ${t.id} stores ${t.amount} from ${t.from} to ${t.to}, log gives ${logged.amount} from ${logged.from} to ${logged.to}`);
      }
    },
    checkExpiry(escrowId, expiresAtMs) {
      indexed.set(escrowId, [...(indexed.get(escrowId) ?? []), expiresAtMs]);
    },
    finish(nextSeq) {
      if (settling) problem(`seq ${settling.seq}: settle of ${settling.escrow.id} left ${settling.rest} escrowed`);
      const lastSeq = expectedSeq - 1n;
      if (nextSeq !== expectedSeq) problem(`stored next seq ${nextSeq} but the log ends at ${lastSeq}`);
      for (const id of accounts.keys()) if (!seenAccounts.has(id)) problem(`account ${id} appears in the log but is not stored`);
      for (const id of escrows.keys()) if (!seenEscrows.has(id)) problem(`escrow ${id} appears in the log but is not stored`);
      for (const id of transfers.keys()) if (!seenTransfers.has(id)) problem(`transfer ${id} appears in the log but is not stored`);
      for (const [id, escrowed] of escrowedByAccount) {
        const open = openByPayer.get(id) ?? 0n;
        if (open !== escrowed) problem(`account ${id} escrows ${escrowed} but its open escrows hold ${open}`);
      }
      for (const [id, at] of indexed) {
        const want = expiring.get(id);
        if (want === undefined) problem(`expiry index lists escrow ${id}, which is not open with an expiry`);
        else if (at.length !== 1 || at[0] !== want) problem(`expiry index lists escrow ${id} at ${at.join(', ')}, but it expires at ${want}`);
      }
      for (const [id, at] of expiring) if (!indexed.has(id)) problem(`open escrow ${id} expires at ${at} but is missing from the expiry index`);
      closes.finish(expectedSeq);
      if (stored.available + stored.escrowed !== genesis + received) {
        problem(`credit not conserved: accounts hold ${stored.available + stored.escrowed}, genesis granted ${genesis} and receipts paid in ${received}`);
      }
      if (dropped > 0) problems.push(`... and ${dropped} more problems`);
      const listed = [...differing, ...matching].slice(0, MAX_AUDIT_ACCOUNTS);
      return { ok: problems.length === 0, problems: [...problems], totals: { genesis, received, ...stored, lastSeq }, accounts: listed };
    },
  };
}

function sameEscrow(a: Escrow, b: Escrow): boolean {
  return (
    a.payer === b.payer &&
    a.amount === b.amount &&
    a.state === b.state &&
    samePaidOut(paidOut(a), paidOut(b)) &&
    (a.paid ?? 0n) === (b.paid ?? 0n) &&
    (a.refunded ?? 0n) === (b.refunded ?? 0n)
  );
}

function samePaidOut(a: readonly Payout[], b: readonly Payout[]): boolean {
  return a.length === b.length && a.every((p, i) => p.payee === b[i]?.payee && p.amount === b[i]?.amount);
}

function describe(e: Escrow): string {
  const to =
    paidOut(e)
      .map((p) => (paidOut(e).length > 1 ? `${p.payee} ${p.amount}` : p.payee))
      .join(', ') || '-';
  return `${e.state} ${e.amount} from ${e.payer}` + (e.state === 'open' ? '' : ` (paid ${e.paid ?? 0n} to ${to}, refunded ${e.refunded ?? 0n})`);
}

/**
 * How ledger records are stored: compact JSON with every bigint as a decimal string.
 *
 * Why JSON and not protobuf: accounts and escrows have no proto message (and the escrow's state
 * is this service's business, not a wire contract), one codec for every record keeps the store
 * simple, and the records stay readable with any LevelDB dump tool when a person audits a node
 * by hand. Why strings for bigint: JSON numbers lose precision above 2^53; uint64 does not fit.
 * Log entries use the same codec so the log reads the same way; `kind` is stored by name so a
 * renumbered enum can never silently change history.
 *
 * Log keys are the seq zero-padded to 20 digits (uint64's width), so key order is seq order.
 * Expiry index keys are the expiry zero-padded to 16 digits (Number.MAX_SAFE_INTEGER's width), '!',
 * then the escrow id, so key order is expiry order; ids never contain '!' (see validateId).
 * An escrow's `expiresAtMs` is a JSON number: ms since epoch are safe integers, unlike uint64.
 * A settle that paid several payees stores `payouts` as [{ payee, amount }] (amount a string);
 * one that paid one payee stores `payee` and `paid`, as every record did before.
 * A transfer (node <-> agent account) stores `from`, `to` and `amount`, keyed by its transfer id,
 * and `closedAtSeq` (a string) on the defund that closed the account.
 * An account stores `available`, `escrowed`, `spent` and `reserves` (format 2; a format-1 account
 * has only the first two, and decodes with zero counters for the ledger to derive), and
 * `closed: true` once closed (absent while open).
 */
import type { LedgerEntry, Payout } from '@swarm/contracts';
import { EntryKind } from '@swarm/contracts';
import type { Account, Escrow, EscrowState, Transfer } from '@swarm/credit';
import { MAX_UINT64 } from '@swarm/credit';

const SEQ_KEY_DIGITS = 20;
const EXPIRY_KEY_DIGITS = 16;
const EXPIRY_KEY = /^(\d{16})!(.+)$/;
const UINT = /^\d{1,20}$/;
const KIND_NAMES: ReadonlyMap<EntryKind, string> = new Map([
  [EntryKind.ENTRY_KIND_GENESIS, 'GENESIS'],
  [EntryKind.ENTRY_KIND_RESERVE, 'RESERVE'],
  [EntryKind.ENTRY_KIND_SETTLE, 'SETTLE'],
  [EntryKind.ENTRY_KIND_REFUND, 'REFUND'],
  [EntryKind.ENTRY_KIND_TRANSFER, 'TRANSFER'],
  // Format 3: credit another node paid by a receipt (docs/chain.md).
  [EntryKind.ENTRY_KIND_RECEIPT_IN, 'RECEIPT_IN'],
  // Still format 3: a build from before voids refuses a log holding one as corrupt rather than misreading it.
  [EntryKind.ENTRY_KIND_VOID, 'VOID'],
  [EntryKind.ENTRY_KIND_REINSTATE, 'REINSTATE'],
]);
const KINDS_BY_NAME: ReadonlyMap<string, EntryKind> = new Map([...KIND_NAMES].map(([k, v]) => [v, k]));
const ESCROW_STATES: ReadonlySet<string> = new Set<EscrowState>(['open', 'settled', 'refunded']);

export class CorruptRecordError extends Error {
  constructor(what: string, raw: string) {
    super(`corrupt ledger record (${what}): ${raw.slice(0, 200)}`);
    this.name = 'CorruptRecordError';
  }
}

export function seqKey(seq: bigint): string {
  return seq.toString().padStart(SEQ_KEY_DIGITS, '0');
}

/** Index key of an open escrow expiring at `expiresAtMs`. */
export function expiryKey(expiresAtMs: number, escrowId: string): string {
  return `${expiryKeyBound(expiresAtMs)}!${escrowId}`;
}

/** Sorts before every expiry key of `expiresAtMs` and after those of any earlier time. */
export function expiryKeyBound(expiresAtMs: number): string {
  return String(expiresAtMs).padStart(EXPIRY_KEY_DIGITS, '0');
}

export function decodeExpiryKey(key: string): { expiresAtMs: number; escrowId: string } {
  const m = EXPIRY_KEY.exec(key);
  const expiresAtMs = Number(m?.[1]);
  if (!m || !Number.isSafeInteger(expiresAtMs)) throw new CorruptRecordError('expiry key', key);
  return { expiresAtMs, escrowId: m[2] };
}

export function encodeAccount(a: Account): string {
  return JSON.stringify({
    available: a.available.toString(),
    escrowed: a.escrowed.toString(),
    spent: a.spent.toString(),
    reserves: a.reserves.toString(),
    ...(a.closed ? { closed: true } : {}),
  });
}

/** `legacy`: a format-1 record, written before the counters (they decode as 0, `closed` false). */
export function decodeAccount(id: string, raw: string, legacy = false): Account {
  const o = parse('account', raw);
  const closed = o['closed'];
  if (closed !== undefined && closed !== true) throw new CorruptRecordError('closed', raw);
  return {
    id,
    available: uint(o, 'available', raw),
    escrowed: uint(o, 'escrowed', raw),
    spent: legacy ? 0n : uint(o, 'spent', raw),
    reserves: legacy ? 0n : uint(o, 'reserves', raw),
    closed: closed === true,
  };
}

export function encodeEscrow(e: Escrow): string {
  return JSON.stringify({
    payer: e.payer,
    amount: e.amount.toString(),
    state: e.state,
    ...(e.payee !== undefined ? { payee: e.payee } : {}),
    ...(e.paid !== undefined ? { paid: e.paid.toString() } : {}),
    ...(e.refunded !== undefined ? { refunded: e.refunded.toString() } : {}),
    ...(e.expiresAtMs !== undefined ? { expiresAtMs: e.expiresAtMs } : {}),
    ...(e.payees !== undefined ? { payees: e.payees } : {}),
    ...(e.payouts !== undefined ? { payouts: e.payouts.map((p) => ({ payee: p.payee, amount: p.amount.toString() })) } : {}),
  });
}

export function decodeEscrow(id: string, raw: string): Escrow {
  const o = parse('escrow', raw);
  const state = o['state'];
  if (typeof state !== 'string' || !ESCROW_STATES.has(state)) throw new CorruptRecordError('escrow state', raw);
  return {
    id,
    payer: str(o, 'payer', raw),
    amount: uint(o, 'amount', raw),
    state: state as EscrowState,
    ...(o['payee'] !== undefined ? { payee: str(o, 'payee', raw) } : {}),
    ...(o['paid'] !== undefined ? { paid: uint(o, 'paid', raw) } : {}),
    ...(o['refunded'] !== undefined ? { refunded: uint(o, 'refunded', raw) } : {}),
    // Absent on escrows reserved before expiry existed: they never expire.
    ...(o['expiresAtMs'] !== undefined ? { expiresAtMs: safeUint(o, 'expiresAtMs', raw) } : {}),
    ...(o['payees'] !== undefined ? { payees: strings(o, 'payees', raw) } : {}),
    // Absent on settles that paid one payee, and on every escrow from before multi-payee settles.
    ...(o['payouts'] !== undefined ? { payouts: payouts(o, raw) } : {}),
  };
}

export function encodeTransfer(t: Transfer): string {
  return JSON.stringify({ from: t.from, to: t.to, amount: t.amount.toString(), ...(t.closedAtSeq !== undefined ? { closedAtSeq: t.closedAtSeq.toString() } : {}) });
}

export function decodeTransfer(id: string, raw: string): Transfer {
  const o = parse('transfer', raw);
  return {
    id,
    from: str(o, 'from', raw),
    to: str(o, 'to', raw),
    amount: uint(o, 'amount', raw),
    ...(o['closedAtSeq'] !== undefined ? { closedAtSeq: uint(o, 'closedAtSeq', raw) } : {}),
  };
}

export function encodeEntry(e: LedgerEntry): string {
  const kind = KIND_NAMES.get(e.kind);
  if (kind === undefined) throw new Error(`cannot store a ledger entry of kind ${e.kind}`);
  return JSON.stringify({
    seq: e.seq.toString(),
    kind,
    escrowId: e.escrowId,
    from: e.fromAccount,
    to: e.toAccount,
    amount: e.amount.toString(),
    atMs: e.atMs.toString(),
  });
}

export function decodeEntry(raw: string): LedgerEntry {
  const o = parse('entry', raw);
  const kind = KINDS_BY_NAME.get(str(o, 'kind', raw));
  if (kind === undefined) throw new CorruptRecordError('entry kind', raw);
  return {
    seq: uint(o, 'seq', raw),
    kind,
    escrowId: str(o, 'escrowId', raw),
    fromAccount: str(o, 'from', raw),
    toAccount: str(o, 'to', raw),
    amount: uint(o, 'amount', raw),
    atMs: uint(o, 'atMs', raw),
  };
}

/** A stored uint64 as text (used for the next-seq counter). */
export function decodeUint(what: string, raw: string): bigint {
  if (!UINT.test(raw) || BigInt(raw) > MAX_UINT64) throw new CorruptRecordError(what, raw);
  return BigInt(raw);
}

function parse(what: string, raw: string): Record<string, unknown> {
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch {
    throw new CorruptRecordError(what, raw);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new CorruptRecordError(what, raw);
  return o as Record<string, unknown>;
}

function str(o: Record<string, unknown>, field: string, raw: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw new CorruptRecordError(field, raw);
  return v;
}

function strings(o: Record<string, unknown>, field: string, raw: string): string[] {
  const v = o[field];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new CorruptRecordError(field, raw);
  return v;
}

function payouts(o: Record<string, unknown>, raw: string): Payout[] {
  const v = o['payouts'];
  if (!Array.isArray(v)) throw new CorruptRecordError('payouts', raw);
  return v.map((p: unknown) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new CorruptRecordError('payouts', raw);
    const payout = p as Record<string, unknown>;
    return { payee: str(payout, 'payee', raw), amount: uint(payout, 'amount', raw) };
  });
}

function safeUint(o: Record<string, unknown>, field: string, raw: string): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new CorruptRecordError(field, raw);
  return v;
}

function uint(o: Record<string, unknown>, field: string, raw: string): bigint {
  return decodeUint(field, str(o, field, raw));
}

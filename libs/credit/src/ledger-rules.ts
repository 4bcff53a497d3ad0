/**
 * The ledger's rules, pure: given the records an operation touches (undefined = does not exist),
 * return the records to write and the log entries to append, or throw a SwarmError and change
 * nothing. Callers must pass every record the operation names; the rules never guess one.
 *
 * Invariants kept by every rule (checked by the property tests and by `audit`):
 * - no balance goes negative;
 * - sum(available + escrowed) over all accounts == sum of GENESIS entries;
 * - an escrow is closed (settled or refunded) at most once; a retry of the same close returns the
 *   recorded outcome and writes nothing.
 *
 * Log entry shape: `from_account` is the account whose credit moves, `to_account` the account
 * credited ('' while the credit sits in an escrow): GENESIS '' -> node, RESERVE payer -> '',
 * SETTLE payer -> payee, REFUND payer -> payer (-> node once the payer's account is closed),
 * TRANSFER node -> agent or agent -> node (its `escrow_id` is the transfer id; transfer-rules.ts).
 * A settle appends one SETTLE per payout, in the order the request named them, then one REFUND of
 * the remainder when there is one.
 *
 * Counters: a reserve adds 1 to its payer's `reserves`, a settle adds what it paid out to the
 * payer's `spent`, in the record the operation writes anyway. A closed account (transfer-rules.ts)
 * reserves nothing more (PERMISSION_DENIED); what its escrows still return goes to the node.
 *
 * Expiry: every escrow reserved gets an `expiresAtMs`; once the clock passes it while the escrow
 * is still open, the ledger refunds it through `refundRule` (an ordinary REFUND entry), so a
 * caller that died between reserve and close never strands the payer's credit.
 */
import type { BalanceResponse, LedgerEntry, Payout, RefundRequest, RefundResponse, ReserveRequest, ReserveResponse, SettleRequest, SettleResponse } from '@swarm/contracts';
import { AGENT_ACCOUNT_PREFIX, EntryKind, ErrorCode, SwarmError } from '@swarm/contracts';
import { validateAgentAccount } from './agent-accounts';
import type { Account, Escrow, Transfer } from './ledger-records';
import type { SideWrite } from './ledger-store';
import { emptyAccount, MAX_UINT64, paidOut, settledEscrow } from './ledger-records';

export const MAX_ID_LENGTH = 128;
/** Most payees one escrow may name: the candidates of one task, not a mailing list. */
export const MAX_PAYEES = 16;
/**
 * Most payouts one settle may name. Each must pay a different payee of the escrow, so a settle of
 * an escrow with payees can never use more than MAX_PAYEES; the cap bounds the rest up front.
 */
export const MAX_PAYOUTS = MAX_PAYEES;
const ID_CHARSET = /^[A-Za-z0-9._:-]+$/;
/** How much of a bad id an error message repeats (ids come from peers; don't echo kilobytes). */
const ID_ECHO_CHARS = 32;

/** Where the next entries go in the log and when they happen. */
export interface Stamp {
  readonly nextSeq: bigint;
  readonly atMs: number;
}

/** How long escrows may live; from the ledger's options. */
export interface EscrowLifetime {
  /** Lifetime of an escrow reserved with `expires_at_ms` 0. */
  readonly defaultMs: number;
  /** The latest expiry a reserve may ask for, counted from now. */
  readonly maxMs: number;
}

/** Records to upsert and entries to append (all empty when the operation was a retry). */
export interface Change<R> {
  readonly result: R;
  readonly accounts: readonly Account[];
  readonly escrows: readonly Escrow[];
  readonly entries: readonly LedgerEntry[];
  /** Only transfers write these (transfer-rules.ts). */
  readonly transfers?: readonly Transfer[];
  /** The chain book's records (ledger-store.ts SideWrite), committed with the rest. */
  readonly side?: readonly SideWrite[];
}

export interface ReserveRecords {
  readonly escrow: Escrow | undefined;
  /** The account named by the request. */
  readonly payer: Account | undefined;
}

/** An account named by id, with its record (undefined: never credited yet). */
export interface NamedAccount {
  readonly id: string;
  readonly account: Account | undefined;
}

export interface SettleRecords {
  readonly escrow: Escrow | undefined;
  /** The escrow's payer (undefined only when the escrow is). */
  readonly payer: Account | undefined;
  /**
   * Every payee of the settle's payouts except the payer, each mapped to its account (undefined
   * if it has never been credited). A payee missing from the map is a caller bug.
   */
  readonly payees: ReadonlyMap<string, Account | undefined>;
  /** The node's account, where the rest goes when the payer is closed; needed only then. */
  readonly node?: NamedAccount;
}

export interface RefundRecords {
  readonly escrow: Escrow | undefined;
  readonly payer: Account | undefined;
  /** The node's account, where a closed payer's refund goes; needed only then. */
  readonly node?: NamedAccount;
}

export function validateId(field: string, id: string): void {
  if (id.length === 0) invalid(`${field} must not be empty`);
  if (id.length > MAX_ID_LENGTH) invalid(`${field} must be at most ${MAX_ID_LENGTH} characters, got ${id.length}`);
  if (!ID_CHARSET.test(id)) {
    invalid(`${field} may contain only [A-Za-z0-9._:-], got ${JSON.stringify(id.slice(0, ID_ECHO_CHARS))}`);
  }
}

/** A paying account: an id as above, or an agent's account `agent/<name>` (agent-accounts.ts). */
export function validateAccount(field: string, id: string): void {
  if (id.startsWith(AGENT_ACCOUNT_PREFIX)) validateAgentAccount(field, id);
  else validateId(field, id);
}

export function validateAmount(field: string, amount: bigint): void {
  if (amount <= 0n) invalid(`${field} must be greater than 0, got ${amount}`);
  if (amount > MAX_UINT64) invalid(`${field} must fit in uint64, got ${amount}`);
}

export function validateReserve(req: ReserveRequest): void {
  validateId('escrow_id', req.escrowId);
  validateAccount('account', req.account);
  validateAmount('amount', req.amount);
  if (req.payees.length === 0 || req.payees.length > MAX_PAYEES) invalid(`payees must name 1 to ${MAX_PAYEES} accounts, got ${req.payees.length}`);
  for (const payee of req.payees) validateId('payee', payee);
  if (new Set(req.payees).size !== req.payees.length) invalid('payees must not repeat an account');
}

export function validateSettle(req: SettleRequest): void {
  validateId('escrow_id', req.escrowId);
  settlePayouts(req);
}

/**
 * The payouts a settle asks for, validated. One precedence rule: a non-empty `payouts` is the
 * request, and then `payee` and `amount` must be unset; an empty one means the single payout
 * `payee`/`amount` (the form from before multi-payee settles, still what old callers send).
 */
export function settlePayouts(req: SettleRequest): readonly Payout[] {
  if (req.payouts.length === 0) {
    validateId('payee', req.payee);
    validateAmount('amount', req.amount);
    return [{ payee: req.payee, amount: req.amount }];
  }
  if (req.payee !== '' || req.amount !== 0n) invalid('a settle sets either payouts or payee and amount, not both');
  if (req.payouts.length > MAX_PAYOUTS) invalid(`payouts must name 1 to ${MAX_PAYOUTS} payees, got ${req.payouts.length}`);
  const payees = new Set<string>();
  let total = 0n;
  for (const p of req.payouts) {
    validateId('payouts.payee', p.payee);
    validateAmount('payouts.amount', p.amount);
    if (payees.has(p.payee)) invalid(`payouts name payee ${p.payee} twice`);
    payees.add(p.payee);
    total += p.amount;
  }
  if (total > MAX_UINT64) invalid(`payouts must sum to at most uint64, got ${total}`);
  return req.payouts.map((p) => ({ payee: p.payee, amount: p.amount }));
}

export function validateRefund(req: RefundRequest): void {
  validateId('escrow_id', req.escrowId);
}

/**
 * Credits `grant` to the node account when that account does not exist yet. Accounts are never
 * deleted, so this happens at most once per ledger. A zero grant changes nothing.
 */
export function genesisRule(nodeAccount: string, grant: bigint, node: Account | undefined, at: Stamp): Change<void> {
  validateId('node account', nodeAccount);
  if (grant < 0n || grant > MAX_UINT64) invalid(`genesis grant must be in [0, ${MAX_UINT64}], got ${grant}`);
  checkRecord(node, nodeAccount);
  if (node !== undefined || grant === 0n) return unchanged(undefined);
  return {
    result: undefined,
    accounts: [{ ...emptyAccount(nodeAccount), available: grant }],
    escrows: [],
    entries: [entry(at, 0, EntryKind.ENTRY_KIND_GENESIS, '', '', nodeAccount, grant)],
  };
}

/**
 * Credit another node paid this node by a receipt now in this node's chain (the chain book applies
 * it once per receipt id, in the same batch as the chain block): RECEIPT_IN payer -> node.
 */
export function receiptInRule(
  nodeAccount: string,
  node: Account | undefined,
  receipt: { readonly receiptId: string; readonly payer: string; readonly amount: bigint },
  at: Stamp,
): Change<void> {
  checkRecord(node, nodeAccount);
  validateAmount('receipt amount', receipt.amount);
  const before = node ?? emptyAccount(nodeAccount);
  if (before.available + receipt.amount > MAX_UINT64) invalid(`crediting ${receipt.amount} would overflow ${nodeAccount}`);
  return {
    result: undefined,
    accounts: [{ ...before, available: before.available + receipt.amount }],
    escrows: [],
    entries: [entry(at, 0, EntryKind.ENTRY_KIND_RECEIPT_IN, receipt.receiptId, receipt.payer, nodeAccount, receipt.amount)],
  };
}

/**
 * Credit a settle paid another node by a receipt that node then voided (the chain book applies it
 * once per receipt id, in the batch that releases the receipt's pledge): VOID payee -> node. It
 * takes back what the payee's account here still holds of the amount (all of it, unless something
 * spent from that account since); nothing when that is none.
 */
export function voidRule(
  payeeAccount: string,
  payee: Account | undefined,
  nodeAccount: string,
  node: Account | undefined,
  receipt: { readonly receiptId: string; readonly amount: bigint },
  at: Stamp,
): Change<bigint> {
  checkRecord(payee, payeeAccount);
  checkRecord(node, nodeAccount);
  validateAmount('receipt amount', receipt.amount);
  const held = payee?.available ?? 0n;
  const back = held < receipt.amount ? held : receipt.amount;
  if (back === 0n || !payee) return { result: 0n, accounts: [], escrows: [], entries: [] };
  return moveAvailable(payee, nodeAccount, node, back, EntryKind.ENTRY_KIND_VOID, receipt.receiptId, at);
}

/** `amount` from `from`'s available credit to `toId`'s (a new account if none), as one entry of `kind` naming `ref`. */
function moveAvailable(from: Account, toId: string, to: Account | undefined, amount: bigint, kind: EntryKind, ref: string, at: Stamp): Change<bigint> {
  const dest = to ?? emptyAccount(toId);
  if (dest.available + amount > MAX_UINT64) invalid(`crediting ${amount} would overflow ${toId}`);
  return {
    result: amount,
    accounts: [
      { ...from, available: from.available - amount },
      { ...dest, available: dest.available + amount },
    ],
    escrows: [],
    entries: [entry(at, 0, kind, ref, from.id, toId, amount)],
  };
}

/**
 * A voided receipt paid after all (its payee broke its word on the void and holds the receipt in
 * its chain): REINSTATE node -> payee, `receipt.amount` being what the VOID took back, applied by
 * the chain book in the batch that appends the receipt as RECEIPT_OUT. The node's account must hold
 * it (the VOID put it there); INSUFFICIENT_CREDIT otherwise, nothing changed.
 */
export function reinstateRule(
  nodeAccount: string,
  node: Account | undefined,
  payeeAccount: string,
  payee: Account | undefined,
  receipt: { readonly receiptId: string; readonly amount: bigint },
  at: Stamp,
): Change<bigint> {
  checkRecord(node, nodeAccount);
  checkRecord(payee, payeeAccount);
  validateAmount('receipt amount', receipt.amount);
  const held = node?.available ?? 0n;
  if (!node || held < receipt.amount) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
      `the node's account holds ${held}, and paying voided receipt ${receipt.receiptId.slice(0, 80)} after all needs ${receipt.amount}`,
    );
  }
  return moveAvailable(node, payeeAccount, payee, receipt.amount, EntryKind.ENTRY_KIND_REINSTATE, receipt.receiptId, at);
}

/** A lifetime the ledger can be opened with: whole positive ms, default within max. */
export function validateLifetime(lifetime: EscrowLifetime): void {
  const { defaultMs, maxMs } = lifetime;
  if (!Number.isSafeInteger(defaultMs) || !Number.isSafeInteger(maxMs) || defaultMs < 1 || defaultMs > maxMs) {
    throw new RangeError(`escrow lifetime needs whole ms with 1 <= default <= max, got default ${defaultMs}, max ${maxMs}`);
  }
}

/**
 * When a new escrow expires: `requested` (ms since epoch) or, for 0, now + the default lifetime.
 * An expiry not after now would refund the escrow before anyone could use it, and one past the
 * maximum lifetime would let a caller lock credit up for as long as it likes: both refused.
 */
export function escrowExpiry(requested: bigint, nowMs: number, lifetime: EscrowLifetime): number {
  const now = Math.trunc(nowMs);
  if (requested === 0n) return now + lifetime.defaultMs;
  if (requested <= BigInt(now)) invalid(`expires_at_ms ${requested} is not after now (${now})`);
  if (requested > BigInt(now + lifetime.maxMs)) {
    invalid(`expires_at_ms ${requested} is more than the maximum escrow lifetime of ${lifetime.maxMs} ms after now (${now})`);
  }
  return Number(requested);
}

/** An open escrow whose expiry has come; escrows without an expiry never are. */
export function isDue(escrow: Escrow, nowMs: number): boolean {
  return escrow.state === 'open' && escrow.expiresAtMs !== undefined && escrow.expiresAtMs <= nowMs;
}

export function reserveRule(req: ReserveRequest, current: ReserveRecords, at: Stamp, lifetime: EscrowLifetime): Change<ReserveResponse> {
  validateReserve(req);
  const { escrow, payer } = current;
  checkRecord(escrow, req.escrowId);
  checkRecord(payer, req.account);
  if (escrow) {
    // A retry answers with the escrow as recorded; its expiry was fixed by the first reserve
    // (a retry computing "now + default" again must not move it), so `expires_at_ms` is ignored.
    // Only while open: replaying the reserve of a closed escrow must not look like fresh funds.
    if (escrow.state !== 'open') {
      throw new SwarmError(ErrorCode.ERROR_CODE_ESCROW_CLOSED, `escrow ${escrow.id} is already ${escrow.state}`);
    }
    if (escrow.payer === req.account && escrow.amount === req.amount && samePayees(escrow.payees, req.payees)) {
      return unchanged({ escrowId: escrow.id, available: payer?.available ?? 0n });
    }
    throw new SwarmError(ErrorCode.ERROR_CODE_ESCROW_CONFLICT, `escrow ${escrow.id} already exists with a different account, amount or payees`);
  }
  const expiresAtMs = escrowExpiry(req.expiresAtMs, at.atMs, lifetime);
  if (!payer) throw new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT, `account ${req.account} does not exist`);
  if (payer.closed) throw closedAccountError(payer.id);
  if (payer.available < req.amount) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, `account ${payer.id} has ${payer.available} available, needs ${req.amount}`);
  }
  const debited: Account = { ...payer, available: payer.available - req.amount, escrowed: payer.escrowed + req.amount, reserves: payer.reserves + 1n };
  return {
    result: { escrowId: req.escrowId, available: debited.available },
    accounts: [debited],
    escrows: [{ id: req.escrowId, payer: payer.id, amount: req.amount, state: 'open', expiresAtMs, payees: [...req.payees] }],
    entries: [entry(at, 0, EntryKind.ENTRY_KIND_RESERVE, req.escrowId, payer.id, '', req.amount)],
  };
}

/** Pays every payout and returns the rest of the escrow to the payer, in one change. */
export function settleRule(req: SettleRequest, current: SettleRecords, at: Stamp): Change<SettleResponse> {
  validateId('escrow_id', req.escrowId);
  const payouts = settlePayouts(req);
  const escrow = requireEscrow(current.escrow, req.escrowId);
  const total = payouts.reduce((sum, p) => sum + p.amount, 0n);
  if (escrow.state !== 'open') {
    if (escrow.state === 'settled' && samePayouts(paidOut(escrow), payouts)) {
      return unchanged({ escrowId: escrow.id, paid: total, refunded: escrow.refunded ?? 0n });
    }
    throw closedError(escrow);
  }
  if (total > escrow.amount) {
    invalid(`settle amount ${total} exceeds the ${escrow.amount} escrowed in ${escrow.id}`);
  }
  const { payees } = escrow;
  if (payees !== undefined && !payouts.every((p) => payees.includes(p.payee))) {
    throw new SwarmError(ErrorCode.ERROR_CODE_ESCROW_CONFLICT, `escrow ${escrow.id} may pay only the providers named when it was reserved`);
  }
  const payer = requirePayer(current.payer, escrow);
  const rest = escrow.amount - total;
  // Every account the settle credits, once each: a payer may pay itself, and the node may be both
  // a payee and where a closed payer's rest goes.
  const credited = new Map<string, Account>([[payer.id, { ...release(payer, escrow.amount), spent: payer.spent + total }]]);
  const credit = (id: string, amount: bigint, record: () => Account | undefined) => {
    const now = credited.get(id) ?? record() ?? emptyAccount(id);
    credited.set(id, { ...now, available: now.available + amount });
  };
  for (const p of payouts) {
    credit(p.payee, p.amount, () => {
      if (!current.payees.has(p.payee)) throw new Error(`ledger rules got no record for payee ${p.payee}`);
      const payee = current.payees.get(p.payee);
      checkRecord(payee, p.payee);
      return payee;
    });
  }
  const entries = payouts.map((p, i) => entry(at, i, EntryKind.ENTRY_KIND_SETTLE, escrow.id, payer.id, p.payee, p.amount));
  if (rest > 0n) {
    const to = refundTarget(payer, current.node);
    credit(to.id, rest, () => to.account);
    entries.push(entry(at, payouts.length, EntryKind.ENTRY_KIND_REFUND, escrow.id, payer.id, to.id, rest));
  }
  return {
    result: { escrowId: escrow.id, paid: total, refunded: rest },
    accounts: [...credited.values()],
    escrows: [settledEscrow(escrow, payouts, rest)],
    entries,
  };
}

export function refundRule(req: RefundRequest, current: RefundRecords, at: Stamp): Change<RefundResponse> {
  validateRefund(req);
  const escrow = requireEscrow(current.escrow, req.escrowId);
  if (escrow.state === 'refunded') return unchanged({ escrowId: escrow.id, refunded: escrow.refunded ?? escrow.amount });
  if (escrow.state !== 'open') throw closedError(escrow);
  const payer = requirePayer(current.payer, escrow);
  const released = release(payer, escrow.amount);
  const to = refundTarget(payer, current.node);
  const returned =
    to.id === payer.id
      ? [{ ...released, available: released.available + escrow.amount }]
      : [released, { ...(to.account ?? emptyAccount(to.id)), available: (to.account?.available ?? 0n) + escrow.amount }];
  return {
    result: { escrowId: escrow.id, refunded: escrow.amount },
    accounts: returned,
    escrows: [{ ...escrow, state: 'refunded', refunded: escrow.amount }],
    entries: [entry(at, 0, EntryKind.ENTRY_KIND_REFUND, escrow.id, payer.id, to.id, escrow.amount)],
  };
}

export function balanceRule(id: string, account: Account | undefined): BalanceResponse {
  validateAccount('account', id);
  checkRecord(account, id);
  if (!account) throw new SwarmError(ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT, `account ${id} does not exist`);
  const { available, escrowed, spent, reserves, closed } = account;
  return { account: id, available, escrowed, spent, reserves, closed };
}

/** The refusal of anything that would pay from, or credit, a closed account. */
export function closedAccountError(id: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_PERMISSION_DENIED, `account ${id} is closed (its agent was revoked): it pays for and receives nothing more`);
}

/** Escrows from before payee binding have none; a retry of their reserve cannot happen any more. */
function samePayees(recorded: readonly string[] | undefined, asked: readonly string[]): boolean {
  return recorded !== undefined && recorded.length === asked.length && recorded.every((p, i) => p === asked[i]);
}

/** A retry names the same payouts; their order does not change what they pay. */
function samePayouts(recorded: readonly Payout[], asked: readonly Payout[]): boolean {
  const byPayee = new Map(recorded.map((p) => [p.payee, p.amount]));
  return recorded.length === asked.length && asked.every((p) => byPayee.get(p.payee) === p.amount);
}

/** A retry's or a no-op's change: its answer, nothing to write. */
export function unchanged<R>(result: R): Change<R> {
  return { result, accounts: [], escrows: [], entries: [] };
}

/** The log entry at `at.nextSeq + offset`. */
export function entry(at: Stamp, offset: number, kind: EntryKind, escrowId: string, from: string, to: string, amount: bigint): LedgerEntry {
  return {
    seq: at.nextSeq + BigInt(offset),
    kind,
    escrowId,
    fromAccount: from,
    toAccount: to,
    amount,
    atMs: BigInt(Math.max(0, Math.trunc(at.atMs))),
  };
}

function requireEscrow(escrow: Escrow | undefined, id: string): Escrow {
  checkRecord(escrow, id);
  if (!escrow) throw new SwarmError(ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND, `escrow ${id} does not exist`);
  return escrow;
}

function requirePayer(payer: Account | undefined, escrow: Escrow): Account {
  checkRecord(payer, escrow.payer);
  if (!payer) throw new Error(`ledger invariant broken: payer ${escrow.payer} of escrow ${escrow.id} is missing`);
  return payer;
}

/** Takes an open escrow's amount out of its payer's escrowed balance. */
function release(payer: Account, amount: bigint): Account {
  if (payer.escrowed < amount) {
    throw new Error(`ledger invariant broken: account ${payer.id} escrows ${payer.escrowed}, less than ${amount}`);
  }
  return { ...payer, escrowed: payer.escrowed - amount };
}

/** Where an escrow's refund goes: back to its payer, or to the node once the payer is closed. */
function refundTarget(payer: Account, node: NamedAccount | undefined): NamedAccount {
  if (!payer.closed) return { id: payer.id, account: payer };
  if (!node) throw new Error(`ledger rules got no node account for the refund of closed account ${payer.id}`);
  checkRecord(node.account, node.id);
  return node;
}

function closedError(escrow: Escrow): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_ESCROW_CLOSED, `escrow ${escrow.id} is already ${escrow.state}`);
}

/** A record passed under the wrong id is a caller bug, never a user error (becomes INTERNAL). */
export function checkRecord(record: { readonly id: string } | undefined, id: string): void {
  if (record !== undefined && record.id !== id) throw new Error(`ledger rules got record ${record.id} for ${id}`);
}

function invalid(message: string): never {
  throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message);
}

/**
 * The ledger's records. Amounts are bigint because they travel as proto uint64; every balance
 * stays within [0, MAX_UINT64] since the sum of all balances equals the sum of genesis grants.
 */
import type { Payout } from '@swarm/contracts';

/** Largest value a proto uint64 field can carry. */
export const MAX_UINT64 = (1n << 64n) - 1n;

/**
 * An account exists once it is first credited (genesis, a settle payout, a transfer); it is never
 * deleted. `spent` and `reserves` are counters the log also gives (the audit recomputes them); they
 * are bigint like every amount, since they travel as proto uint64 (BalanceResponse).
 */
export interface Account {
  readonly id: string;
  readonly available: bigint;
  /** Sum of the amounts of this account's open escrows. */
  readonly escrowed: bigint;
  /** What its escrows paid out to payees, ever: the sum of the SETTLE entries it is `from` in. */
  readonly spent: bigint;
  /** Escrows it reserved, ever: the number of RESERVE entries it is `from` in. */
  readonly reserves: bigint;
  /**
   * Closed by a defund with `close` (a revoked agent's account): it reserves and receives nothing
   * more, and refunds of its escrows still open credit the node's account instead. Never reopened.
   */
  readonly closed: boolean;
}

/** An account as it is first credited: nothing in it, nothing done yet. */
export function emptyAccount(id: string): Account {
  return { id, available: 0n, escrowed: 0n, spent: 0n, reserves: 0n, closed: false };
}

export type EscrowState = 'open' | 'settled' | 'refunded';

/**
 * Credit set aside by `payer`. Closed exactly once: `settled` (`paid` in total to its payouts, the
 * rest refunded) or `refunded` (everything back to the payer); once closed,
 * `paid + refunded === amount`. Read what a settle paid with `paidOut`, never from the fields.
 */
export interface Escrow {
  readonly id: string;
  readonly payer: string;
  readonly amount: bigint;
  readonly state: EscrowState;
  /**
   * A settle that paid one account: that account, paid `paid`. Every escrow settled before
   * multi-payee settles has this form, and single-payee settles keep it, so their records stay
   * byte-identical to the format-1 ones.
   */
  readonly payee?: string;
  /** A settle that paid two or more accounts: each payout, in the order the settle named them. */
  readonly payouts?: readonly Payout[];
  readonly paid?: bigint;
  readonly refunded?: bigint;
  /**
   * When an escrow still open gets refunded by `expireDue` (ms since epoch). Absent on escrows
   * reserved before expiry existed: those never expire. Kept after closing, as history.
   */
  readonly expiresAtMs?: number;
  /**
   * The only accounts a settle may pay, named by the reserving router. Absent on escrows reserved
   * before payees were bound: those may pay anyone (they have all expired by now in practice).
   */
  readonly payees?: readonly string[];
}

/**
 * Credit moved between the node's account and an agent's account (agent-accounts.ts), kept under
 * its caller-chosen id so that a retry answers the first outcome and moves nothing more.
 * `amount` is 0 only for a defund of an account with nothing available: that transfer has no log
 * entry (entries move credit), but its record still pins what the id did.
 */
export interface Transfer {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly amount: bigint;
  /**
   * Set on the defund that closed `from`: the seq the log's next entry had once the close took
   * effect, so every entry with a lower seq came before it and every other one after. The log
   * itself cannot say (a close moves no credit, and an entry always does); the audit holds the
   * log's REFUND and RESERVE entries of the account against it.
   */
  readonly closedAtSeq?: bigint;
}

/** What a settled escrow paid, whichever form it was recorded in; empty unless settled. */
export function paidOut(escrow: Escrow): readonly Payout[] {
  if (escrow.state !== 'settled') return [];
  if (escrow.payouts !== undefined) return escrow.payouts;
  return escrow.payee === undefined ? [] : [{ payee: escrow.payee, amount: escrow.paid ?? 0n }];
}

/** `escrow` settled with `payouts` (at least one) and `refunded` back to its payer. */
export function settledEscrow(escrow: Escrow, payouts: readonly Payout[], refunded: bigint): Escrow {
  const { payee: _payee, payouts: _payouts, ...rest } = escrow;
  const paid = payouts.reduce((sum, p) => sum + p.amount, 0n);
  const [only] = payouts;
  const paidTo = payouts.length === 1 && only ? { payee: only.payee } : { payouts: payouts.map((p) => ({ payee: p.payee, amount: p.amount })) };
  return { ...rest, state: 'settled', ...paidTo, paid, refunded };
}

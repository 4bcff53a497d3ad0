/**
 * The ledger's records. Amounts are bigint because they travel as proto uint64; every balance
 * stays within [0, MAX_UINT64] since the sum of all balances equals the sum of genesis grants.
 */

/** Largest value a proto uint64 field can carry. */
export const MAX_UINT64 = (1n << 64n) - 1n;

/** An account exists once it is first credited (genesis or a settle payout); it is never deleted. */
export interface Account {
  readonly id: string;
  readonly available: bigint;
  /** Sum of the amounts of this account's open escrows. */
  readonly escrowed: bigint;
}

export type EscrowState = 'open' | 'settled' | 'refunded';

/**
 * Credit set aside by `payer`. Closed exactly once: `settled` (paid to `payee`, the rest refunded)
 * or `refunded` (everything back to the payer); once closed, `paid + refunded === amount`.
 */
export interface Escrow {
  readonly id: string;
  readonly payer: string;
  readonly amount: bigint;
  readonly state: EscrowState;
  readonly payee?: string;
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

/**
 * A charge: a reserve and its settle in one operation, for a task the router has already run and
 * verified on this node's own executors (the folded path, docs/verification.md). It writes what the
 * two would have written one after the other (a RESERVE entry of the amount, a SETTLE entry per
 * payout, a REFUND of the rest), in one batch, so the escrow is never seen open and never needs an
 * expiry, and the payer sees what the escrow path would have shown it.
 * Whether a payee is on another node is the chain book's check (it refuses such a charge: a
 * receipt needs the pledge only a reserve makes).
 */
import type { ChargeRequest, SettleRequest, SettleResponse } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Account, Escrow } from './ledger-records';
import type { Change, EscrowLifetime, Stamp } from './ledger-rules';
import { checkRecord, reserveRule, settlePayouts, settleRule, validateAccount, validateAmount, validateId } from './ledger-rules';

export interface ChargeRecords {
  readonly escrow: Escrow | undefined;
  /** The account named by the request. */
  readonly payer: Account | undefined;
  /** Every payee other than the payer, mapped to its account (undefined if never credited). */
  readonly payees: ReadonlyMap<string, Account | undefined>;
}

/** The settle a charge makes of its escrow: its payouts (a charge has no single-payee form). */
export function settleOfCharge(req: ChargeRequest): SettleRequest {
  return { escrowId: req.escrowId, payee: '', amount: 0n, payouts: req.payouts };
}

export function validateCharge(req: ChargeRequest): void {
  validateId('escrow_id', req.escrowId);
  validateAccount('account', req.account);
  if (req.payouts.length === 0) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'a charge names 1 or more payouts');
  settlePayouts(settleOfCharge(req));
  validateAmount('amount', req.amount);
  const total = req.payouts.reduce((sum, p) => sum + p.amount, 0n);
  if (total > req.amount) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `the payouts (${total}) exceed the amount charged (${req.amount})`);
  if (req.notAfterMs === 0n) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'not_after_ms is required');
}

export function chargeRule(req: ChargeRequest, current: ChargeRecords, at: Stamp, lifetime: EscrowLifetime): Change<SettleResponse> {
  validateCharge(req);
  const settle = settleOfCharge(req);
  const { escrow, payer } = current;
  checkRecord(escrow, req.escrowId);
  checkRecord(payer, req.account);
  if (escrow) {
    // A retry after a lost reply: the settled escrow answers as it was; anything else is not this charge.
    if (escrow.payer !== req.account || escrow.amount !== req.amount || escrow.state === 'open')
      throw new SwarmError(
        ErrorCode.ERROR_CODE_ESCROW_CONFLICT,
        `escrow ${escrow.id} already exists ${escrow.state === 'open' ? 'open' : 'with another account or amount'}: a charge makes its own`,
      );
    return settleRule(settle, { escrow, payer, payees: current.payees }, at);
  }
  const nowMs = BigInt(Math.trunc(at.atMs));
  if (nowMs > req.notAfterMs) {
    throw new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `charge ${req.escrowId} arrived ${nowMs - req.notAfterMs} ms after its not_after_ms; nothing moved`);
  }
  const reserved = reserveRule(
    { escrowId: req.escrowId, account: req.account, amount: req.amount, expiresAtMs: 0n, payees: req.payouts.map((p) => p.payee) },
    { escrow: undefined, payer },
    at,
    lifetime,
  );
  const [opened] = reserved.escrows;
  const [debited] = reserved.accounts;
  if (!opened || !debited) throw new Error('the reserve rule wrote no escrow or payer');
  // The settle's entries follow the reserve's in the log.
  const paid = settleRule(settle, { escrow: opened, payer: debited, payees: current.payees }, { nextSeq: at.nextSeq + BigInt(reserved.entries.length), atMs: at.atMs });
  // Never open, so nothing for the expiry index: the settled record carries no expiry.
  const escrows = paid.escrows.map(({ expiresAtMs: _expiry, ...closed }) => closed);
  return { result: paid.result, accounts: paid.accounts, escrows, entries: [...reserved.entries, ...paid.entries] };
}

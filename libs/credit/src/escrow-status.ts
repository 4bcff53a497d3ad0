/** The wire view of one escrow (EscrowResponse): what a router tells a client that lost a reply. */
import type { EscrowResponse } from '@swarm/contracts';
import { EscrowState } from '@swarm/contracts';
import type { Escrow } from './ledger-records';
import { paidOut } from './ledger-records';
import { validateId } from './ledger-rules';

const STATES: Readonly<Record<Escrow['state'], EscrowState>> = {
  open: EscrowState.ESCROW_STATE_OPEN,
  settled: EscrowState.ESCROW_STATE_SETTLED,
  refunded: EscrowState.ESCROW_STATE_REFUNDED,
};

/** Validates the id first (INVALID_ARGUMENT), so a bad id never reaches the store. */
export function validateEscrowQuery(id: string): void {
  validateId('escrow_id', id);
}

export function escrowStatus(id: string, escrow: Escrow | undefined): EscrowResponse {
  if (!escrow) {
    return { escrowId: id, state: EscrowState.ESCROW_STATE_NONE, payer: '', amount: 0n, paid: 0n, refunded: 0n, payee: '', expiresAtMs: 0n, payouts: [] };
  }
  const payouts = paidOut(escrow);
  return {
    escrowId: id,
    state: STATES[escrow.state],
    payer: escrow.payer,
    amount: escrow.amount,
    paid: escrow.paid ?? 0n,
    refunded: escrow.refunded ?? 0n,
    payee: payouts.length === 1 ? (payouts[0]?.payee ?? '') : '',
    expiresAtMs: BigInt(escrow.expiresAtMs ?? 0),
    payouts: payouts.map((p) => ({ payee: p.payee, amount: p.amount })),
  };
}

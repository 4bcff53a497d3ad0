import { EscrowState } from '@swarm/contracts';
import { escrowStatus } from './escrow-status';
import type { Escrow } from './ledger-records';

describe('escrow status - wire view', () => {
  const open: Escrow = { id: 'e1', payer: 'node', amount: 30n, state: 'open', expiresAtMs: 5 };

  it('names the payee and the one payout of a single-payee settle', () => {
    expect(escrowStatus('e1', { ...open, state: 'settled', payee: 'a', paid: 20n, refunded: 10n })).toMatchObject({
      state: EscrowState.ESCROW_STATE_SETTLED,
      payee: 'a',
      paid: 20n,
      payouts: [{ payee: 'a', amount: 20n }],
    });
  });

  it('lists every payout of a multi-payee settle and leaves payee empty', () => {
    const settled: Escrow = {
      ...open,
      state: 'settled',
      payouts: [
        { payee: 'b', amount: 5n },
        { payee: 'a', amount: 7n },
      ],
      paid: 12n,
      refunded: 18n,
    };
    expect(escrowStatus('e1', settled)).toMatchObject({
      payee: '',
      paid: 12n,
      refunded: 18n,
      payouts: [
        { payee: 'b', amount: 5n },
        { payee: 'a', amount: 7n },
      ],
    });
  });

  it('answers NONE with no payouts for an escrow never reserved', () => {
    expect(escrowStatus('e9', undefined)).toMatchObject({ state: EscrowState.ESCROW_STATE_NONE, payouts: [] });
    expect(escrowStatus('e1', open).payouts).toEqual([]);
  });
});

/**
 * The ledger store compliance suite (ledger-compliance.ts), on closed accounts: a defund with
 * `close` (an agent's revocation) returns what the agent may spend and closes its account in the
 * same commit; its escrows still open return to the node's account whichever way they close, it
 * reserves and is funded no more, and the counters (`spent`, `reserves`) stay what the log says.
 */
import type { BalanceResponse } from '@swarm/contracts';
import { EntryKind, ErrorCode } from '@swarm/contracts';
import type { Ledger, LedgerInit } from '@swarm/credit';
import type { ManualClock } from '@swarm/determinism';
import { swarmErrorOf } from './swarm-error-of';

export interface ClosedAccountContext {
  open(over?: Partial<LedgerInit>): Promise<Ledger>;
  readonly clock: ManualClock;
  readonly grant: bigint;
}

/** A BalanceResponse: counters zero and the account open unless `more` says otherwise. */
export const balanceOf = (account: string, available: bigint, escrowed: bigint, more: Partial<BalanceResponse> = {}): BalanceResponse => ({
  account,
  available,
  escrowed,
  spent: 0n,
  reserves: 0n,
  closed: false,
  ...more,
});

export function closedAccountCompliance(name: string, ctx: ClosedAccountContext): void {
  describe(`${name} - closed accounts`, () => {
    const lifetime = { defaultMs: 60_000, maxMs: 120_000 };
    const SHORT_MS = 100;
    const PAYEES = ['peer', 'node'];
    const reserveAs = (ledger: Ledger, escrowId: string, amount: bigint, expiresAtMs = 0n) =>
      ledger.reserve({ escrowId, account: 'agent/bot', amount, expiresAtMs, payees: PAYEES });
    const closeBot = (ledger: Ledger, transferId: string) => ledger.defundAgent({ transferId, agentAccount: 'agent/bot', close: true });
    const audited = async (ledger: Ledger) => {
      const report = await ledger.audit();
      expect(report.problems).toEqual([]);
      expect(report.totals.available + report.totals.escrowed).toBe(report.totals.genesis);
    };

    it('returns what its open escrows hold to the node however they close, refuses it new work, and keeps that across a reopen', async () => {
      let ledger = await ctx.open({ escrowLifetime: lifetime });
      await ledger.fundAgent({ transferId: 'f1', agentAccount: 'agent/bot', amount: 300n });
      await reserveAs(ledger, 'expires', 100n, BigInt(ctx.clock.now() + SHORT_MS));
      await reserveAs(ledger, 'fails', 50n);
      await reserveAs(ledger, 'settles', 20n);
      const closed = await closeBot(ledger, 'd1');
      expect(closed.result).toEqual({ returned: 130n, nodeAvailable: ctx.grant - 300n + 130n });
      expect(await ledger.balance('agent/bot')).toEqual(balanceOf('agent/bot', 0n, 170n, { reserves: 3n, closed: true }));

      // A failed task (refund), a verified one paying part of its budget (settle), a forgotten one (expiry).
      const refunded = await ledger.refund({ escrowId: 'fails' });
      const settled = await ledger.settle({ escrowId: 'settles', payee: 'peer', amount: 5n, payouts: [] });
      ctx.clock.advance(SHORT_MS);
      const expired = await ledger.expireDue(ctx.clock.now(), 10);
      expect(expired.result).toEqual([{ escrowId: 'expires', refunded: 100n }]);
      expect([...refunded.entries, ...settled.entries, ...expired.entries].map((e) => [e.kind, e.escrowId, e.fromAccount, e.toAccount, e.amount])).toEqual([
        [EntryKind.ENTRY_KIND_REFUND, 'fails', 'agent/bot', 'node', 50n],
        [EntryKind.ENTRY_KIND_SETTLE, 'settles', 'agent/bot', 'peer', 5n],
        [EntryKind.ENTRY_KIND_REFUND, 'settles', 'agent/bot', 'node', 15n],
        [EntryKind.ENTRY_KIND_REFUND, 'expires', 'agent/bot', 'node', 100n],
      ]);

      const seq = ledger.lastSeq();
      expect((await swarmErrorOf(reserveAs(ledger, 'more', 1n))).code).toBe(ErrorCode.ERROR_CODE_PERMISSION_DENIED);
      expect((await swarmErrorOf(ledger.fundAgent({ transferId: 'f2', agentAccount: 'agent/bot', amount: 1n }))).code).toBe(ErrorCode.ERROR_CODE_PERMISSION_DENIED);
      // A later revoke finds nothing to return and nothing more to close.
      expect((await closeBot(ledger, 'd2')).result).toEqual({ returned: 0n, nodeAvailable: ctx.grant - 5n });
      expect(ledger.lastSeq()).toBe(seq);
      await ledger.close();

      ledger = await ctx.open({ escrowLifetime: lifetime });
      expect(await ledger.balance('agent/bot')).toEqual(balanceOf('agent/bot', 0n, 0n, { spent: 5n, reserves: 3n, closed: true }));
      expect(await ledger.balance('node')).toEqual(balanceOf('node', ctx.grant - 5n, 0n));
      expect(await ledger.balance('peer')).toEqual(balanceOf('peer', 5n, 0n));
      expect(await ledger.transfer('d1')).toEqual({ id: 'd1', from: 'agent/bot', to: 'node', amount: 130n, closedAtSeq: 7n });
      expect(await ledger.transfer('d2')).toEqual({ id: 'd2', from: 'agent/bot', to: 'node', amount: 0n });
      await audited(ledger);
      await ledger.close();
    });

    it('closes in the commit it shares with concurrent operations: a reserve before it refunds to the node, one after it is refused', async () => {
      const ledger = await ctx.open();
      await ledger.fundAgent({ transferId: 'f1', agentAccount: 'agent/bot', amount: 100n });
      const outcomes = await Promise.allSettled([reserveAs(ledger, 'before', 30n), closeBot(ledger, 'd1'), reserveAs(ledger, 'after', 1n), ledger.refund({ escrowId: 'before' })]);
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code: ErrorCode }).code))).toEqual(['ok', 'ok', ErrorCode.ERROR_CODE_PERMISSION_DENIED, 'ok']);
      expect(outcomes[1]).toMatchObject({ value: { result: { returned: 70n } } });
      expect(await ledger.balance('agent/bot')).toEqual(balanceOf('agent/bot', 0n, 0n, { reserves: 1n, closed: true }));
      expect(await ledger.balance('node')).toEqual(balanceOf('node', ctx.grant, 0n));
      await audited(ledger);
      await ledger.close();
    });

    it('closes an account a retried defund left open when the retry asks to, answering the first outcome', async () => {
      let ledger = await ctx.open();
      await ledger.fundAgent({ transferId: 'f1', agentAccount: 'agent/bot', amount: 100n });
      await reserveAs(ledger, 'e1', 40n);
      // An older caller's defund, then the same transfer retried by one that closes.
      expect((await ledger.defundAgent({ transferId: 'd1', agentAccount: 'agent/bot', close: false })).result.returned).toBe(60n);
      expect(await closeBot(ledger, 'd1')).toEqual({ result: { returned: 60n, nodeAvailable: ctx.grant - 40n }, entries: [] });
      expect((await ledger.balance('agent/bot')).closed).toBe(true);
      await ledger.close();
      ledger = await ctx.open();
      expect((await ledger.refund({ escrowId: 'e1' })).entries).toMatchObject([{ toAccount: 'node', amount: 40n }]);
      expect(await ledger.balance('node')).toEqual(balanceOf('node', ctx.grant, 0n));
      await audited(ledger);
      await ledger.close();
    });
  });
}

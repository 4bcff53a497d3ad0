import type { LedgerEntry, SettleRequest } from '@swarm/contracts';
import { EntryKind, ErrorCode, SwarmError } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import fc from 'fast-check';
import { createLedger } from './create-ledger';
import type { Ledger } from './ledger';
import { createMemoryStore } from './memory-store';

type Command =
  | { op: 'reserve'; escrowId: string; account: string; amount: bigint; payees: string[] }
  | { op: 'settle'; req: SettleRequest }
  | { op: 'refund'; escrowId: string }
  | { op: 'expire'; advance: number };

const GRANT = 200n;
const LIFETIME = { defaultMs: 50, maxMs: 100 };
const escrowIds = fc.constantFrom('e0', 'e1', 'e2', 'e3');
const accountIds = fc.constantFrom('node', 'peer-a', 'peer-b', 'peer-c', 'ghost');
const payout = fc.record({ payee: accountIds, amount: fc.bigInt({ min: 0n, max: 40n }) });
const distinctPayouts = fc.uniqueArray(fc.record({ payee: accountIds, amount: fc.bigInt({ min: 1n, max: 25n }) }), { selector: (p) => p.payee, minLength: 2, maxLength: 4 });
const settleRequest: fc.Arbitrary<SettleRequest> = fc.oneof(
  // The multi-payee form: mostly well formed; duplicates, zero amounts and sums past the escrow too.
  fc.record({ escrowId: escrowIds, payee: fc.constant(''), amount: fc.constant(0n), payouts: distinctPayouts }),
  fc.record({ escrowId: escrowIds, payee: fc.constant(''), amount: fc.constant(0n), payouts: fc.array(payout, { minLength: 1, maxLength: 4 }) }),
  // The single-payout form, and now and then both forms at once (always refused).
  fc.record({ escrowId: escrowIds, payee: accountIds, amount: fc.bigInt({ min: 0n, max: 40n }), payouts: fc.constant<SettleRequest['payouts']>([]) }),
  fc.record({ escrowId: escrowIds, payee: accountIds, amount: fc.bigInt({ min: 1n, max: 40n }), payouts: fc.array(payout, { minLength: 1, maxLength: 2 }) }),
);
const reservedPayees: fc.Arbitrary<string[]> = fc.oneof(fc.constant<string[]>(['node', 'peer-a', 'peer-b', 'peer-c']), fc.uniqueArray(accountIds, { minLength: 1, maxLength: 4 }));
// Weighted so that most settles find an open escrow to act on.
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('reserve' as const),
      escrowId: escrowIds,
      account: fc.constantFrom('node', 'peer-a'),
      amount: fc.bigInt({ min: 1n, max: 80n }),
      payees: reservedPayees,
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('settle' as const), req: settleRequest }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('refund' as const), escrowId: escrowIds }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const), advance: fc.integer({ min: 0, max: 60 }) }) },
);

const REFUSALS = new Set([
  ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
  ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT,
  ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
  ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND,
  ErrorCode.ERROR_CODE_ESCROW_CLOSED,
  ErrorCode.ERROR_CODE_ESCROW_CONFLICT,
]);

async function run(ledger: Ledger, cmd: Exclude<Command, { op: 'expire' }>): Promise<{ ok: true; result: unknown; entries: number } | { ok: false; code: ErrorCode }> {
  try {
    const done =
      cmd.op === 'reserve'
        ? await ledger.reserve({ ...cmd, expiresAtMs: 0n })
        : cmd.op === 'settle'
          ? await ledger.settle(cmd.req)
          : await ledger.refund({ escrowId: cmd.escrowId });
    return { ok: true, result: done.result, entries: done.entries.length };
  } catch (err) {
    if (!(err instanceof SwarmError) || !REFUSALS.has(err.code)) throw err;
    return { ok: false, code: err.code };
  }
}

describe('ledger - multi-payee settle properties (memory store)', () => {
  it('conserve credit, pay only reserved payees, and close each escrow once, whatever the payouts', async () => {
    // The generators must reach real multi-payee settles, not only refusals.
    let multiPayeeSettles = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 40 }), async (cmds) => {
        const clock = manualClock(1_000);
        const ledger = await createLedger({ store: createMemoryStore(), clock }, { nodeAccount: 'node', genesisGrant: GRANT, escrowLifetime: LIFETIME });
        const reservedFor = new Map<string, readonly string[]>();
        for (const cmd of cmds) {
          if (cmd.op === 'expire') {
            clock.advance(cmd.advance);
            await ledger.expireDue(clock.now(), 10);
            continue;
          }
          const first = await run(ledger, cmd);
          if (first.ok && cmd.op === 'reserve' && first.entries > 0) reservedFor.set(cmd.escrowId, cmd.payees);
          if (first.ok && cmd.op === 'settle' && cmd.req.payouts.length > 1 && first.entries > 0) multiPayeeSettles += 1;
          // A caller that lost the reply sends the same request again: same answer, no new entries.
          const again = await run(ledger, cmd);
          expect(again).toEqual(first.ok ? { ...first, entries: 0 } : first);
        }

        const report = await ledger.audit();
        expect(report.problems).toEqual([]);
        expect(report.totals.available + report.totals.escrowed).toBe(GRANT);
        const log = await ledger.entries(1n, 10_000);
        const byEscrow = new Map<string, LedgerEntry[]>();
        for (const e of log) if (e.escrowId) byEscrow.set(e.escrowId, [...(byEscrow.get(e.escrowId) ?? []), e]);
        for (const [id, entries] of byEscrow) {
          const [reserve, ...closes] = entries;
          expect(reserve?.kind).toBe(EntryKind.ENTRY_KIND_RESERVE);
          const settles = closes.filter((e) => e.kind === EntryKind.ENTRY_KIND_SETTLE);
          const refunds = closes.filter((e) => e.kind === EntryKind.ENTRY_KIND_REFUND);
          // Closed once: nothing, one REFUND, or SETTLEs (distinct reserved payees) then at most one REFUND, as one run of seqs.
          expect(refunds.length).toBeLessThanOrEqual(1);
          expect(closes.map((e) => e.kind)).toEqual([...settles.map(() => EntryKind.ENTRY_KIND_SETTLE), ...refunds.map(() => EntryKind.ENTRY_KIND_REFUND)]);
          closes.forEach((e, i) => expect(e.seq).toBe(closes[0].seq + BigInt(i)));
          expect(new Set(settles.map((e) => e.toAccount)).size).toBe(settles.length);
          for (const s of settles) expect(reservedFor.get(id)).toContain(s.toAccount);
          if (closes.length > 0) expect(closes.reduce((sum, e) => sum + e.amount, 0n)).toBe(reserve?.amount);
          const escrow = await ledger.escrow(id);
          expect(escrow?.state).toBe(closes.length === 0 ? 'open' : settles.length > 0 ? 'settled' : 'refunded');
        }
        await ledger.close();
      }),
      { numRuns: 200 },
    );
    expect(multiPayeeSettles).toBeGreaterThan(0);
  });
});

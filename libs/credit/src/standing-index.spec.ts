import type { LedgerEntry } from '@swarm/contracts';
import { EntryKind } from '@swarm/contracts';
import { manualClock, seededRandom } from '@swarm/determinism';
import { createLedger, MAX_ENTRIES_PAGE } from './create-ledger';
import { createMemoryStore } from './memory-store';
import { createStandingIndex, rebuildStanding, STANDING_BUCKETS } from './standing-index';

const HOUR = 3_600_000;
const BUCKET_MS = HOUR / STANDING_BUCKETS;
const T0 = 1_800_000_000_000;

let seq = 0n;
const entry = (kind: EntryKind, to: string, amount: bigint, atMs: number): LedgerEntry => ({
  seq: ++seq,
  kind,
  escrowId: `e${seq}`,
  fromAccount: 'node',
  toAccount: to,
  amount,
  atMs: BigInt(atMs),
});
const paid = (to: string, amount: bigint, atMs: number) => entry(EntryKind.ENTRY_KIND_SETTLE, to, amount, atMs);

describe('standing index - earned in the window', () => {
  it('sums the settle payouts to a payee, ignoring other kinds and other payees; 0 for a node never paid', () => {
    const index = createStandingIndex({ windowMs: HOUR });
    index.record(paid('peer-a', 5n, T0));
    index.record(paid('peer-a', 7n, T0 + 1_000));
    index.record(paid('peer-b', 3n, T0 + 2_000));
    index.record(entry(EntryKind.ENTRY_KIND_REFUND, 'peer-a', 100n, T0 + 3_000));
    index.record(entry(EntryKind.ENTRY_KIND_RESERVE, 'peer-a', 100n, T0 + 3_000));
    index.record(entry(EntryKind.ENTRY_KIND_GENESIS, 'peer-a', 100n, T0 + 3_000));
    expect(index.earned('peer-a', T0 + 5_000)).toBe(12n);
    expect(index.earned('peer-b', T0 + 5_000)).toBe(3n);
    expect(index.earned('free-rider', T0 + 5_000)).toBe(0n);
    expect(index.size()).toBe(2);
  });

  it('lets a payout go once the window has passed the end of its bucket', () => {
    const index = createStandingIndex({ windowMs: HOUR });
    const at = T0 - (T0 % BUCKET_MS) + 10;
    index.record(paid('peer-a', 5n, at));
    index.record(paid('peer-a', 2n, at + 30 * BUCKET_MS));
    // Counted for at least the window...
    expect(index.earned('peer-a', at + HOUR - 1)).toBe(7n);
    // ...and at most one bucket longer: gone when the window starts after its bucket's end.
    const bucketEnd = at - 10 + BUCKET_MS;
    expect(index.earned('peer-a', bucketEnd + HOUR - 1)).toBe(7n);
    expect(index.earned('peer-a', bucketEnd + HOUR)).toBe(2n);
    expect(index.earned('peer-a', at + 30 * BUCKET_MS + HOUR + BUCKET_MS)).toBe(0n);
  });

  it('agrees with a plain sum over every payout, for random payouts over hours', () => {
    const random = seededRandom(14);
    const index = createStandingIndex({ windowMs: HOUR });
    const log: LedgerEntry[] = [];
    let at = T0;
    for (let i = 0; i < 3_000; i += 1) {
      at += Math.floor(random() * 10_000);
      const e = paid(`peer-${Math.floor(random() * 5)}`, BigInt(1 + Math.floor(random() * 100)), at);
      log.push(e);
      index.record(e);
      if (i % 97 === 0) {
        const now = at + Math.floor(random() * HOUR);
        const from = Math.floor((now - HOUR) / BUCKET_MS);
        for (let p = 0; p < 5; p += 1) {
          const want = log.filter((x) => x.toAccount === `peer-${p}` && Math.floor(Number(x.atMs) / BUCKET_MS) >= from).reduce((n, x) => n + x.amount, 0n);
          expect(index.earned(`peer-${p}`, now)).toBe(want);
        }
      }
    }
  });

  it('holds at most maxPayees, forgetting the least recently paid (who then reads 0)', () => {
    const index = createStandingIndex({ windowMs: HOUR, maxPayees: 2 });
    index.record(paid('peer-a', 5n, T0));
    index.record(paid('peer-b', 5n, T0 + 1));
    index.record(paid('peer-a', 1n, T0 + 2));
    index.record(paid('peer-c', 5n, T0 + 3));
    expect(index.size()).toBe(2);
    expect([index.earned('peer-a', T0 + 4), index.earned('peer-b', T0 + 4), index.earned('peer-c', T0 + 4)]).toEqual([6n, 0n, 5n]);
  });

  it('drops payees whose payouts all left the window', () => {
    const index = createStandingIndex({ windowMs: HOUR });
    index.record(paid('peer-a', 5n, T0));
    index.record(paid('peer-b', 5n, T0 + 2 * HOUR));
    expect(index.size()).toBe(1);
  });

  it('refuses a window under a minute and a cap under 1', () => {
    expect(() => createStandingIndex({ windowMs: 59_999 })).toThrow(/windowMs must be a whole number >= 60000/);
    expect(() => createStandingIndex({ windowMs: HOUR, maxPayees: 0 })).toThrow(/maxPayees/);
  });
});

describe('standing index - rebuild from the ledger log', () => {
  it('equals the index kept commit by commit, reading only the window of the log', async () => {
    const clock = manualClock(T0);
    const ledger = await createLedger({ store: createMemoryStore(), clock }, { nodeAccount: 'node', genesisGrant: 1_000_000n });
    const live = createStandingIndex({ windowMs: HOUR });
    const peers = ['peer-a', 'peer-b', 'peer-c'];
    const random = seededRandom(7);
    for (let i = 0; i < 600; i += 1) {
      clock.advance(Math.floor(random() * 60_000));
      const id = `task-${i}`;
      const payee = peers[i % peers.length];
      const reserved = await ledger.reserve({ escrowId: id, account: 'node', amount: 10n, expiresAtMs: 0n, payees: [payee] });
      reserved.entries.forEach((e) => live.record(e));
      // Some tasks fail and are refunded: no standing for them.
      const closed = i % 4 === 3 ? await ledger.refund({ escrowId: id }) : await ledger.settle({ escrowId: id, payee, amount: BigInt(1 + (i % 9)), payouts: [] });
      closed.entries.forEach((e) => live.record(e));
    }
    const now = clock.now();
    const rebuilt = createStandingIndex({ windowMs: HOUR });
    const { fromSeq, scanned } = await rebuildStanding(ledger, rebuilt, now, 50);
    expect(fromSeq).toBeGreaterThan(1n);
    expect(scanned).toBeLessThan(Number(ledger.lastSeq()) / 2);
    expect(Number(fromSeq) - 1 + scanned).toBe(Number(ledger.lastSeq()));
    for (const peer of [...peers, 'free-rider']) {
      for (const later of [0, BUCKET_MS, HOUR / 2]) expect(rebuilt.earned(peer, now + later)).toBe(live.earned(peer, now + later));
    }
    expect(live.earned('peer-a', now)).toBeGreaterThan(0n);
    await ledger.close();
  });

  it('reads nothing from an empty log, and everything when all of it is in the window', async () => {
    const clock = manualClock(T0);
    const ledger = await createLedger({ store: createMemoryStore(), clock }, { nodeAccount: 'node', genesisGrant: 0n });
    expect(await rebuildStanding(ledger, createStandingIndex({ windowMs: HOUR }), T0, MAX_ENTRIES_PAGE)).toEqual({ fromSeq: 1n, scanned: 0 });
    await ledger.close();
    const ledger2 = await createLedger({ store: createMemoryStore(), clock }, { nodeAccount: 'node', genesisGrant: 100n });
    await ledger2.reserve({ escrowId: 't', account: 'node', amount: 10n, expiresAtMs: 0n, payees: ['peer-a'] });
    await ledger2.settle({ escrowId: 't', payee: 'peer-a', amount: 4n, payouts: [] });
    const index = createStandingIndex({ windowMs: HOUR });
    expect(await rebuildStanding(ledger2, index, T0, 1)).toEqual({ fromSeq: 1n, scanned: 4 });
    expect(index.earned('peer-a', T0)).toBe(4n);
    await ledger2.close();
  });
});

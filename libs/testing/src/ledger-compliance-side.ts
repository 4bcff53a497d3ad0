/**
 * The ledger store compliance suite (ledger-compliance.ts), on side records: the chain book's
 * blocks, receipts, outbox and meta records (SideWrite in @swarm/credit) are kept in the same
 * atomic batch as the ledger's own records, as bytes, each space apart and in key order; and a
 * group of operations reads its own staged side writes but never those of a batch that failed.
 */
import { EntryKind, ErrorCode, SwarmError } from '@swarm/contracts';
import type { Change, LedgerStore, SideSpace, SideWrite } from '@swarm/credit';
import { createLedger, emptyAccount, SIDE_SPACES } from '@swarm/credit';
import type { ManualClock } from '@swarm/determinism';
import { instrumented } from './ledger-compliance-instrumented';

export interface SideRecordContext {
  /** The store of the running test (new and closed at its start). */
  store(): LedgerStore;
  readonly clock: ManualClock;
  readonly grant: bigint;
}

const bytes = (...values: number[]) => new Uint8Array(values);
const ascii = (text: string) => new TextEncoder().encode(text);
const put = (space: SideSpace, key: string, value: Uint8Array): SideWrite => ({ space, key, value });
const del = (space: SideSpace, key: string): SideWrite => ({ space, key, value: undefined });
/** A batch of side records only, leaving the log where it is. */
const sideOnly = (store: LedgerStore, side: readonly SideWrite[]) =>
  store.commit({ accounts: [], escrows: [], transfers: [], entries: [], expiryPuts: [], expiryDels: [], nextSeq: store.nextSeq(), side });
/** An operation that writes side records and nothing else, answering `result`. */
const sideChange = <R>(result: R, side: readonly SideWrite[]): Change<R> => ({ result, accounts: [], escrows: [], entries: [], side });
const keysOf = (records: ReadonlyArray<{ readonly key: string }>) => records.map((r) => r.key);

export function sideRecordCompliance(name: string, ctx: SideRecordContext): void {
  describe(`${name} - side records`, () => {
    it('commits side records in one batch with the rest, the last write to a key winning, and keeps them as bytes across a reopen', async () => {
      const store = ctx.store();
      await store.open();
      for (const space of SIDE_SPACES) {
        expect(store.side(space, 'head')).toBeUndefined();
        expect(await store.sideRange(space, '', 10)).toEqual([]);
      }
      const block = bytes(0, 1, 127, 128, 255, 0);
      const account = { ...emptyAccount('node'), available: 10n };
      const entry = { seq: 1n, kind: EntryKind.ENTRY_KIND_GENESIS, escrowId: '', fromAccount: '', toAccount: 'node', amount: 10n, atMs: 7n };
      await store.commit({
        accounts: [account],
        escrows: [],
        transfers: [],
        entries: [entry],
        expiryPuts: [],
        expiryDels: [],
        nextSeq: 2n,
        side: [
          put('block', '00000000000000000001', block),
          put('receipt', 'task-1:peer', ascii('00000000000000000001')),
          put('outbox', 'task-2:peer', bytes(7)),
          put('outbox', 'task-3:peer', bytes(8)),
          del('outbox', 'task-3:peer'),
          put('meta', 'head', bytes(1)),
          put('meta', 'head', bytes(2)),
          put('meta', 'pledged', new Uint8Array(0)),
          // The same key in two spaces: two records.
          put('receipt', 'shared', bytes(3)),
          put('outbox', 'shared', bytes(4)),
        ],
      });
      // The store keeps what was committed, not the caller's array.
      block[0] = 99;

      const check = async () => {
        expect(store.nextSeq()).toBe(2n);
        expect(store.account('node')).toEqual(account);
        expect(await store.entries(1n, 10)).toEqual([entry]);
        expect(store.side('block', '00000000000000000001')).toStrictEqual(bytes(0, 1, 127, 128, 255, 0));
        expect(store.side('receipt', 'task-1:peer')).toStrictEqual(ascii('00000000000000000001'));
        expect(store.side('outbox', 'task-2:peer')).toStrictEqual(bytes(7));
        expect(store.side('outbox', 'task-3:peer')).toBeUndefined();
        expect(store.side('meta', 'head')).toStrictEqual(bytes(2));
        // Empty is a value, not an absence.
        expect(store.side('meta', 'pledged')).toStrictEqual(new Uint8Array(0));
        expect(store.side('receipt', 'shared')).toStrictEqual(bytes(3));
        expect(store.side('outbox', 'shared')).toStrictEqual(bytes(4));
        expect(store.side('block', 'task-1:peer')).toBeUndefined();
        expect(await store.sideRange('outbox', '', 10)).toStrictEqual([
          { key: 'shared', value: bytes(4) },
          { key: 'task-2:peer', value: bytes(7) },
        ]);
        expect(await store.sideRange('meta', '', 10)).toStrictEqual([
          { key: 'head', value: bytes(2) },
          { key: 'pledged', value: new Uint8Array(0) },
        ]);
      };
      await check();
      await store.close();
      await store.open();
      await check();

      // Deletes, one of a key never written; the log and the records stay as they were.
      await sideOnly(store, [del('outbox', 'task-2:peer'), del('outbox', 'never'), del('meta', 'pledged'), put('meta', 'head', bytes(3))]);
      await store.close();
      await store.open();
      expect(store.side('outbox', 'task-2:peer')).toBeUndefined();
      expect(store.side('meta', 'pledged')).toBeUndefined();
      expect(store.side('meta', 'head')).toStrictEqual(bytes(3));
      expect(keysOf(await store.sideRange('outbox', '', 10))).toEqual(['shared']);
      expect(store.nextSeq()).toBe(2n);
      expect(store.account('node')).toEqual(account);
    });

    it('reads a space in key order (byte order) from a key, up to a limit', async () => {
      const store = ctx.store();
      await store.open();
      const seqs = ['00000000000000000010', '00000000000000000002', '00000000000000000001', '00000000000000000011'];
      const ids = ['b', 'B', 'a', '~', ' x', 'a:1', 'a0', 'A-z'];
      await sideOnly(store, [...seqs.map((k, i) => put('block', k, bytes(i))), ...ids.map((k, i) => put('receipt', k, bytes(i)))]);
      expect(await store.sideRange('block', '', 10)).toStrictEqual([
        { key: '00000000000000000001', value: bytes(2) },
        { key: '00000000000000000002', value: bytes(1) },
        { key: '00000000000000000010', value: bytes(0) },
        { key: '00000000000000000011', value: bytes(3) },
      ]);
      expect(keysOf(await store.sideRange('block', '00000000000000000002', 2))).toEqual(['00000000000000000002', '00000000000000000010']);
      // From a key between two: the next one on.
      expect(keysOf(await store.sideRange('block', '00000000000000000003', 10))).toEqual(['00000000000000000010', '00000000000000000011']);
      expect(await store.sideRange('block', '00000000000000000012', 10)).toEqual([]);
      expect(await store.sideRange('block', '', 0)).toEqual([]);
      expect(keysOf(await store.sideRange('receipt', '', 100))).toEqual([' x', 'A-z', 'B', 'a', 'a0', 'a:1', 'b', '~']);
      expect(keysOf(await store.sideRange('receipt', 'a', 3))).toEqual(['a', 'a0', 'a:1']);
      expect(keysOf(await store.sideRange('receipt', 'a1', 10))).toEqual(['a:1', 'b', '~']);
      expect(await store.sideRange('outbox', '', 10)).toEqual([]);
      expect(await store.sideRange('meta', '', 10)).toEqual([]);
    });

    describe(`${name} - side records in a group`, () => {
      const openInstrumented = async () => {
        const probe = instrumented(ctx.store());
        const ledger = await createLedger({ store: probe.store, clock: ctx.clock }, { nodeAccount: 'node', genesisGrant: ctx.grant });
        return { probe, ledger };
      };
      const outcome = (s: PromiseSettledResult<unknown>) => (s.status === 'fulfilled' ? 'ok' : s.reason instanceof SwarmError ? s.reason.code : 'error');

      it('lets a later operation read what an earlier one of its group staged, a delete included, and a refused one stage nothing', async () => {
        const { probe, ledger } = await openInstrumented();
        const commits = probe.commits();
        const outcomes = await Promise.allSettled([
          ledger.run(() => sideChange('queued', [put('outbox', 'r1', bytes(1))])),
          ledger.run((view) => sideChange(view.side('outbox', 'r1'), [del('outbox', 'r1'), put('receipt', 'r1', bytes(2))])),
          ledger.run((view) => sideChange([view.side('outbox', 'r1'), view.side('receipt', 'r1')], [])),
          ledger.run(() => {
            throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, 'refused');
          }),
          // A bad key refuses its operation whole: its good write is not staged either.
          ledger.run(() => sideChange('bad', [put('meta', 'x', bytes(5)), put('meta', '', bytes(6))])),
          ledger.run((view) => sideChange(view.side('meta', 'x'), [])),
        ]);
        expect(outcomes.map(outcome)).toEqual(['ok', 'ok', 'ok', ErrorCode.ERROR_CODE_INVALID_RECEIPT, 'error', 'ok']);
        const answers = outcomes.map((o) => (o.status === 'fulfilled' ? (o.value as { result: unknown }).result : undefined));
        expect(answers[1]).toStrictEqual(bytes(1));
        expect(answers[2]).toStrictEqual([undefined, bytes(2)]);
        expect(answers[5]).toBeUndefined();
        // Issued in one tick: one write, which holds no log entry.
        expect(probe.commits() - commits).toBe(1);
        expect(ledger.lastSeq()).toBe(1n);
        expect(ledger.side('outbox', 'r1')).toBeUndefined();
        expect(ledger.side('receipt', 'r1')).toStrictEqual(bytes(2));
        expect(ledger.side('meta', 'x')).toBeUndefined();
        await ledger.close();

        const store = ctx.store();
        await store.open();
        expect(store.side('receipt', 'r1')).toStrictEqual(bytes(2));
        expect(await store.sideRange('outbox', '', 10)).toEqual([]);
        expect(await store.sideRange('meta', '', 10)).toEqual([]);
      });

      it('leaves no side record of a batch whose write fails, and the next group reads the last durable state', async () => {
        const { probe, ledger } = await openInstrumented();
        await ledger.run(() => sideChange(undefined, [put('meta', 'head', bytes(1))]));
        const diskFull = new Error('disk full');
        probe.failNextCommit(diskFull);
        const failed = await Promise.allSettled([
          ledger.run(() => sideChange(undefined, [put('meta', 'head', bytes(2)), put('outbox', 'r1', bytes(9))])),
          ledger.reserve({ escrowId: 'e1', account: 'node', amount: 5n, expiresAtMs: 0n, payees: ['peer'] }),
          ledger.run((view) => sideChange(view.side('meta', 'head'), [put('receipt', 'r1', bytes(3))])),
        ]);
        expect(failed.map((o) => o.status === 'rejected' && o.reason === diskFull)).toEqual([true, true, true]);
        expect(ledger.side('meta', 'head')).toStrictEqual(bytes(1));
        expect(ledger.side('outbox', 'r1')).toBeUndefined();
        expect(ledger.side('receipt', 'r1')).toBeUndefined();
        expect(ledger.lastSeq()).toBe(1n);

        // The next group sees none of the failed one's staged records.
        const next = await ledger.run((view) => sideChange([view.side('meta', 'head'), view.side('outbox', 'r1')], [put('outbox', 'r2', bytes(4))]));
        expect(next.result).toStrictEqual([bytes(1), undefined]);
        await ledger.close();

        const store = ctx.store();
        await store.open();
        expect(store.side('meta', 'head')).toStrictEqual(bytes(1));
        expect(keysOf(await store.sideRange('outbox', '', 10))).toEqual(['r2']);
        expect(await store.sideRange('receipt', '', 10)).toEqual([]);
        expect(store.escrow('e1')).toBeUndefined();
        expect(store.nextSeq()).toBe(2n);
      });
    });
  });
}

import type { LedgerEntry, RefundResponse } from '@swarm/contracts';
import { EntryKind } from '@swarm/contracts';
import type { Committed } from '@swarm/credit';
import { virtualTime } from '@swarm/determinism';
import { createLogger } from '@swarm/telemetry';
import type { EscrowSweeper } from './escrow-sweeper';
import { EXPIRE_BATCH, startEscrowSweeper } from './escrow-sweeper';

type Expired = Committed<readonly RefundResponse[]>;

const INTERVAL_MS = 1_000;
const refundOf = (escrowId: string): LedgerEntry => ({
  seq: 7n,
  kind: EntryKind.ENTRY_KIND_REFUND,
  escrowId,
  fromAccount: 'node',
  toAccount: 'node',
  amount: 5n,
  atMs: 0n,
});
const nothing: Expired = { result: [], entries: [] };
const fullBatch: Expired = { result: Array.from({ length: EXPIRE_BATCH }, (_, i) => ({ escrowId: `e${i}`, refunded: 1n })), entries: [] };

const START_MS = 1_700_000_000_000;

/** A sweeper over a scripted expireDue, on virtual time: sweeps happen only as the test advances it. */
function sweeperOver(expireDue: (call: number) => Promise<Expired>) {
  const time = virtualTime(START_MS);
  const calls: Array<[number, number]> = [];
  const published: LedgerEntry[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger({ service: 'test', destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } });
  const sweeper: EscrowSweeper = startEscrowSweeper({
    ledger: {
      expireDue: (nowMs, limit) => {
        calls.push([nowMs, limit]);
        return expireDue(calls.length);
      },
    },
    clock: time.clock,
    scheduler: time.scheduler,
    intervalMs: INTERVAL_MS,
    log,
    publish: (e) => published.push(e),
  });
  return { sweeper, time, calls, published, logs };
}

describe('escrow sweeper - loop', () => {
  it('expires what is due at the wall-clock time each interval, publishing the entries and logging each expiry', async () => {
    const s = sweeperOver(async (call) => (call === 1 ? { result: [{ escrowId: 'e1', refunded: 5n }], entries: [refundOf('e1')] } : nothing));
    await s.time.advance(INTERVAL_MS - 1);
    expect(s.calls).toEqual([]);
    await s.time.advance(1);
    expect(s.calls).toEqual([[START_MS + INTERVAL_MS, EXPIRE_BATCH]]);
    expect(s.published).toEqual([refundOf('e1')]);
    expect(s.logs).toMatchObject([{ level: 30, escrowId: 'e1', refunded: '5', msg: 'escrow expired; refunded to its payer' }]);
    await s.time.advance(2 * INTERVAL_MS);
    expect(s.calls).toEqual([
      [START_MS + INTERVAL_MS, EXPIRE_BATCH],
      [START_MS + 2 * INTERVAL_MS, EXPIRE_BATCH],
      [START_MS + 3 * INTERVAL_MS, EXPIRE_BATCH],
    ]);
    await s.sweeper.stop();
  });

  it('sweeps again at once after a full batch', async () => {
    const s = sweeperOver(async (call) => (call <= 2 ? fullBatch : nothing));
    await s.time.advance(INTERVAL_MS);
    const due = START_MS + INTERVAL_MS;
    expect(s.calls).toEqual([
      [due, EXPIRE_BATCH],
      [due, EXPIRE_BATCH],
      [due, EXPIRE_BATCH],
    ]);
    await s.time.advance(INTERVAL_MS - 1);
    expect(s.calls).toHaveLength(3);
    await s.time.advance(1);
    expect(s.calls).toHaveLength(4);
    await s.sweeper.stop();
  });

  it('logs a failed sweep and tries again after the interval', async () => {
    const s = sweeperOver(async (call) => {
      if (call === 1) throw new Error('disk on fire');
      return nothing;
    });
    await s.time.advance(INTERVAL_MS);
    expect(s.logs).toMatchObject([{ level: 50, err: { message: 'disk on fire' } }]);
    await s.time.advance(INTERVAL_MS - 1);
    expect(s.calls).toHaveLength(1);
    await s.time.advance(1);
    expect(s.calls).toHaveLength(2);
    await s.sweeper.stop();
  });

  it('never overlaps sweeps; stop() waits for the running one and starts no more', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = sweeperOver(async () => {
      await gate;
      return nothing;
    });
    await s.time.advance(10 * INTERVAL_MS);
    expect(s.calls).toHaveLength(1);
    let stopped = false;
    const stopping = s.sweeper.stop().then(() => (stopped = true));
    await s.time.advance(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(s.time.pending()).toBe(0);
    await s.time.advance(10 * INTERVAL_MS);
    expect(s.calls).toHaveLength(1);
  });
});

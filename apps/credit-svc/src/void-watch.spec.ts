import type { ChainCursor, VoidBreach, VoidBreachScan } from '@swarm/chain';
import { CHAIN_START } from '@swarm/chain';
import type { SignedVoid } from '@swarm/contracts';
import { Receipt, SwarmError, ErrorCode } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { VoidWatchDeps } from './void-watch';
import { BLOCKS_PER_PAYEE_PASS, PAYEE_READ_BUDGET_MS, PAYEES_PER_PASS, startVoidWatch } from './void-watch';

const NODE = 'a'.repeat(64);
/** Payee ids that sort in order: p00…, p01…. */
const payeeId = (i: number) => `p${String(i).padStart(2, '0')}`.padEnd(64, '0');
const voidTo = (payee: string, id: string): SignedVoid => ({
  receipt: Receipt.encode({ ...Receipt.fromPartial({}), receiptId: id, payer: NODE, payee }).finish(),
  payerSignature: new Uint8Array(64),
  payeeSignature: new Uint8Array(64),
  receiptSignature: new Uint8Array(64),
});
const breachOf = (v: SignedVoid, seq: bigint): VoidBreach => ({ receiptId: Receipt.decode(v.receipt).receiptId, seq, amount: 5n, proof: { signedVoid: v, block: undefined } });

/** `payees` payees with one countersigned void each, as credit-svc pages them (two a page); each chain read on by one block a scan. */
function harness(payees: number, intervalMs = 0) {
  const voids = Array.from({ length: payees }, (_, i) => voidTo(payeeId(i), `task-${String(i).padStart(2, '0')}:${NODE}:${payeeId(i)}`));
  const scans: { payee: string; from: ChainCursor; voids: number; maxBlocks: number; stop?: () => boolean }[] = [];
  /** Per payee: what its next scan finds (default: one block, nothing found). */
  const next = new Map<string, () => VoidBreachScan>();
  /** Per payee: what its next scans find, one each, before `next` (for a pass's read on and catch-up). */
  const plan = new Map<string, Array<(from: ChainCursor) => VoidBreachScan | Promise<VoidBreachScan>>>();
  const calls = { reinstate: [] as string[], report: [] as string[], failReinstate: 0, failReport: 0 };
  const time = virtualTime(0);
  const deps: VoidWatchDeps = {
    nodeId: NODE,
    paidVoids: async (afterId) => {
      const from = afterId === '' ? 0 : voids.findIndex((v) => Receipt.decode(v.receipt).receiptId === afterId) + 1;
      const page = voids.slice(from, from + 2);
      return { voids: page, nextAfterId: from + 2 < voids.length ? Receipt.decode(page[1].receipt).receiptId : '' };
    },
    fetchChain: () => async () => ({ blocks: [], headSeq: 0n, nodeId: '' }),
    scan: async (_fetch, scan) => {
      scans.push({ payee: scan.payee, from: scan.from, voids: scan.voids.length, maxBlocks: scan.maxBlocks, ...(scan.stop ? { stop: scan.stop } : {}) });
      const planned = plan.get(scan.payee)?.shift();
      if (planned) return planned(scan.from);
      const found = next.get(scan.payee);
      next.delete(scan.payee);
      return found ? found() : { cursor: { seq: scan.from.seq + 1n, hash: new Uint8Array(32) }, blocksRead: 1, breaches: [] };
    },
    reinstate: async (proof) => {
      const id = Receipt.decode(proof.signedVoid?.receipt ?? new Uint8Array()).receiptId;
      if (calls.failReinstate > 0) {
        calls.failReinstate -= 1;
        throw new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'no room');
      }
      calls.reinstate.push(id);
      return true;
    },
    report: async (proof) => {
      if (calls.failReport > 0) {
        calls.failReport -= 1;
        throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no router');
      }
      calls.report.push(Receipt.decode(proof.signedVoid?.receipt ?? new Uint8Array()).receiptId);
    },
    scheduler: time.scheduler,
    stopwatch: time.stopwatch,
    intervalMs,
    log: silentLogger(),
  };
  return { voids, scans, next, plan, calls, time, deps };
}

describe('the watch over payees that countersigned voids', () => {
  it('reads every payee in turn, PAYEES_PER_PASS a pass, each on from where it got to', async () => {
    const h = harness(PAYEES_PER_PASS + 4);
    const watch = startVoidWatch(h.deps);
    expect(await watch.pass()).toEqual({ payees: PAYEES_PER_PASS, blocksRead: PAYEES_PER_PASS, breaches: 0, paid: 0, failed: 0 });
    expect(h.scans.map((s) => s.payee)).toEqual(Array.from({ length: PAYEES_PER_PASS }, (_, i) => payeeId(i)));
    expect(h.scans.every((s) => s.from === CHAIN_START)).toBe(true);
    h.scans.length = 0;
    await watch.pass();
    // The four not read yet first, then round again: each of those on from its cursor.
    expect(h.scans.map((s) => s.payee)).toEqual([...[16, 17, 18, 19], ...Array.from({ length: 12 }, (_, i) => i)].map(payeeId));
    expect(h.scans.map((s) => s.from.seq)).toEqual([...Array<bigint>(4).fill(0n), ...Array<bigint>(12).fill(1n)]);
    await watch.stop();
  });

  it('pays a breach after all and proves it to the router, each once and on its own; what failed is tried again next pass', async () => {
    const h = harness(3);
    const watch = startVoidWatch(h.deps);
    const breach = breachOf(h.voids[1], 4n);
    h.next.set(payeeId(1), () => ({ cursor: { seq: 4n, hash: new Uint8Array(32) }, blocksRead: 4, breaches: [breach] }));
    // The ledger cannot pay it yet: the proof goes to the router all the same.
    h.calls.failReinstate = 1;
    expect(await watch.pass()).toEqual({ payees: 3, blocksRead: 6, breaches: 1, paid: 0, failed: 1 });
    expect([h.calls.reinstate, h.calls.report]).toEqual([[], [breach.receiptId]]);
    // Next pass: paid (the chain is not read again for it), not proven again.
    expect(await watch.pass()).toMatchObject({ breaches: 0, paid: 1, failed: 0 });
    expect([h.calls.reinstate, h.calls.report]).toEqual([[breach.receiptId], [breach.receiptId]]);
    expect(watch.stats()).toEqual({ passes: 2, breachesFound: 1, receiptsPaid: 1, brokenChains: 0 });
    await watch.pass();
    expect([h.calls.reinstate, h.calls.report]).toEqual([[breach.receiptId], [breach.receiptId]]);

    // Another breach: paid, the router unreachable once, proven at the next pass.
    const other = breachOf(h.voids[2], 9n);
    h.next.set(payeeId(2), () => ({ cursor: { seq: 9n, hash: new Uint8Array(32) }, blocksRead: 5, breaches: [other] }));
    h.calls.failReport = 1;
    expect(await watch.pass()).toMatchObject({ breaches: 1, paid: 1, failed: 1 });
    expect(await watch.pass()).toMatchObject({ breaches: 0, paid: 0, failed: 0 });
    expect([h.calls.reinstate, h.calls.report]).toEqual([
      [breach.receiptId, other.receiptId],
      [breach.receiptId, other.receiptId],
    ]);
    await watch.stop();
  });

  it('goes on past a payee it cannot reach, and forgets payees without voids', async () => {
    const h = harness(3);
    const watch = startVoidWatch(h.deps);
    h.next.set(payeeId(0), () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no address known');
    });
    expect(await watch.pass()).toEqual({ payees: 2, blocksRead: 2, breaches: 0, paid: 0, failed: 1 });
    h.voids.splice(1, 1);
    h.scans.length = 0;
    await watch.pass();
    expect(h.scans.map((s) => [s.payee, s.from.seq])).toEqual([
      [payeeId(0), 0n],
      [payeeId(2), 1n],
    ]);
    await watch.stop();
  });

  it('runs a pass every interval on the scheduler, none with interval 0, and none after stop', async () => {
    const h = harness(1, 1_000);
    const watch = startVoidWatch(h.deps);
    await h.time.advance(999);
    expect(h.scans).toHaveLength(0);
    await h.time.advance(1);
    await h.time.advance(1_000);
    expect(h.scans).toHaveLength(2);
    await watch.stop();
    await h.time.advance(5_000);
    expect(h.scans).toHaveLength(2);

    const off = harness(1, 0);
    const idle = startVoidWatch(off.deps);
    await off.time.advance(3_600_000);
    expect(off.scans).toHaveLength(0);
    await idle.stop();
  });

  it('aborts the requests of a running pass at stop', async () => {
    const h = harness(2);
    let seen: AbortSignal | undefined;
    let started!: () => void;
    const reading = new Promise<void>((resolve) => (started = resolve));
    h.deps.fetchChain = (_peer, signal) => {
      seen = signal;
      return async () => ({ blocks: [], headSeq: 0n, nodeId: '' });
    };
    h.deps.scan = async (fetch) => {
      await fetch(1n, 1);
      started();
      await new Promise<void>((resolve) => seen?.addEventListener('abort', () => resolve()));
      throw new Error('aborted');
    };
    const watch = startVoidWatch(h.deps);
    const pass = watch.pass();
    await reading;
    await watch.stop();
    expect(seen?.aborted).toBe(true);
    // The second payee is not read after stop.
    expect(await pass).toMatchObject({ payees: 0, failed: 1 });
  });

  it('reads a chain from its start again for a void new since the read passed its blocks, without the read on going back', async () => {
    const h = harness(1);
    const watch = startVoidWatch(h.deps);
    const breach = breachOf(h.voids[0], 2n);
    h.next.set(payeeId(0), () => ({ cursor: { seq: 3n, hash: new Uint8Array(32) }, blocksRead: 3, breaches: [breach] }));
    await watch.pass();
    await watch.pass();
    // A void countersigned later: its receipt's block may lie behind the read (at seq 4 now).
    h.voids.push(voidTo(payeeId(0), `task-late:${NODE}:${payeeId(0)}`));
    h.scans.length = 0;
    await watch.pass();
    // The read on goes on from 4 with both voids (to 5, one block a read here); a catch-up reads
    // blocks 1..5 for the new one only.
    expect(h.scans.map((x) => [x.from.seq, x.voids, x.maxBlocks])).toEqual([
      [4n, 2, BLOCKS_PER_PAYEE_PASS],
      [0n, 1, 5],
    ]);
    // Another void meanwhile waits for the next catch-up: the running one is not started again.
    h.voids.push(voidTo(payeeId(0), `task-later:${NODE}:${payeeId(0)}`));
    h.scans.length = 0;
    await watch.pass();
    expect(h.scans.map((x) => [x.from.seq, x.voids, x.maxBlocks])).toEqual([
      [5n, 3, BLOCKS_PER_PAYEE_PASS],
      [1n, 1, 4],
    ]);
    // The catch-up ends at 5, then the next one begins, up to where the read on is then.
    h.scans.length = 0;
    for (let i = 0; i < 4; i++) await watch.pass();
    expect(h.scans.map((x) => [x.from.seq, x.voids])).toEqual([
      [6n, 3],
      [2n, 1],
      [7n, 3],
      [3n, 1],
      [8n, 3],
      [4n, 1],
      [9n, 3],
      [0n, 1],
    ]);
    expect(h.scans[7].maxBlocks).toBe(10);
    // A breach read again (as a catch-up from the start would) is not paid, proven or counted again.
    h.next.set(payeeId(0), () => ({ cursor: { seq: 11n, hash: new Uint8Array(32) }, blocksRead: 1, breaches: [breach] }));
    await watch.pass();
    expect([h.calls.reinstate, h.calls.report]).toEqual([[breach.receiptId], [breach.receiptId]]);
    expect(watch.stats()).toMatchObject({ breachesFound: 1, receiptsPaid: 1 });
    await watch.stop();
  });

  it('reads a long chain on from its head at once, every void caught up from the start, when it starts over', async () => {
    const h = harness(2);
    const head = { seq: 50_000n, hash: new Uint8Array(32) };
    h.deps.headOf = async (payee) => (payee === payeeId(0) ? head : undefined);
    const watch = startVoidWatch(h.deps);
    const appended = breachOf(h.voids[0], 50_001n);
    h.next.set(payeeId(0), () => ({ cursor: { seq: 50_001n, hash: new Uint8Array(32) }, blocksRead: 1, breaches: [appended] }));
    await watch.pass();
    // The long chain: read on from its head (the block appended since is read at once), and the
    // 50,001 blocks before caught up a pass's worth at a time; the short one: from its start.
    expect(h.scans.map((x) => [x.payee, x.from.seq, x.voids, x.maxBlocks])).toEqual([
      [payeeId(0), 50_000n, 1, BLOCKS_PER_PAYEE_PASS],
      [payeeId(0), 0n, 1, BLOCKS_PER_PAYEE_PASS],
      [payeeId(1), 0n, 1, BLOCKS_PER_PAYEE_PASS],
    ]);
    expect([h.calls.reinstate, h.calls.report]).toEqual([[appended.receiptId], [appended.receiptId]]);
    h.scans.length = 0;
    await watch.pass();
    expect(h.scans.map((x) => [x.payee, x.from.seq])).toEqual([
      [payeeId(0), 50_001n],
      [payeeId(0), 1n],
      [payeeId(1), 1n],
    ]);
    await watch.stop();
  });

  it('reads a chain again when its catch-up does not come to the head the read on went on from (a head the payee made up)', async () => {
    const h = harness(1);
    const made = { seq: 10n ** 12n, hash: new Uint8Array(32).fill(1) };
    let heads = 0;
    h.deps.headOf = async () => {
      heads += 1;
      return made;
    };
    const watch = startVoidWatch(h.deps);
    // The read on finds nothing past the made-up head; the catch-up reads the real chain, which ends at 3.
    const nothingPast = (from: ChainCursor) => ({ cursor: from, blocksRead: 0, breaches: [] });
    h.plan.set(payeeId(0), [nothingPast, () => ({ cursor: { seq: 3n, hash: new Uint8Array(32) }, blocksRead: 3, breaches: [] }), nothingPast, nothingPast]);
    await watch.pass();
    expect(watch.stats().brokenChains).toBe(0);
    await watch.pass();
    // It ends before the head: the chain is read again from the start, a head asked for again.
    expect(watch.stats().brokenChains).toBe(1);
    await watch.pass();
    expect(heads).toBe(2);
    await watch.stop();
  });

  it('pays and proves a breach a catch-up finds; a broken catch-up has the chain read again from its start; a failed one keeps the read on', async () => {
    const h = harness(1);
    const watch = startVoidWatch(h.deps);
    const at = (seq: bigint) => ({ seq, hash: new Uint8Array(32) });
    await watch.pass(); // read on to 1
    h.voids.push(voidTo(payeeId(0), `task-late:${NODE}:${payeeId(0)}`));
    const late = breachOf(h.voids[1], 1n);
    // The read on to 2, then the catch-up over 1..2 finds the late void's receipt.
    h.plan.set(payeeId(0), [(from) => ({ cursor: at(from.seq + 1n), blocksRead: 1, breaches: [] }), () => ({ cursor: at(2n), blocksRead: 2, breaches: [late] })]);
    expect(await watch.pass()).toMatchObject({ breaches: 1, paid: 1, failed: 0 });
    expect([h.calls.reinstate, h.calls.report]).toEqual([[late.receiptId], [late.receiptId]]);

    // A third void: its catch-up throws (the payee unreachable), the read on keeps what it read.
    h.voids.push(voidTo(payeeId(0), `task-later:${NODE}:${payeeId(0)}`));
    h.plan.set(payeeId(0), [
      (from) => ({ cursor: at(from.seq + 1n), blocksRead: 1, breaches: [] }),
      () => {
        throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no address known');
      },
    ]);
    expect(await watch.pass()).toMatchObject({ payees: 1, blocksRead: 1, failed: 1 });
    h.scans.length = 0;
    // Then the catch-up is tried again (from the start, up to 3), and finds the chain is not the one read before.
    h.plan.set(payeeId(0), [
      (from) => ({ cursor: at(from.seq + 1n), blocksRead: 1, breaches: [] }),
      () => ({ cursor: CHAIN_START, blocksRead: 0, breaches: [], broken: 'block 1 is of another node' }),
    ]);
    await watch.pass();
    expect(h.scans.map((x) => [x.from.seq, x.voids, x.maxBlocks])).toEqual([
      [3n, 3, BLOCKS_PER_PAYEE_PASS],
      [0n, 1, 3],
    ]);
    expect(watch.stats().brokenChains).toBe(1);
    // Everything is read again from the start, with every void.
    h.scans.length = 0;
    await watch.pass();
    expect(h.scans.map((x) => [x.from.seq, x.voids])).toEqual([[0n, 3]]);
    await watch.stop();
  });

  it('gives the read on and the catch-up a time budget each', async () => {
    const h = harness(1);
    const watch = startVoidWatch(h.deps);
    await watch.pass();
    h.voids.push(voidTo(payeeId(0), `task-late:${NODE}:${payeeId(0)}`));
    // The read on spends its whole budget; the catch-up still gets one of its own.
    h.plan.set(payeeId(0), [
      async (from) => {
        await h.time.advance(PAYEE_READ_BUDGET_MS + 1);
        return { cursor: { seq: from.seq + 1n, hash: new Uint8Array(32) }, blocksRead: 1, breaches: [] };
      },
    ]);
    await watch.pass();
    const [readOn, catchUp] = h.scans.slice(-2);
    expect(readOn.stop?.()).toBe(true);
    expect(catchUp.stop?.()).toBe(false);
    await watch.stop();
  });

  it('counts a chain that did not go on, and gives each payee a time budget', async () => {
    const h = harness(1);
    const watch = startVoidWatch(h.deps);
    h.next.set(payeeId(0), () => ({ cursor: CHAIN_START, blocksRead: 0, breaches: [], broken: 'block 5 does not link to block 4 as read before' }));
    await watch.pass();
    expect(watch.stats().brokenChains).toBe(1);
    const { stop } = h.scans[0];
    expect(stop?.()).toBe(false);
    await h.time.advance(PAYEE_READ_BUDGET_MS + 1);
    expect(stop?.()).toBe(true);
    await watch.stop();
  });
});

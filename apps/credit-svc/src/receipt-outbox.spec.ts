import { ReceiptRefusal } from '@swarm/chain';
import type { LedgerEntry } from '@swarm/contracts';
import { ErrorCode, RECEIPTS_PER_DELIVERY, SwarmError } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { ReceiptOutboxDeps } from './receipt-outbox';
import { fakeBook, signed } from './test-fixtures/outbox-book';
import { CALLS_PER_PAYEE, HELD_PATIENCE_MS, MAX_CALLS_IN_FLIGHT, MAX_RETRY_MS, OFFER_ROUND_MS, OUTBOX_PAGE, startReceiptOutbox } from './receipt-outbox';

const refusedVoids: ReceiptOutboxDeps['deliverVoids'] = async () => {
  throw new Error('no void expected in this test');
};

/** The outbox on virtual time, passes every 100 ms, over `book` and `deliver`. */
function startOn(
  time: ReturnType<typeof virtualTime>,
  book: ReceiptOutboxDeps['book'],
  deliver: ReceiptOutboxDeps['deliver'],
  deliverVoids = refusedVoids,
  announce: (entries: readonly LedgerEntry[]) => void = () => undefined,
) {
  return startReceiptOutbox({ book, deliver, deliverVoids, announce, stopwatch: time.stopwatch, scheduler: time.scheduler, intervalMs: 100, log: silentLogger() });
}

describe('receipt outbox', () => {
  it('delivers the receipts behind many whose payee is down, and keeps retrying those', async () => {
    const time = virtualTime(0);
    // Ids sort the stuck ones first: three pages of them before the live one.
    const dead = Array.from({ length: 3 * OUTBOX_PAGE }, (_, i) => `dead-${String(i).padStart(4, '0')}`);
    const book = fakeBook([...dead, 'live-1']);
    const attempts = new Map<string, number>();
    const outbox = startOn(time, book, async (payee, receipts) => {
      for (const receipt of receipts) {
        const id = new TextDecoder().decode(receipt.receipt);
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
      }
      if (payee === 'dead') throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no address known (test)', true);
      return receipts.map((countersigned) => ({ countersigned }));
    });
    try {
      await time.advance(1_000);
      expect(book.outbox.has('live-1')).toBe(false);
      expect(book.outbox.size).toBe(dead.length);
      expect(outbox.failing()).toMatchObject({ count: dead.length });
      expect(outbox.failing().oldestMs).toBeGreaterThan(500);
      // Every stuck receipt was tried, and is tried again later (backoff, not abandonment).
      expect(dead.every((id) => (attempts.get(id) ?? 0) >= 1)).toBe(true);
      await time.advance(3 * MAX_RETRY_MS);
      expect(dead.every((id) => (attempts.get(id) ?? 0) >= 3)).toBe(true);
      // None more often than its backoff allows: doubling from 0.5 s to a minute.
      expect(Math.max(...dead.map((id) => attempts.get(id) ?? 0))).toBeLessThan(12);
    } finally {
      await outbox.stop();
    }
  });

  it('tries a receipt whose payee has failed for a day (a node gone for good) about once an hour, and keeps it', async () => {
    const time = virtualTime(0);
    const book = fakeBook(['gone-1']);
    let attempts = 0;
    const outbox = startReceiptOutbox({
      book,
      deliver: async () => {
        attempts += 1;
        throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no address known (test)', true);
      },
      deliverVoids: refusedVoids,
      announce: () => undefined,
      stopwatch: time.stopwatch,
      scheduler: time.scheduler,
      intervalMs: 60_000,
      log: silentLogger(),
    });
    try {
      for (let hour = 0; hour < 24; hour++) await time.advance(3_600_000);
      // The first day: about once a minute.
      const firstDay = attempts;
      expect(firstDay).toBeGreaterThan(1_300);
      for (let hour = 0; hour < 10; hour++) await time.advance(3_600_000);
      // Then 2, 4, … 32 minutes, an hour: six tries to reach the hour, one an hour after.
      expect(attempts - firstDay).toBeGreaterThanOrEqual(8);
      expect(attempts - firstDay).toBeLessThanOrEqual(16);
      expect(book.outbox.has('gone-1')).toBe(true);
      expect(outbox.failing().count).toBe(1);
    } finally {
      await outbox.stop();
    }
  });

  it('tries again when a payee answering OVERLOADED says, without doubling its wait: the payee is busy, not failing', async () => {
    const time = virtualTime(0);
    const book = fakeBook(['busy-1', 'full-1']);
    const attempts = new Map<string, number>();
    let open = false;
    const outbox = startOn(time, book, async (payee, receipts) => {
      attempts.set(payee, (attempts.get(payee) ?? 0) + 1);
      if (open) return receipts.map((countersigned) => ({ countersigned }));
      // busy: one item's OVERLOADED with a hint (a payee's seldom budget); full: the whole call refused without one.
      if (payee === 'full') throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'peer has 8 calls in flight (test)', true);
      return receipts.map(() => ({ error: { code: ErrorCode.ERROR_CODE_OVERLOADED, message: 'busy (test)', retryable: true, retryAfterMs: 2_000 } }));
    });
    try {
      await time.advance(60_000);
      // Every ~2 s as told, not 0.5, 1, 2, … 32 s.
      expect(attempts.get('busy')).toBeGreaterThanOrEqual(25);
      expect(attempts.get('busy')).toBeLessThanOrEqual(31);
      expect(attempts.get('full')).toBeLessThanOrEqual(8);
      open = true;
      await time.advance(3_000);
      expect(book.outbox.has('busy-1')).toBe(false);
    } finally {
      await outbox.stop();
    }
  });

  it(`follows a hold's 1 s hint for ${HELD_PATIENCE_MS / 1_000} s, then doubles its wait to a minute: a payee holding a receipt for an hour gets about 130 calls, not 3,600`, async () => {
    const time = virtualTime(0);
    const book = fakeBook(['holder-1']);
    const callsAt: number[] = [];
    let open = false;
    const outbox = startOn(time, book, async (_payee, receipts) => {
      callsAt.push(time.stopwatch.now());
      if (open) return receipts.map((countersigned) => ({ countersigned }));
      return receipts.map(() => ({ error: { code: ErrorCode.ERROR_CODE_OVERLOADED, message: 'held until a clean look (test)', retryable: true, retryAfterMs: 1_000 } }));
    });
    try {
      await time.advance(HELD_PATIENCE_MS);
      // The first minute as told: a hold that clears soon costs the receipt a second at most.
      expect(callsAt.length).toBeGreaterThanOrEqual(50);
      await time.advance(3_600_000 - HELD_PATIENCE_MS);
      expect(callsAt.length).toBeLessThanOrEqual(140);
      const gaps = callsAt.slice(-10).map((at, i, all) => (i === 0 ? MAX_RETRY_MS : at - all[i - 1]));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(MAX_RETRY_MS);
      open = true;
      await time.advance(MAX_RETRY_MS + 1_000);
      expect(book.outbox.has('holder-1')).toBe(false);
    } finally {
      await outbox.stop();
    }
  });

  it("sends one payee's receipts in one call, and applies each outcome on its own", async () => {
    const time = virtualTime(0);
    const ids = [...Array.from({ length: 40 }, (_, i) => `alice-${String(i).padStart(2, '0')}`), 'bob-1', 'bob-2'];
    const book = fakeBook(ids);
    const calls: { payee: string; ids: string[] }[] = [];
    const outbox = startOn(time, book, async (payee, receipts) => {
      const sent = receipts.map((r) => new TextDecoder().decode(r.receipt));
      calls.push({ payee, ids: sent });
      // alice refuses her receipt 07 the first time (its own outcome): the others of the call go through.
      return receipts.map((countersigned, i) =>
        sent[i] === 'alice-07' && calls.filter((c) => c.ids.includes('alice-07')).length === 1
          ? { error: new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'busy (test)', true) }
          : { countersigned },
      );
    });
    try {
      await time.advance(50);
      // The first pass: one call per payee, all of that payee's receipts in it.
      expect(calls.slice(0, 2).sort((x, y) => x.payee.localeCompare(y.payee))).toEqual([
        { payee: 'alice', ids: ids.slice(0, 40) },
        { payee: 'bob', ids: ['bob-1', 'bob-2'] },
      ]);
      expect([...book.outbox.keys()]).toEqual(['alice-07']);
      expect(outbox.failing().count).toBe(1);
      // Its backoff over, the refused one goes again, alone, and is delivered.
      await time.advance(1_000);
      expect(calls.slice(2)).toEqual([{ payee: 'alice', ids: ['alice-07'] }]);
      expect(book.outbox.size).toBe(0);
      expect(outbox.failing().count).toBe(0);
    } finally {
      await outbox.stop();
    }
  });

  it('never sends more than one call can carry', async () => {
    const time = virtualTime(0);
    const book = fakeBook(Array.from({ length: 2 * RECEIPTS_PER_DELIVERY + 5 }, (_, i) => `carol-${String(i).padStart(4, '0')}`));
    const sizes: number[] = [];
    const outbox = startOn(time, book, async (_payee, receipts) => {
      sizes.push(receipts.length);
      return receipts.map((countersigned) => ({ countersigned }));
    });
    try {
      await time.advance(1_000);
      expect(book.outbox.size).toBe(0);
      expect(sizes).toEqual([RECEIPTS_PER_DELIVERY, RECEIPTS_PER_DELIVERY, 5]);
    } finally {
      await outbox.stop();
    }
  });
  it("goes on delivering other payees' receipts while a payee's call hangs, and sends none of the hung call's receipts twice", async () => {
    const time = virtualTime(0);
    const book = fakeBook(['slow-1', 'slow-2']);
    const sent = new Map<string, number>();
    let release: (() => void) | undefined;
    const outbox = startOn(time, book, async (payee, receipts) => {
      for (const r of receipts) {
        const id = new TextDecoder().decode(r.receipt);
        sent.set(id, (sent.get(id) ?? 0) + 1);
      }
      // slow's first call answers only when the test says so (a payee that takes its whole timeout).
      if (payee === 'slow' && release === undefined) await new Promise<void>((resolve) => (release = resolve));
      return receipts.map((countersigned) => ({ countersigned }));
    });
    try {
      await time.advance(50);
      expect(release).toBeDefined();
      // Settles go on paying fast, whose receipts are delivered by the passes after, slow's call still open.
      for (let round = 0; round < 5; round++) {
        book.outbox.set(`fast-${round}`, { receiptId: `fast-${round}`, payee: 'fast', amount: 1n, signed: signed(`fast-${round}`) });
        outbox.kick();
        await time.advance(200);
        expect(book.outbox.has(`fast-${round}`)).toBe(false);
      }
      expect([...book.outbox.keys()]).toEqual(['slow-1', 'slow-2']);
      // The hung call's receipts are in no other call while it is open.
      expect([sent.get('slow-1'), sent.get('slow-2')]).toEqual([1, 1]);
      release?.();
      await time.advance(50);
      expect(book.outbox.size).toBe(0);
      expect(outbox.failing().count).toBe(0);
    } finally {
      release?.();
      await outbox.stop();
    }
  });

  it(`has at most ${CALLS_PER_PAYEE} calls to one payee and ${MAX_CALLS_IN_FLIGHT} to all of them in flight at once`, async () => {
    const time = virtualTime(0);
    const payees = Array.from({ length: MAX_CALLS_IN_FLIGHT + 4 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    // Three calls' worth for each payee.
    const ids = payees.flatMap((p) => Array.from({ length: 3 * RECEIPTS_PER_DELIVERY }, (_, i) => `${p}-${String(i).padStart(4, '0')}`));
    const book = fakeBook(ids);
    const open = new Map<string, number>();
    let most = 0;
    let mostToOne = 0;
    const waiting: (() => void)[] = [];
    const outbox = startOn(time, book, async (payee, receipts) => {
      open.set(payee, (open.get(payee) ?? 0) + 1);
      most = Math.max(
        most,
        [...open.values()].reduce((a, b) => a + b, 0),
      );
      mostToOne = Math.max(mostToOne, ...open.values());
      await new Promise<void>((resolve) => waiting.push(resolve));
      open.set(payee, (open.get(payee) ?? 1) - 1);
      return receipts.map((countersigned) => ({ countersigned }));
    });
    try {
      // Calls end only when let go, a few at a time, until every receipt is delivered.
      for (let step = 0; step < 500 && book.outbox.size > 0; step++) {
        await time.advance(10);
        waiting.splice(0, 3).forEach((go) => go());
      }
      expect(book.outbox.size).toBe(0);
      expect(most).toBe(MAX_CALLS_IN_FLIGHT);
      expect(mostToOne).toBe(CALLS_PER_PAYEE);
    } finally {
      waiting.forEach((go) => go());
      await outbox.stop();
    }
  });
  it('never sends again a receipt completed while a pass was reading the outbox (a read answers from an older snapshot)', async () => {
    const time = virtualTime(0);
    const book = fakeBook(['a-1']);
    let heldRead: (() => void) | undefined;
    let holdReads = false;
    const pending = book.pending;
    // As a LevelDB iterator: the snapshot is taken when the read starts, the answer comes later.
    const snapshotting = {
      ...book,
      pending: async (limit: number, afterId?: string) => {
        const snapshot = await pending(limit, afterId);
        if (holdReads) await new Promise<void>((resolve) => (heldRead = resolve));
        return snapshot;
      },
    };
    let sends = 0;
    let finishFirst: (() => void) | undefined;
    const outbox = startOn(time, snapshotting, async (_payee, receipts) => {
      sends += 1;
      if (sends === 1) await new Promise<void>((resolve) => (finishFirst = resolve));
      else throw new SwarmError(ErrorCode.ERROR_CODE_RATE_LIMITED, 'slow down (test)', true);
      return receipts.map((countersigned) => ({ countersigned }));
    });
    try {
      await time.advance(1);
      expect(sends).toBe(1);
      // A settle kicks a pass: its read sees a-1, then a-1's call completes before the read answers.
      holdReads = true;
      outbox.kick();
      await new Promise((resolve) => setImmediate(resolve));
      holdReads = false;
      finishFirst?.();
      await new Promise((resolve) => setImmediate(resolve));
      expect(book.outbox.size).toBe(0);
      heldRead?.();
      await time.advance(10 * MAX_RETRY_MS);
      expect(sends).toBe(1);
      expect(outbox.failing()).toEqual({ count: 0, oldestMs: 0 });
    } finally {
      finishFirst?.();
      heldRead?.();
      await outbox.stop();
    }
  });

  it('voids a receipt its payee refuses for good, and only such a one', async () => {
    const time = virtualTime(0);
    const book = fakeBook(['bob-bad', 'bob-busy', 'bob-broken', 'bob-short', 'carol-paid']);
    const receiptCalls: string[][] = [];
    const voidCalls: string[][] = [];
    const mixedCalls: string[][] = [];
    const announced: LedgerEntry[] = [];
    const idOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const outbox = startOn(
      time,
      book,
      async (_payee, receipts) => {
        const ids = receipts.map((r) => idOf(r.receipt));
        receiptCalls.push(ids);
        if (receipts.some((r) => r.payerSignature[0] === 1)) mixedCalls.push(ids);
        return ids.map((id, i) => {
          // A verdict on the receipt: refused for good.
          if (id === 'bob-bad') return { error: new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, 'not your ticket (test)', false) };
          // Passing faults of the payee: retried, never voided (a void would cost it its pay).
          if (id === 'bob-busy') return { error: new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'ledger busy (test)', true) };
          if (id === 'bob-broken') return { error: new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'disk error (test)', false) };
          // A refusal that may pass (a receipt dated ahead of the payee's clock): tried again, never voided.
          if (id === 'bob-short') return { error: new ReceiptRefusal('dated-ahead', 'dated ahead of the payee clock (test)') };
          // carol refuses at first, then it turns out she had countersigned: her void answer is the receipt.
          if (id === 'carol-paid') return { error: new SwarmError(ErrorCode.ERROR_CODE_PERMISSION_DENIED, 'refused (test)', false) };
          return { countersigned: receipts[i] };
        });
      },
      async (_payee, voids) => {
        voidCalls.push(voids.map((v) => idOf(v.receipt)));
        if (voids.some((v) => v.payerSignature[0] !== 1)) mixedCalls.push(voids.map((v) => idOf(v.receipt)));
        return voids.map((v) => {
          expect(v.payerSignature[0]).toBe(1);
          return idOf(v.receipt) === 'carol-paid' ? { countersigned: { ...v, payeeSignature: new Uint8Array(64) } } : { voided: { ...v, payeeSignature: new Uint8Array(64) } };
        });
      },
      (entries) => announced.push(...entries),
    );
    try {
      await time.advance(5_000);
      // Each refused-for-good receipt went once as a receipt, then as a void; the others never as a void.
      expect(voidCalls.flat().sort()).toEqual(['bob-bad', 'carol-paid']);
      // A payee's voids and receipts never share a call (two rpcs).
      expect(mixedCalls).toEqual([]);
      expect(receiptCalls.flat().filter((id) => id === 'bob-bad')).toHaveLength(1);
      expect(book.outbox.has('bob-bad')).toBe(false);
      expect(book.outbox.has('carol-paid')).toBe(false);
      expect(announced.map((e) => e.escrowId)).toEqual(['bob-bad']);
      // Still retried as receipts, with their backoff.
      expect([...book.outbox.keys()].sort()).toEqual(['bob-broken', 'bob-busy', 'bob-short']);
      expect(receiptCalls.flat().filter((id) => id === 'bob-busy').length).toBeGreaterThan(2);
      expect(receiptCalls.flat().filter((id) => id === 'bob-short').length).toBeGreaterThan(2);
      expect(outbox.failing().count).toBe(3);
    } finally {
      await outbox.stop();
    }
  });

  it('sends a payee that predates voids its receipt again instead of a void it cannot answer', async () => {
    const time = virtualTime(0);
    const book = fakeBook(['old-1']);
    let receiptTries = 0;
    let voidTries = 0;
    let clocksAgree = false;
    const outbox = startOn(
      time,
      book,
      async (_payee, receipts) => {
        receiptTries += 1;
        // An older payee refuses a receipt dated ahead of its clock for good (it had no retryable reason for it).
        if (!clocksAgree) return receipts.map(() => ({ error: new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, 'dated 9000 ms ahead (test)', false) }));
        return receipts.map((countersigned) => ({ countersigned }));
      },
      async () => {
        voidTries += 1;
        throw new SwarmError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'old-node: does not implement this call (test)', false);
      },
    );
    try {
      await time.advance(3_000);
      // Refused, voided, the void unknown to it: the receipt is sent again (and refused again meanwhile).
      expect({ voids: voidTries > 0, receiptsAgain: receiptTries > 1 }).toEqual({ voids: true, receiptsAgain: true });
      clocksAgree = true;
      await time.advance(3 * MAX_RETRY_MS);
      expect(book.outbox.has('old-1')).toBe(false);
    } finally {
      await outbox.stop();
    }
  });
});

describe('receipt outbox - offering this node chain to a payee that cannot read it', () => {
  const unreadable = () => new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, "your node's chain could not be read (test)", true);
  /** A chain of `head` blocks, each its seq's byte; a payee that has read up to `read` and takes what goes on from it. */
  function payeeReading(head: number, read: number, pageBlocks = head) {
    const offers: Array<{ fromSeq: bigint; blocks: number }> = [];
    let cursor = BigInt(read);
    const chainOffers: NonNullable<ReceiptOutboxDeps['chainOffers']> = {
      send: async (_payee, fromSeq, blocks) => {
        offers.push({ fromSeq, blocks: blocks.length });
        if (fromSeq === cursor + 1n) cursor += BigInt(Math.min(blocks.length, pageBlocks));
        return cursor + 1n;
      },
      blocks: async (fromSeq, limit) => ({
        blocks: Array.from({ length: Math.max(0, Math.min(limit, head - Number(fromSeq) + 1)) }, (_, i) => new Uint8Array([Number(fromSeq) + i])),
      }),
    };
    return { offers, chainOffers, read: () => cursor };
  }

  /** A payee that cannot read this node's chain: every receipt refused UNAVAILABLE, when each delivery came recorded. */
  function refusingUnread(time: ReturnType<typeof virtualTime>) {
    const deliveredAt: number[] = [];
    const deliver: ReceiptOutboxDeps['deliver'] = async (_p, receipts) => {
      deliveredAt.push(time.stopwatch.now());
      return receipts.map(() => ({ error: unreadable() }));
    };
    return { deliver, deliveredAt };
  }

  function start(time: ReturnType<typeof virtualTime>, book: ReceiptOutboxDeps['book'], deliver: ReceiptOutboxDeps['deliver'], chainOffers: ReceiptOutboxDeps['chainOffers']) {
    return startReceiptOutbox({
      book,
      deliver,
      deliverVoids: refusedVoids,
      chainOffers,
      announce: () => undefined,
      stopwatch: time.stopwatch,
      scheduler: time.scheduler,
      intervalMs: 100,
      log: silentLogger(),
    });
  }

  it('offers the blocks the payee lacks, page by page from where it read, and sends the refused receipt again at once', async () => {
    const time = virtualTime(0);
    const book = fakeBook(['nat-1']);
    const payee = payeeReading(70, 3);
    const deliveredAt: number[] = [];
    const outbox = start(
      time,
      book,
      async (_p, receipts) => {
        deliveredAt.push(time.stopwatch.now());
        // Its pledge is block 70: countersigned once the payee has read that far.
        return receipts.map((countersigned) => (payee.read() >= 70n ? { countersigned } : { error: unreadable() }));
      },
      payee.chainOffers,
    );
    try {
      await time.advance(50);
      expect(book.outbox.size).toBe(0);
      // Asked where to start, then blocks 4-35, 36-67, 68-70.
      expect(payee.offers).toEqual([
        { fromSeq: 0n, blocks: 0 },
        { fromSeq: 4n, blocks: 32 },
        { fromSeq: 36n, blocks: 32 },
        { fromSeq: 68n, blocks: 3 },
      ]);
      // Sent again without the backoff's 500 ms.
      expect(deliveredAt).toEqual([0, 0]);
      expect(outbox.failing().count).toBe(0);
    } finally {
      await outbox.stop();
    }
  });

  it('backs off as before when the payee takes no block (it has them all, predates offers, or refuses them), and never offers on a call that failed', async () => {
    const time = virtualTime(0);
    const book = fakeBook(['full-1', 'old-1', 'down-1']);
    const full = payeeReading(10, 10);
    const offered: string[] = [];
    const chainOffers: NonNullable<ReceiptOutboxDeps['chainOffers']> = {
      send: async (payee, fromSeq, blocks, timeoutMs) => {
        offered.push(payee);
        if (payee === 'old') throw new SwarmError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'no such method (test)', false);
        return full.chainOffers.send(payee, fromSeq, blocks, timeoutMs);
      },
      blocks: full.chainOffers.blocks,
    };
    const attempts = new Map<string, number>();
    const outbox = start(
      time,
      book,
      async (payee, receipts) => {
        attempts.set(payee, (attempts.get(payee) ?? 0) + 1);
        if (payee === 'down') throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no address known (test)', true);
        return receipts.map(() => ({ error: unreadable() }));
      },
      chainOffers,
    );
    try {
      await time.advance(1_600);
      // Tries at 0, 0.5 s and 1.5 s: doubling, as for any payee that fails.
      expect(Object.fromEntries(attempts)).toEqual({ full: 3, old: 3, down: 3 });
      expect(offered.filter((p) => p === 'full')).toHaveLength(3);
      expect(offered.filter((p) => p === 'old')).toHaveLength(3);
      expect(offered).not.toContain('down');
      expect(full.offers.every((o) => o.blocks === 0)).toBe(true);
      expect(book.outbox.size).toBe(3);
    } finally {
      await outbox.stop();
    }
  });

  it('is not looped by a payee that takes part of each page, or asks again for blocks it was given: one early retry per receipt at most', async () => {
    for (const mode of ['partial', 'forgetful'] as const) {
      const time = virtualTime(0);
      const book = fakeBook(['bad-1']);
      const payee = payeeReading(10_000, 0);
      const offers: bigint[] = [];
      const chainOffers: NonNullable<ReceiptOutboxDeps['chainOffers']> = {
        // partial: takes one block of each page; forgetful: says it has everything, then asks from 1 again.
        send: async (_payee, fromSeq, blocks) => {
          offers.push(fromSeq);
          if (blocks.length === 0) return 1n;
          return mode === 'partial' ? fromSeq + 1n : 1_000_000n;
        },
        blocks: payee.chainOffers.blocks,
      };
      const { deliver, deliveredAt } = refusingUnread(time);
      const outbox = start(time, book, deliver, chainOffers);
      try {
        await time.advance(1_600);
        // partial: never taken, so the backoff holds (0, 0.5 s, 1.5 s); forgetful: sent again at once once, then its backoff goes on doubling.
        expect({ mode, deliveredAt }).toEqual({ mode, deliveredAt: mode === 'partial' ? [0, 500, 1_500] : [0, 0, 1_000] });
        expect(offers.length).toBeLessThanOrEqual(2 * deliveredAt.length);
      } finally {
        await outbox.stop();
      }
    }
  });

  it("gives each offer call only what is left of the round, and starts the refused receipt's wait after the round: a slow payee holds a call no longer", async () => {
    const time = virtualTime(0);
    const book = fakeBook(['slow-1']);
    const payee = payeeReading(10_000, 0);
    const timeouts: number[] = [];
    const chainOffers: NonNullable<ReceiptOutboxDeps['chainOffers']> = {
      // Each answer takes what the call allows, up to 10 s, then takes the whole page.
      send: async (_payee, fromSeq, blocks, timeoutMs) => {
        timeouts.push(timeoutMs);
        await time.scheduler.sleep(Math.min(timeoutMs, 10_000));
        return blocks.length === 0 ? 1n : fromSeq + BigInt(blocks.length);
      },
      blocks: payee.chainOffers.blocks,
    };
    const { deliver, deliveredAt } = refusingUnread(time);
    const outbox = start(time, book, deliver, chainOffers);
    try {
      await time.advance(OFFER_ROUND_MS + 2_000);
      // Each call given what is left of the round (it answers in 10 s): the round ends at 30 s, never later.
      expect(timeouts.slice(0, 3)).toEqual([OFFER_ROUND_MS, OFFER_ROUND_MS - 10_000, OFFER_ROUND_MS - 20_000]);
      // It took blocks: sent again at once after the round (30 s), not earlier.
      expect(deliveredAt).toEqual([0, OFFER_ROUND_MS]);
    } finally {
      // The next round's calls end as their time passes.
      const stopping = outbox.stop();
      await time.advance(OFFER_ROUND_MS);
      await stopping;
    }
  });
});

import type { SignedReceipt } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { PendingReceipt } from '@swarm/credit';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import { MAX_RETRY_MS, OUTBOX_PAGE, startReceiptOutbox } from './receipt-outbox';

const signed = (id: string): SignedReceipt => ({ receipt: new TextEncoder().encode(id), payerSignature: new Uint8Array(64), payeeSignature: new Uint8Array(0) });

/** An outbox of receipts in id order, as the chain book answers it; completing one removes it. */
function fakeBook(ids: string[]) {
  const outbox = new Map(ids.map((id) => [id, { receiptId: id, payee: id.startsWith('dead') ? 'dead' : 'live', amount: 1n, signed: signed(id) } satisfies PendingReceipt]));
  const sorted = () => [...outbox.keys()].sort();
  return {
    outbox,
    pending: async (limit: number, afterId?: string) =>
      sorted()
        .filter((id) => afterId === undefined || id > afterId)
        .slice(0, limit)
        .map((id) => outbox.get(id) as PendingReceipt),
    completeReceipt: async (countersigned: SignedReceipt) => {
      outbox.delete(new TextDecoder().decode(countersigned.receipt));
    },
    appendDueBurns: async () => 0,
  };
}

describe('receipt outbox', () => {
  it('delivers the receipts behind many whose payee is down, and keeps retrying those', async () => {
    const time = virtualTime(0);
    // Ids sort the stuck ones first: three pages of them before the live one.
    const dead = Array.from({ length: 3 * OUTBOX_PAGE }, (_, i) => `dead-${String(i).padStart(4, '0')}`);
    const book = fakeBook([...dead, 'live-1']);
    const attempts = new Map<string, number>();
    const outbox = startReceiptOutbox({
      book,
      deliver: async (payee, receipt) => {
        const id = new TextDecoder().decode(receipt.receipt);
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        if (payee === 'dead') throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no address known (test)', true);
        return receipt;
      },
      stopwatch: time.stopwatch,
      scheduler: time.scheduler,
      intervalMs: 100,
      log: silentLogger(),
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
});

/**
 * helper-160's check of the outbox's patience with holds: counted from a receipt's first failure of
 * any kind, a payee back from a restart (or a day's outage) that held a receipt once for its usual
 * second made it wait a minute (or an hour). Patience counts from the first hold in a row now.
 */
import type { PendingReceipt } from '@swarm/credit';
import type { SignedReceipt } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { ReceiptOutboxDeps } from './receipt-outbox';
import { startReceiptOutbox } from './receipt-outbox';

const signed = (id: string): SignedReceipt => ({ receipt: new TextEncoder().encode(id), payerSignature: new Uint8Array(64), payeeSignature: new Uint8Array(0) });

function oneReceiptBook(id: string, payee: string) {
  const outbox = new Map<string, PendingReceipt>([[id, { receiptId: id, payee, amount: 1n, signed: signed(id) }]]);
  return {
    outbox,
    pending: async (limit: number, afterId?: string) => [...outbox.values()].filter((p) => afterId === undefined || p.receiptId > afterId).slice(0, limit),
    completeReceipt: async (c: SignedReceipt) => void outbox.delete(new TextDecoder().decode(c.receipt)),
    appendDueBurns: async () => 0,
    startVoid: async () => false,
    cancelVoid: async () => false,
    completeVoid: async () => {
      throw new Error('no void here');
    },
  } as unknown as ReceiptOutboxDeps['book'] & { outbox: Map<string, PendingReceipt> };
}

/**
 * A payee down for `downMs` (its receipts fail UNAVAILABLE, their wait doubling), then back: its first
 * answer is the ordinary 1 s hold (no clean look yet after its restart), then it countersigns.
 * Returns how long the receipt waited after that one hold.
 */
async function waitAfterOneHold(downMs: number): Promise<number> {
  const time = virtualTime(0);
  const book = oneReceiptBook('p-1', 'p');
  let heldAt: number | undefined;
  const outbox = startReceiptOutbox({
    book,
    deliver: async (_payee, receipts) => {
      const now = time.stopwatch.now();
      if (now < downMs) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'payee restarting (test)', true);
      if (heldAt === undefined) {
        heldAt = now;
        return receipts.map(() => ({ error: { code: ErrorCode.ERROR_CODE_OVERLOADED, message: 'held until a clean look (test)', retryable: true, retryAfterMs: 1_000 } }));
      }
      return receipts.map((countersigned) => ({ countersigned }));
    },
    deliverVoids: async () => {
      throw new Error('no void');
    },
    announce: () => undefined,
    stopwatch: time.stopwatch,
    scheduler: time.scheduler,
    // A pass a second: 25 h of virtual time in well under a second of real time.
    intervalMs: 1_000,
    log: silentLogger(),
  });
  try {
    // A minute at a time while the payee is down, a second at a time once it is back.
    for (let t = 0; t < downMs + 2 * 3_600_000 + 60_000 && book.outbox.has('p-1');) {
      const step = t < downMs - 60_000 ? 60_000 : 1_000;
      await time.advance(step);
      t += step;
    }
    return time.stopwatch.now() - (heldAt ?? NaN);
  } finally {
    await outbox.stop();
  }
}

describe('ATTACK (helper-160): a receipt held once after its payee was down', () => {
  it('follows the 1 s hint of a payee back from a 2 min restart, not a minute', async () => {
    expect(await waitAfterOneHold(120_000)).toBeLessThanOrEqual(5_000);
  });

  it('follows the 1 s hint of a payee back from a 25 h outage, not an hour', async () => {
    expect(await waitAfterOneHold(25 * 3_600_000)).toBeLessThanOrEqual(5_000);
  });
});

/**
 * Delivers the receipts this node owes other nodes (the chain book's outbox, written in the same
 * batch as the settle that paid them) through the gateways, and appends each one that comes back
 * countersigned as RECEIPT_OUT. A payee that is down, unknown or slow is tried again with a
 * doubling backoff, for as long as it takes: the receipt stays in the outbox (on disk) until its
 * payee has countersigned it, so a restart of either side loses nothing, and the payee's inbox
 * applies a receipt id once, so a retry after a lost reply changes nothing there.
 * Each pass also appends the idle burns that fell due (docs/chain.md).
 */
import type { SignedReceipt } from '@swarm/contracts';
import type { ChainBook } from '@swarm/credit';
import type { CancelTimer, Scheduler, Stopwatch } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';

/** Receipts one pass delivers at once; more wait for the next pass. */
export const OUTBOX_PAGE = 64;
export const FIRST_RETRY_MS = 500;
export const MAX_RETRY_MS = 60_000;

export interface ReceiptOutboxDeps {
  readonly book: Pick<ChainBook, 'pending' | 'completeReceipt' | 'appendDueBurns'>;
  /** Sends a receipt to its payee (GatewayDeliverReceipt) and resolves with it countersigned. */
  readonly deliver: (payee: string, signed: SignedReceipt) => Promise<SignedReceipt>;
  readonly stopwatch: Stopwatch;
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  /** Pause between passes when nothing asked for one sooner. */
  readonly intervalMs: number;
  readonly log: Logger;
}

export interface ReceiptOutbox {
  /** A settle just wrote receipts: run a pass now (or right after the running one). */
  kick(): void;
  /** Resolves once the running pass, if any, has finished; none starts after. */
  stop(): Promise<void>;
}

interface Backoff {
  readonly until: number;
  readonly delayMs: number;
}

export function startReceiptOutbox(deps: ReceiptOutboxDeps): ReceiptOutbox {
  const { book, stopwatch, scheduler, log } = deps;
  const backoff = new Map<string, Backoff>();
  let timer: CancelTimer | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  async function deliverOne(receiptId: string, payee: string, signed: SignedReceipt): Promise<void> {
    try {
      const countersigned = await deps.deliver(payee, signed);
      await book.completeReceipt(countersigned);
      backoff.delete(receiptId);
      log.info({ receiptId: receiptId.slice(0, 80), payee: payee.slice(0, 12) }, 'receipt countersigned by its payee and appended to the chain');
    } catch (err) {
      const last = backoff.get(receiptId);
      const delayMs = last ? Math.min(last.delayMs * 2, MAX_RETRY_MS) : FIRST_RETRY_MS;
      backoff.set(receiptId, { until: stopwatch.now() + delayMs, delayMs });
      // Every failure while the delay grows, then one line a minute per receipt at most.
      if (!last || last.delayMs < MAX_RETRY_MS)
        log.warn({ err, receiptId: receiptId.slice(0, 80), payee: payee.slice(0, 12), retryInMs: delayMs }, 'receipt not delivered yet; will retry');
    }
  }

  async function pass(): Promise<void> {
    try {
      const burned = await book.appendDueBurns();
      if (burned > 0) log.info({ blocks: burned }, 'idle burns appended to the chain');
    } catch (err) {
      log.error({ err }, 'could not append the idle burns due');
    }
    let pending;
    try {
      pending = await book.pending(OUTBOX_PAGE);
    } catch (err) {
      log.error({ err }, 'could not read the receipt outbox');
      return;
    }
    const now = stopwatch.now();
    const live = new Set(pending.map((p) => p.receiptId));
    for (const id of backoff.keys()) if (!live.has(id)) backoff.delete(id);
    const due = pending.filter((p) => (backoff.get(p.receiptId)?.until ?? 0) <= now);
    await Promise.all(due.map((p) => deliverOne(p.receiptId, p.payee, p.signed)));
  }

  function schedule(delayMs: number): void {
    timer = scheduler.setTimer(delayMs, () => {
      timer = undefined;
      run();
    });
  }

  function run(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    timer?.();
    timer = undefined;
    running = pass().finally(() => {
      running = undefined;
      if (stopped) return;
      const soon = again;
      again = false;
      if (soon) run();
      else schedule(deps.intervalMs);
    });
  }

  schedule(0);
  return {
    kick: run,
    async stop() {
      stopped = true;
      timer?.();
      timer = undefined;
      await running;
    },
  };
}

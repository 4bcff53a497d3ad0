/**
 * Whether a payer can pay (docs/chain.md "Payers' chains"). Before this node countersigns a
 * receipt, the payer's chain, read through the gateways and audited here (every block's signature
 * and link, the balance rules, each receipt id once, the idle burns owed by now), must cover it:
 *
 *   available at the head read (owed burns taken) ≥ amount + (received − paid here)
 *
 * where `received` is what this node's chain holds from that payer, ever (chain-book.ts keeps it),
 * and `paid here` is what the payer's chain read holds of RECEIPT_OUTs to this node. Their
 * difference is what the payer has yet to append of receipts this node countersigned: an honest
 * payer still pledges it, and one that never appends it can spend it nowhere here again.
 *
 * What a check trusts is a read that reached the head the payer reported, made at most FRESH_MS
 * before the last time a receipt of that payer came (prepare), and at most CHECK_FRESH_MS before
 * the check: so a payer cannot spend at one payee what another payee saw it hold earlier, except
 * within about a second, and failing the read (its own gateway) does not stretch that. A read goes
 * on from where the last one got to (the cursor: blocks audited, never again), page by page; only
 * a read that reaches the head replaces what checks trust, never a state part way.
 *
 * Reads share one budget of audit time for all payers (AUDIT_MS_PER_SECOND, burst AUDIT_BURST_MS,
 * each page charged what it took, at least MIN_MS_PER_BLOCK a block), READS_AT_ONCE at a time. A
 * read starts at once when nothing waits; else its payer joins a queue, served in turn as the budget
 * refills, in the background (the payer's next try finds it read), each turn at most FAIR_SLICE_MS
 * of audit while others wait: N payers with long chains leave each a 1/(N+1) share, however often
 * they send receipts. A chain that does not audit keeps its cursor at the last good page (what
 * follows is read again, a page, after BAD_CHAIN_RETRY_MS); a read that fails waits
 * FAILED_READ_RETRY_MS.
 *
 * Answers (check): covered; `payer-short` (retryable ReceiptRefusal) when a fresh read shows the
 * payer cannot pay, the one verdict on the payer (a void is then let off, void-book.ts); else
 * SWARM_OVERLOADED with when to retry (not read yet, a read short of the head, the budget spent, a
 * read that failed) or SWARM_INVALID_CHAIN (retryable: the chain does not audit), which let nothing
 * off. Kept in memory: a restart reads each payer's chain from genesis again.
 */
import type { ChainHead, ChainRules, FetchChainPage, SignatureCheck } from '@swarm/chain';
import { cachedSignatureCheck, ChainRefusal, owedBurns, ReceiptRefusal, verifyChain, verifyChainSuffix } from '@swarm/chain';
import { BlockKind, ErrorCode, SwarmError } from '@swarm/contracts';
import type { PayerCheck } from '@swarm/credit';
import type { CancelTimer, Scheduler, Stopwatch, WallClock } from '@swarm/determinism';
import { ReceiptIdSet } from './receipt-id-set';

/** Blocks asked a page: each costs up to three signature checks (about 150-400 µs a block here), so a page holds the event loop about 5-13 ms. */
export const PAYER_PAGE_BLOCKS = 32;
/** Wall time one read goes on at most (checked between pages), well inside the 8 s the payer's call gives this node's ledger. */
export const READ_BUDGET_MS = 3_000;
/** A read this recent, before a receipt came, covers it without reading on. */
export const FRESH_MS = 1_000;
/** A read older than this covers no receipt at its turn in the ledger. */
export const CHECK_FRESH_MS = 5_000;
/** Audit time for payers' chains, all payers together: a fifth of one core, and at most this much at once. */
export const AUDIT_MS_PER_SECOND = 200;
export const AUDIT_BURST_MS = 5_000;
/** What a page is charged at least, per block (a test's clock does not move while it audits). */
export const MIN_MS_PER_BLOCK = 0.1;
/** Audit time one turn of a read takes at most while other payers wait. */
export const FAIR_SLICE_MS = 200;
/** Reads going on at once. */
export const READS_AT_ONCE = 2;
/** When a payer waiting its turn is told to try again: often enough to find its read fresh. */
export const QUEUED_RETRY_MS = 500;
/** What follows a chain's last good page is not read again for this long. */
export const BAD_CHAIN_RETRY_MS = 300_000;
/** A read that failed (the payer or the gateway unreachable) is not tried again for this long. */
export const FAILED_READ_RETRY_MS = 5_000;
/** Payers' chains remembered (the least recently used forgotten past it, unless being read). */
export const MAX_VIEWS = 1_024;
/** Receipt ids remembered across the views (16-32 bytes each: receipt-id-set.ts). */
export const MAX_REMEMBERED_IDS = 2_000_000;
/** A single chain with more receipts than this is not audited here. */
export const MAX_PAYER_RECEIPTS = 1_000_000;

export interface PayerViewsDeps {
  /** This node: RECEIPT_OUTs to it are what its payers paid here. */
  readonly nodeId: string;
  readonly rules: ChainRules;
  /** Pages of a payer's chain (through the gateway). */
  readonly fetchChain: (payer: string) => FetchChainPage;
  /** The auditor's clock: blocks from the future are refused, owed burns counted. */
  readonly clock: WallClock;
  /** Times reads, their audit, freshness and the budget. */
  readonly stopwatch: Stopwatch;
  /** Resumes queued reads as the budget refills. */
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  readonly checkSignature?: SignatureCheck;
  /** The shared budget of audit time (default AUDIT_MS_PER_SECOND, AUDIT_BURST_MS). */
  readonly budget?: { readonly msPerSecond: number; readonly burstMs: number };
}

export interface PayerViewStats {
  readonly views: number;
  readonly reads: number;
  readonly blocksRead: number;
  /** Chains found not to audit. */
  readonly badChains: number;
  readonly failedReads: number;
  /** Payers waiting their turn now. */
  readonly queued: number;
}

export interface PayerViews extends PayerCheck {
  stats(): PayerViewStats;
  /** Resolves once no read is going on or queued (tests), or at once after stop(). */
  idle(): Promise<void>;
  /** No more reads: the queue is dropped, the timer cancelled. */
  stop(): void;
}

/** How far a payer's chain has been audited. */
interface Cursor {
  readonly head: ChainHead;
  readonly paidHere: bigint;
  readonly ids: ReceiptIdSet;
}

/** What checks trust: the last read that reached the head the payer reported. */
interface Confirmed {
  readonly seq: bigint;
  /** Available once the idle burns owed at that read are taken. */
  readonly available: bigint;
  readonly paidHere: bigint;
  /** Stopwatch ms. */
  readonly atMs: number;
}

interface View {
  cursor: Cursor | undefined;
  confirmed: Confirmed | undefined;
  reading: Promise<void> | undefined;
  /** In the queue of reads waiting their turn. */
  queued: boolean;
  /** When a receipt of this payer last came (prepare), stopwatch ms. */
  askedAtMs: number;
  /** No read before this (stopwatch ms). */
  retryAtMs: number;
  /** Why the last read did not confirm, in this node's words; `broken`: the chain does not audit. */
  problem: { readonly broken: boolean; readonly message: string } | undefined;
}

export function createPayerViews(deps: PayerViewsDeps): PayerViews {
  const { nodeId, rules, clock, stopwatch, scheduler } = deps;
  const checkSignature = deps.checkSignature ?? cachedSignatureCheck();
  const { msPerSecond, burstMs } = deps.budget ?? { msPerSecond: AUDIT_MS_PER_SECOND, burstMs: AUDIT_BURST_MS };
  const views = new Map<string, View>();
  /** Payers waiting for a read, in turn; each at most once (View.queued). */
  const queue: string[] = [];
  let rememberedIds = 0;
  let readsGoing = 0;
  let stopped = false;
  let pumpTimer: CancelTimer | undefined;
  const counts = { reads: 0, blocksRead: 0, badChains: 0, failedReads: 0 };
  // Audit ms that may still be spent: refills with time, charged after each page (so it can go below 0).
  let budgetMs = burstMs;
  let budgetAtMs = stopwatch.now();

  const budgetLeft = (): number => {
    const now = stopwatch.now();
    budgetMs = Math.min(burstMs, budgetMs + ((now - budgetAtMs) * msPerSecond) / 1_000);
    budgetAtMs = now;
    return budgetMs;
  };
  const msUntilBudget = () => Math.max(1, Math.ceil(((1 - budgetLeft()) * 1_000) / msPerSecond));

  const viewOf = (payer: string): View => {
    let view = views.get(payer);
    if (view) {
      // Most recently used last.
      views.delete(payer);
      views.set(payer, view);
      return view;
    }
    view = { cursor: undefined, confirmed: undefined, reading: undefined, queued: false, askedAtMs: -Infinity, retryAtMs: 0, problem: undefined };
    views.set(payer, view);
    evict(payer);
    return view;
  };

  const evict = (keep: string) => {
    for (const [payer, view] of views) {
      if (views.size <= MAX_VIEWS && rememberedIds <= MAX_REMEMBERED_IDS) return;
      if (payer === keep || view.reading) continue;
      rememberedIds -= view.cursor?.ids.size ?? 0;
      views.delete(payer);
    }
  };

  const outstanding = (c: Confirmed, received: bigint) => (received > c.paidHere ? received - c.paidHere : 0n);
  /** The confirmed read a check may trust: made within FRESH_MS before the last receipt came, and within `maxAgeMs` of now. */
  const trusted = (view: View | undefined, maxAgeMs: number): Confirmed | undefined => {
    const c = view?.confirmed;
    if (c === undefined || view === undefined) return undefined;
    return stopwatch.now() - c.atMs <= maxAgeMs && c.atMs >= view.askedAtMs - FRESH_MS ? c : undefined;
  };

  const start = (payer: string, view: View): Promise<void> => {
    readsGoing += 1;
    view.reading = read(payer, view).then((goesOn) => {
      readsGoing -= 1;
      view.reading = undefined;
      // Back in the queue once this read has ended, so the queue never holds a payer being read.
      if (goesOn) enqueue(payer, view);
      evict(payer);
      pump();
    });
    return view.reading;
  };

  const enqueue = (payer: string, view: View) => {
    if (view.queued || stopped) return;
    view.queued = true;
    queue.push(payer);
    pump();
  };

  /** Starts the reads waiting, in turn, while there is room and budget; else looks again once the budget has refilled. */
  const pump = () => {
    if (stopped) return;
    while (queue.length > 0 && readsGoing < READS_AT_ONCE && budgetLeft() > 0) {
      const payer = queue.shift() as string;
      const view = views.get(payer);
      if (view === undefined || !view.queued) continue;
      view.queued = false;
      if (!view.reading) void start(payer, view);
    }
    if (queue.length > 0 && readsGoing < READS_AT_ONCE && pumpTimer === undefined) {
      pumpTimer = scheduler.setTimer(msUntilBudget(), () => {
        pumpTimer = undefined;
        pump();
      });
    }
  };

  /** One turn of reading `payer`'s chain on; true when it should go on at a later turn. Never throws. */
  const read = async (payer: string, view: View): Promise<boolean> => {
    counts.reads += 1;
    const started = stopwatch.now();
    let spentMs = 0;
    const fetchPage = deps.fetchChain(payer);
    try {
      for (;;) {
        const seq = view.cursor?.head.seq ?? 0n;
        // Out of budget, or its turn over while others wait: back in the queue, to go on in turn.
        if (budgetLeft() <= 0 || (spentMs >= FAIR_SLICE_MS && queue.length > 0)) {
          view.problem = { broken: false, message: `this node has read ${seq} blocks of your node's chain and reads on in turn with other payers'` };
          return true;
        }
        const page = await fetchPage(seq + 1n, PAYER_PAGE_BLOCKS);
        if (page.blocks.length > 0) {
          const auditStart = stopwatch.now();
          try {
            view.cursor = audit(payer, view.cursor, page.blocks);
          } catch (err) {
            if (!(err instanceof ChainRefusal || err instanceof ReceiptRefusal)) throw err;
            counts.badChains += 1;
            view.problem = { broken: true, message: `your node's chain does not audit after block ${seq}: ${err.message.slice(0, 300)}` };
            view.retryAtMs = stopwatch.now() + BAD_CHAIN_RETRY_MS;
            return false;
          } finally {
            const cost = Math.max(stopwatch.now() - auditStart, page.blocks.length * MIN_MS_PER_BLOCK);
            spentMs += cost;
            budgetLeft();
            budgetMs -= cost;
            counts.blocksRead += page.blocks.length;
          }
        }
        const reached = view.cursor?.head.seq ?? 0n;
        if (view.cursor !== undefined && reached >= page.headSeq) {
          confirm(view, view.cursor);
          return false;
        }
        if (page.blocks.length === 0) {
          view.problem = { broken: false, message: `your node reported blocks up to ${page.headSeq} and sent none after ${reached}` };
          view.retryAtMs = stopwatch.now() + FAILED_READ_RETRY_MS;
          return false;
        }
        if (stopwatch.now() - started >= READ_BUDGET_MS) {
          view.problem = { broken: false, message: `this node has read ${reached} of your chain's ${page.headSeq} blocks so far` };
          return true;
        }
      }
    } catch (err) {
      counts.failedReads += 1;
      view.problem = { broken: false, message: `your node's chain could not be read: ${err instanceof Error ? err.message.slice(0, 200) : 'an unknown error'}` };
      view.retryAtMs = stopwatch.now() + FAILED_READ_RETRY_MS;
      return false;
    }
  };

  const confirm = (view: View, cursor: Cursor) => {
    const owed = owedBurns(cursor.head, rules, clock.now());
    view.confirmed = { seq: cursor.head.seq, available: owed.head.balances.available, paidHere: cursor.paidHere, atMs: stopwatch.now() };
    view.problem = undefined;
  };

  /** The cursor after a page read on from `cursor`. Throws a ChainRefusal (or ReceiptRefusal) when it does not audit, the cursor unchanged. */
  const audit = (payer: string, cursor: Cursor | undefined, page: readonly Uint8Array[]): Cursor => {
    const options = { expectedNodeId: payer, checkSignature, nowMs: clock.now() };
    const ids = cursor?.ids ?? new ReceiptIdSet();
    const result = cursor === undefined ? verifyChain(page, rules, options) : verifyChainSuffix(cursor.head, page, rules, (id) => ids.has(id), options);
    const receipts = result.entries.filter((e) => e.receipt !== undefined).length;
    if (ids.size + receipts > MAX_PAYER_RECEIPTS) throw new ChainRefusal('invalid-field', `a chain of more than ${MAX_PAYER_RECEIPTS} receipts is more than this node audits`);
    let paid = 0n;
    for (const entry of result.entries) {
      if (entry.receipt === undefined) continue;
      if (ids.add(entry.receipt.receiptId)) rememberedIds += 1;
      if (entry.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT && entry.receipt.payee === nodeId) paid += entry.amount;
    }
    return { head: result.head, paidHere: (cursor?.paidHere ?? 0n) + paid, ids };
  };

  return {
    async prepare(payer, amount, received) {
      const view = viewOf(payer);
      view.askedAtMs = stopwatch.now();
      const fresh = trusted(view, FRESH_MS);
      if (fresh !== undefined && fresh.available >= amount + outstanding(fresh, received)) return;
      if (view.reading) return view.reading;
      if (stopped || stopwatch.now() < view.retryAtMs) return;
      // At once when nothing waits; else in turn, in the background (the check answers when to try again).
      if (queue.length === 0 && readsGoing < READS_AT_ONCE && budgetLeft() > 0) return start(payer, view);
      enqueue(payer, view);
    },
    check(payer, amount, received) {
      const view = views.get(payer);
      const c = trusted(view, CHECK_FRESH_MS);
      if (c !== undefined) {
        if (c.available >= amount + outstanding(c, received)) return;
        throw new ReceiptRefusal(
          'payer-short',
          `it pays ${amount} credits, and the payer's chain (read up to block ${c.seq}) has ${c.available} available, ` +
            `of which ${outstanding(c, received)} is owed to this node for receipts it countersigned and the payer has not yet appended`,
        );
      }
      const waiting = view?.queued || view?.reading !== undefined;
      const waitMs = waiting ? QUEUED_RETRY_MS : Math.max(FRESH_MS, Math.round((view?.retryAtMs ?? 0) - stopwatch.now()));
      const why = waiting
        ? `your node's chain waits its turn to be read (${queue.length} payer(s) waiting)`
        : (view?.problem?.message ?? "this node has not read your node's chain yet");
      const message = `this node countersigns only what the payer's chain shows it can pay, and ${why}; retry in ${waitMs} ms`;
      if (!waiting && view?.problem?.broken) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_CHAIN, message, true, { retryAfterMs: waitMs });
      throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, message, true, { retryAfterMs: waitMs });
    },
    stats: () => ({ views: views.size, queued: queue.length, ...counts }),
    async idle() {
      for (;;) {
        const going = [...views.values()].flatMap((v) => (v.reading ? [v.reading] : []));
        if (going.length === 0) return;
        await Promise.all(going);
      }
    },
    stop() {
      stopped = true;
      queue.length = 0;
      pumpTimer?.();
      pumpTimer = undefined;
    },
  };
}

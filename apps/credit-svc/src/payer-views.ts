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
 * What a check trusts is a read that reached the head the payer reported, at most FRESH_MS old
 * when the receipt came (so a payer cannot spend at one payee what another payee saw it hold
 * earlier, except at once) and CHECK_FRESH_MS by its turn in the ledger. A read goes on from where
 * the last one got to (the cursor: blocks audited, never again), page by page; only a read that
 * reaches the head replaces what checks trust, never a state part way. Reads take blocks from one
 * budget for all payers (BLOCKS_PER_SECOND, burst BLOCK_BURST): payers' chains cost credit-svc at
 * most about a sixth of a core (about 150 µs a block), however many payers and however long their
 * chains, and a page holds its event loop about 10 ms. A chain that does not audit keeps its cursor
 * at the last good page (what follows is read again, a page, after BAD_CHAIN_RETRY_MS); a read
 * that fails waits FAILED_READ_RETRY_MS.
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
import type { Stopwatch, WallClock } from '@swarm/determinism';
import { ReceiptIdSet } from './receipt-id-set';

/** Blocks asked a page: each costs up to three signature checks on credit-svc's event loop (about 120 µs each), so a page holds it for about 25 ms. */
export const PAYER_PAGE_BLOCKS = 64;
/** Time one read goes on at most (checked between pages), well inside the 8 s the payer's call gives this node's ledger. */
export const READ_BUDGET_MS = 3_000;
/** A read this recent covers a receipt without reading on. */
export const FRESH_MS = 1_000;
/** A read this recent still covers a receipt at its turn in the ledger (prepare read on within FRESH_MS). */
export const CHECK_FRESH_MS = 5_000;
/** Blocks of payers' chains audited a second, all payers together, and at most this many at once. */
export const BLOCKS_PER_SECOND = 1_000;
export const BLOCK_BURST = 20_000;
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
  readonly stopwatch: Stopwatch;
  readonly checkSignature?: SignatureCheck;
  /** The shared budget of blocks (default BLOCKS_PER_SECOND, BLOCK_BURST). */
  readonly budget?: { readonly blocksPerSecond: number; readonly blockBurst: number };
}

export interface PayerViewStats {
  readonly views: number;
  readonly reads: number;
  readonly blocksRead: number;
  /** Chains found not to audit. */
  readonly badChains: number;
  readonly failedReads: number;
}

export interface PayerViews extends PayerCheck {
  stats(): PayerViewStats;
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
  /** No read before this (stopwatch ms). */
  retryAtMs: number;
  /** Why the last read did not confirm, in this node's words; `broken`: the chain does not audit. */
  problem: { readonly broken: boolean; readonly message: string } | undefined;
}

export function createPayerViews(deps: PayerViewsDeps): PayerViews {
  const { nodeId, rules, clock, stopwatch } = deps;
  const checkSignature = deps.checkSignature ?? cachedSignatureCheck();
  const views = new Map<string, View>();
  let rememberedIds = 0;
  let readsGoing = 0;
  const waiting: Array<() => void> = [];
  const counts = { reads: 0, blocksRead: 0, badChains: 0, failedReads: 0 };
  const { blocksPerSecond, blockBurst } = deps.budget ?? { blocksPerSecond: BLOCKS_PER_SECOND, blockBurst: BLOCK_BURST };
  let tokens = blockBurst;
  let tokensAtMs = stopwatch.now();

  /** Takes `blocks` from the shared budget; false (nothing taken) when it holds fewer. */
  const takeBlocks = (blocks: number): boolean => {
    const now = stopwatch.now();
    tokens = Math.min(blockBurst, tokens + ((now - tokensAtMs) * blocksPerSecond) / 1_000);
    tokensAtMs = now;
    if (tokens < blocks) return false;
    tokens -= blocks;
    return true;
  };
  const msUntilPage = () => Math.ceil(((PAYER_PAGE_BLOCKS - tokens) * 1_000) / blocksPerSecond);

  const viewOf = (payer: string): View => {
    let view = views.get(payer);
    if (view) {
      // Most recently used last.
      views.delete(payer);
      views.set(payer, view);
      return view;
    }
    view = { cursor: undefined, confirmed: undefined, reading: undefined, retryAtMs: 0, problem: undefined };
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
  const freshWithin = (view: View | undefined, ms: number): Confirmed | undefined => {
    const c = view?.confirmed;
    return c !== undefined && stopwatch.now() - c.atMs <= ms ? c : undefined;
  };

  const slot = async (): Promise<() => void> => {
    while (readsGoing >= 2) await new Promise<void>((resolve) => waiting.push(resolve));
    readsGoing += 1;
    return () => {
      readsGoing -= 1;
      waiting.shift()?.();
    };
  };

  const read = async (payer: string, view: View): Promise<void> => {
    const release = await slot();
    counts.reads += 1;
    const started = stopwatch.now();
    const fetchPage = deps.fetchChain(payer);
    try {
      for (;;) {
        if (!takeBlocks(PAYER_PAGE_BLOCKS)) {
          const waitMs = msUntilPage();
          view.problem = {
            broken: false,
            message: `this node reads at most ${blocksPerSecond} blocks a second of payers' chains, and has read ${view.cursor?.head.seq ?? 0n} of yours`,
          };
          view.retryAtMs = stopwatch.now() + waitMs;
          return;
        }
        const page = await fetchPage(view.cursor === undefined ? 1n : view.cursor.head.seq + 1n, PAYER_PAGE_BLOCKS);
        // Blocks asked and not sent go back to the budget.
        tokens = Math.min(blockBurst, tokens + PAYER_PAGE_BLOCKS - Math.min(page.blocks.length, PAYER_PAGE_BLOCKS));
        if (page.blocks.length > 0) {
          try {
            view.cursor = audit(payer, view.cursor, page.blocks);
          } catch (err) {
            if (!(err instanceof ChainRefusal || err instanceof ReceiptRefusal)) throw err;
            counts.badChains += 1;
            view.problem = { broken: true, message: `your node's chain does not audit after block ${view.cursor?.head.seq ?? 0n}: ${err.message.slice(0, 300)}` };
            view.retryAtMs = stopwatch.now() + BAD_CHAIN_RETRY_MS;
            return;
          } finally {
            counts.blocksRead += page.blocks.length;
          }
        }
        const seq = view.cursor?.head.seq ?? 0n;
        if (view.cursor !== undefined && seq >= page.headSeq) {
          confirm(view, view.cursor);
          return;
        }
        if (page.blocks.length === 0) {
          view.problem = { broken: false, message: `your node reported blocks up to ${page.headSeq} and sent none after ${seq}` };
          view.retryAtMs = stopwatch.now() + FAILED_READ_RETRY_MS;
          return;
        }
        if (stopwatch.now() - started >= READ_BUDGET_MS) {
          view.problem = { broken: false, message: `this node has read ${seq} of your chain's ${page.headSeq} blocks so far` };
          return;
        }
      }
    } catch (err) {
      counts.failedReads += 1;
      view.problem = { broken: false, message: `your node's chain could not be read: ${err instanceof Error ? err.message.slice(0, 200) : 'an unknown error'}` };
      view.retryAtMs = stopwatch.now() + FAILED_READ_RETRY_MS;
    } finally {
      release();
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
      const fresh = freshWithin(view, FRESH_MS);
      if (fresh !== undefined && fresh.available >= amount + outstanding(fresh, received)) return;
      if (view.reading) return view.reading;
      if (stopwatch.now() < view.retryAtMs) return;
      view.reading = read(payer, view).finally(() => {
        view.reading = undefined;
        evict(payer);
      });
      return view.reading;
    },
    check(payer, amount, received) {
      const view = views.get(payer);
      const c = freshWithin(view, CHECK_FRESH_MS);
      if (c !== undefined) {
        if (c.available >= amount + outstanding(c, received)) return;
        throw new ReceiptRefusal(
          'payer-short',
          `it pays ${amount} credits, and the payer's chain (read up to block ${c.seq}) has ${c.available} available, ` +
            `of which ${outstanding(c, received)} is owed to this node for receipts it countersigned and the payer has not yet appended`,
        );
      }
      const waitMs = Math.max(FRESH_MS, Math.round((view?.retryAtMs ?? 0) - stopwatch.now()));
      const why = view?.problem?.message ?? "this node has not read your node's chain yet";
      const message = `this node countersigns only what the payer's chain shows it can pay, and ${why}; retry in ${waitMs} ms`;
      if (view?.problem?.broken) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_CHAIN, message, true, { retryAfterMs: waitMs });
      throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, message, true, { retryAfterMs: waitMs });
    },
    stats: () => ({ views: views.size, ...counts }),
  };
}

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
 * payer still pledges it, and one that never appends it can spend it nowhere here again. So the
 * credit a payer moves to this node is at most the most its chain ever showed, never made up.
 *
 * A chain is read on from where it was read before (kept in memory: a restart reads each payer's
 * from genesis again), only when what was read does not cover a receipt, one read per payer at a
 * time and READS_AT_ONCE across payers, each at most READ_BLOCKS blocks and READ_BUDGET_MS: a
 * longer chain is read on at the payer's next try. A read that stops short of the head the payer
 * reported covers nothing until a later read reaches one. A chain that does not audit is
 * forgotten, and not read again for BAD_CHAIN_RETRY_MS; a read that fails (the payer unreachable)
 * waits FAILED_READ_RETRY_MS. Each refusal is retryable (`payer-short`): the payer's outbox tries
 * again later.
 */
import type { ChainHead, ChainRules, FetchChainPage, SignatureCheck } from '@swarm/chain';
import { cachedSignatureCheck, ChainRefusal, ReceiptRefusal, verifyChain, verifyChainSuffix } from '@swarm/chain';
import { BlockKind } from '@swarm/contracts';
import type { PayerCheck } from '@swarm/credit';
import type { Stopwatch, WallClock } from '@swarm/determinism';
import { createHash } from 'node:crypto';

/** Blocks asked a page: each costs up to three signature checks on credit-svc's event loop (about 60 µs each). */
export const PAYER_PAGE_BLOCKS = 256;
/** Blocks one read takes at most; a longer chain is read on at the payer's next try. */
export const READ_BLOCKS = 8_192;
/** Time one read takes at most (checked between pages), well inside the 8 s the payer's call gives this node's ledger. */
export const READ_BUDGET_MS = 3_000;
/** Reads of payers' chains going on at once. */
export const READS_AT_ONCE = 2;
/** A chain that did not audit is not read again for this long (each read from genesis costs this node). */
export const BAD_CHAIN_RETRY_MS = 60_000;
/** A read that failed (the payer or the gateway unreachable) is not tried again for this long. */
export const FAILED_READ_RETRY_MS = 5_000;
/** Payers' chains remembered (the least recently used forgotten past it). */
export const MAX_VIEWS = 1_024;
/** Receipt ids remembered across the views (12 bytes of hash each), to refuse a chain holding one twice. */
export const MAX_REMEMBERED_IDS = 500_000;
/** A single chain with more receipts than this is not audited here. */
export const MAX_PAYER_RECEIPTS = 200_000;

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
}

export interface PayerViewStats {
  readonly views: number;
  readonly reads: number;
  readonly blocksRead: number;
  readonly badChains: number;
  readonly failedReads: number;
}

export interface PayerViews extends PayerCheck {
  stats(): PayerViewStats;
}

interface View {
  /** After the last block read; undefined before the first. */
  head: ChainHead | undefined;
  /** Available once the owed burns at the last read are taken. */
  available: bigint;
  /** RECEIPT_OUTs to this node, ever, in the blocks read. */
  paidHere: bigint;
  /** Hashes of the receipt ids in the blocks read. */
  ids: Set<string>;
  /** The last read reached the head the payer reported. */
  complete: boolean;
  reading: Promise<void> | undefined;
  /** No read before this (stopwatch ms). */
  retryAtMs: number;
  /** Why the last read failed, in this node's words. */
  problem: string | undefined;
}

export function createPayerViews(deps: PayerViewsDeps): PayerViews {
  const { nodeId, rules, clock, stopwatch } = deps;
  const checkSignature = deps.checkSignature ?? cachedSignatureCheck();
  const views = new Map<string, View>();
  let rememberedIds = 0;
  let readsGoing = 0;
  const waiting: Array<() => void> = [];
  const counts = { reads: 0, blocksRead: 0, badChains: 0, failedReads: 0 };

  const viewOf = (payer: string): View => {
    let view = views.get(payer);
    if (view) {
      // Most recently used last.
      views.delete(payer);
      views.set(payer, view);
      return view;
    }
    view = { head: undefined, available: 0n, paidHere: 0n, ids: new Set(), complete: false, reading: undefined, retryAtMs: 0, problem: undefined };
    views.set(payer, view);
    evict(payer);
    return view;
  };

  const evict = (keep: string) => {
    for (const [payer, view] of views) {
      if (views.size <= MAX_VIEWS && rememberedIds <= MAX_REMEMBERED_IDS) return;
      if (payer === keep || view.reading) continue;
      rememberedIds -= view.ids.size;
      views.delete(payer);
    }
  };

  const forget = (view: View) => {
    rememberedIds -= view.ids.size;
    view.ids = new Set();
    view.head = undefined;
    view.available = 0n;
    view.paidHere = 0n;
    view.complete = false;
  };

  const outstanding = (view: View, received: bigint) => (received > view.paidHere ? received - view.paidHere : 0n);
  const covers = (view: View | undefined, amount: bigint, received: bigint) =>
    view !== undefined && view.head !== undefined && view.complete && view.available >= amount + outstanding(view, received);

  const slot = async (): Promise<() => void> => {
    while (readsGoing >= READS_AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
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
    let blocks = 0;
    // The view stays as it was read until this read ends: a receipt checked meanwhile sees a head
    // that was whole when read (each page read on only moves it forward).
    let complete = false;
    try {
      for (;;) {
        const page = await fetchPage(view.head === undefined ? 1n : view.head.seq + 1n, PAYER_PAGE_BLOCKS);
        if (page.blocks.length === 0) {
          // Nothing past the head read: complete when that is the head the payer reports.
          if (view.head !== undefined && view.head.seq >= page.headSeq) complete = true;
          else view.problem = `its node reported blocks up to ${page.headSeq} and sent none after ${view.head?.seq ?? 0n}`;
          break;
        }
        audit(payer, view, page.blocks);
        blocks += page.blocks.length;
        if (view.head !== undefined && view.head.seq >= page.headSeq) {
          complete = true;
          break;
        }
        if (blocks >= READ_BLOCKS || stopwatch.now() - started >= READ_BUDGET_MS) {
          view.problem = `this node has read ${view.head?.seq ?? 0n} of its ${page.headSeq} blocks so far`;
          break;
        }
      }
      view.complete = complete;
      if (complete) view.problem = undefined;
    } catch (err) {
      if (err instanceof ChainRefusal || (err instanceof ReceiptRefusal && err.reason !== 'payer-short')) {
        counts.badChains += 1;
        forget(view);
        view.problem = `its chain does not audit: ${err.message}`;
        view.retryAtMs = stopwatch.now() + BAD_CHAIN_RETRY_MS;
      } else {
        counts.failedReads += 1;
        view.problem = `its chain could not be read: ${err instanceof Error ? err.message.slice(0, 200) : 'an unknown error'}`;
        view.retryAtMs = stopwatch.now() + FAILED_READ_RETRY_MS;
      }
    } finally {
      counts.blocksRead += blocks;
      release();
    }
  };

  /** Verifies a page on from the view's head and takes in what it holds. Throws a ChainRefusal (or ReceiptRefusal) when it does not audit. */
  const audit = (payer: string, view: View, page: readonly Uint8Array[]) => {
    const options = { expectedNodeId: payer, checkSignature, nowMs: clock.now() };
    const result = view.head === undefined ? verifyChain(page, rules, options) : verifyChainSuffix(view.head, page, rules, (id) => view.ids.has(idKey(id)), options);
    let paid = 0n;
    const idsBefore = view.ids.size;
    for (const entry of result.entries) {
      if (entry.receipt === undefined) continue;
      view.ids.add(idKey(entry.receipt.receiptId));
      if (entry.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT && entry.receipt.payee === nodeId) paid += entry.amount;
    }
    rememberedIds += view.ids.size - idsBefore;
    if (view.ids.size > MAX_PAYER_RECEIPTS) throw new ChainRefusal('invalid-field', `a chain of more than ${MAX_PAYER_RECEIPTS} receipts is more than this node audits`);
    view.head = result.head;
    view.paidHere += paid;
    view.available = (result.owed?.head ?? result.head).balances.available;
  };

  return {
    async prepare(payer, amount, received) {
      const known = views.get(payer);
      if (covers(known, amount, received)) return;
      const view = viewOf(payer);
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
      if (covers(view, amount, received)) return;
      if (view === undefined || view.head === undefined || !view.complete) {
        const why = view?.problem ?? 'this node has not read its chain yet';
        const wait = view === undefined ? 0 : Math.max(0, Math.round(view.retryAtMs - stopwatch.now()));
        throw new ReceiptRefusal('payer-short', `this node countersigns only what the payer's chain shows it can pay, and ${why}${wait > 0 ? `; retry in ${wait} ms` : ''}`);
      }
      throw new ReceiptRefusal(
        'payer-short',
        `it pays ${amount} credits, and the payer's chain (read up to block ${view.head.seq}) has ${view.available} available, ` +
          `of which ${outstanding(view, received)} is owed to this node for receipts it countersigned and the payer has not yet appended`,
      );
    },
    stats: () => ({ views: views.size, ...counts }),
  };
}

/** 12 bytes of a receipt id's SHA-256: what a view keeps of each id. */
function idKey(receiptId: string): string {
  return createHash('sha256').update(receiptId).digest('base64').slice(0, 16);
}

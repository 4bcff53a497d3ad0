/**
 * Whether a payer pledged a receipt (docs/chain.md "Payers' chains"). Before this node countersigns
 * a receipt, the payer's chain, read through the gateways and audited here (every block's signature
 * and link, the balance rules, each receipt id once, the idle burns), must hold an open PLEDGE of
 * those very receipt bytes to this node. A payer pledges a receipt before it sends it, and a PLEDGE
 * takes the amount off what its chain may spend: so the credit a payer moves is credit its chain
 * holds, once, whatever the number of payees, and a pledge stays until this node countersigns the
 * receipt (RECEIPT_OUT) or its void (RELEASE). A pledge once read needs no fresher read.
 *
 * A chain is read on from where the last read got to (the cursor: blocks audited, never again),
 * page by page; a receipt whose pledge is not in what was read has the chain read on. The verdict
 * `not-pledged` needs a read that reached the head the payer reported in a page asked after the
 * receipt came (the pledge, appended before the receipt was sent, would be in it).
 *
 * Reads take turns (read-turns.ts): one budget of audit time for all payers, a queue served in
 * order in the background, a short read on of a chain read to its head before ahead of the queue.
 * A chain that does not audit keeps its cursor at the last good page (what follows is read on
 * after BAD_CHAIN_RETRY_MS), and so does one whose node reports a head below what it sent before;
 * a read that fails waits FAILED_READ_RETRY_MS, and one the payer's node asks to wait, as long as
 * it asks.
 *
 * Answers (check): pledged; `not-pledged` (a ReceiptRefusal, the one verdict on the receipt: a void
 * is then let off, void-book.ts); else, letting nothing off: SWARM_OVERLOADED with when to retry
 * (not read far enough yet, waiting its turn, the payer's node asking to wait), SWARM_UNAVAILABLE
 * (its chain could not be read: the payer's outbox backs off as for a payee that is down) or
 * SWARM_INVALID_CHAIN (it does not audit; not retryable once the payer is convicted of a fork).
 * Kept in memory, and in a file across restarts (payer-view-file.ts): a restart reads each
 * payer's chain on from where it was audited.
 */
import type { ChainEntry, ChainHead, ChainRules, FetchChainPage, Pledge, SignatureCheck } from '@swarm/chain';
import {
  cachedSignatureCheck,
  ChainRefusal,
  provenFork,
  ReceiptRefusal,
  sameBytes,
  signedBlockHash,
  trackPledges,
  verifyChain,
  verifyChainSuffix,
  verifyForkProof,
} from '@swarm/chain';
import type { ForkProof } from '@swarm/contracts';
import { BlockKind, CHAIN_OFFER_MAX_BLOCKS, ChainBlock, ErrorCode, SignedBlock, SwarmError } from '@swarm/contracts';
import type { PayerCheck } from '@swarm/credit';
import type { Scheduler, Stopwatch, WallClock } from '@swarm/determinism';
import { RecencyMap } from '@swarm/recency-map';
import { createReadTurns, FAIR_WALL_MS } from './read-turns';
import { randomBytes } from 'node:crypto';
import { BlockHashes } from './block-hashes';
import { ReceiptIdSet, receiptIdKey } from './receipt-id-set';

/** Blocks asked a page: each costs up to three signature checks (about 150-400 µs a block here), so a page holds the event loop about 5-13 ms. */
export const PAYER_PAGE_BLOCKS = CHAIN_OFFER_MAX_BLOCKS;
/** Wall time one read goes on at most, each page given what is left of it: inside the 8 s the payer's call gives this node's ledger. */
export const READ_BUDGET_MS = 3_000;
/** The least wait a payer is told when its chain is not read far enough yet. */
export const MIN_RETRY_MS = 1_000;
/** Audit time for payers' chains, all payers together: a fifth of one core, and at most this much at once. */
export const AUDIT_MS_PER_SECOND = 200;
export const AUDIT_BURST_MS = 5_000;
/** What a page is charged at least, per block (a test's clock does not move while it audits). */
export const MIN_MS_PER_BLOCK = 0.1;
/** Pages a short read takes: a chain read to its head before, read on ahead of the queue. */
export const SHORT_READ_PAGES = 2;
/** When a payer waiting its turn is told to try again. */
export const QUEUED_RETRY_MS = 1_000;
/** The least time a page is given. */
export const MIN_PAGE_TIMEOUT_MS = 500;
/** What a page is charged at least, even an empty one (a short read answering nothing new is not free). */
export const MIN_PAGE_MS = 1;
/** Payers held off (a chain that does not audit, one that could not be read, a node that asked to wait), kept apart from the views: a flood of new payers does not lift a hold. */
export const MAX_HOLDS = 4_096;
/** What follows a chain's last good page is not read again for this long. */
export const BAD_CHAIN_RETRY_MS = 300_000;
/** Payers convicted of a fork remembered with their proofs (a proof is 0.3-1.2 KB; the oldest forgotten past it, the router keeping its own): each refused for good. */
export const MAX_CONVICTED = 16_384;
/**
 * Heads of forgotten views remembered (the oldest forgotten past it; a block is 300-600 bytes): a
 * chain read again from genesis must reach its anchor's seq, with that very block, before any
 * receipt of it passes, so forgetting one of the last 16,384 views forgotten never lets its payer
 * show another branch.
 */
export const MAX_ANCHORS = 16_384;
/** A read that failed (the payer or the gateway unreachable) is not tried again for this long. */
export const FAILED_READ_RETRY_MS = 5_000;
/**
 * Payers' chains remembered. Past it, the one with the fewest blocks audited is forgotten (the
 * cheapest to read again; of equals, the least recently used); past MAX_REMEMBERED_IDS, the one
 * holding the most ids. Never one being read or waiting its turn.
 */
export const MAX_VIEWS = 1_024;
/** Receipt ids remembered across the views (16-32 bytes each: receipt-id-set.ts), a pledge counting PLEDGE_WEIGHT ids. */
export const MAX_REMEMBERED_IDS = 2_000_000;
/** A pledge kept (a Map entry: its key, the receipt's 64-hex digest, its amount; about 300 bytes) weighs this many ids. */
export const PLEDGE_WEIGHT = 10;
/**
 * A single chain weighing more than this is not audited here: 250,000 receipts, fewer with pledges
 * kept (open ones, and released ones a reinstating RECEIPT_OUT may still close). At least 8 such
 * fit MAX_REMEMBERED_IDS, so one chain being read never forces out all the others.
 */
export const MAX_CHAIN_WEIGHT = MAX_REMEMBERED_IDS / 8;
/** Receipts whose pledge prepare found, remembered for their check in the ledger's turn (views may be forgotten in between). */
export const MAX_PREPARED = 16_384;
/** The longest wait a payer's node may ask for before its chain's next page (a hint past it is taken as this). */
export const MAX_ASKED_WAIT_MS = 60_000;

/**
 * A view keeps the hash of every block whose seq is a multiple of this: a sighting of another payee
 * (sighting-watch.ts) at any seq below the head is then compared by reading at most this many blocks
 * of the payer's chain, linked up to a hash already audited. 32 bytes a checkpoint.
 */
export const CHECKPOINT_BLOCKS = 256n;

/** What prepare gives the sightings of a payer to be compared before its receipt's turn. */
export const SIGHTINGS_CLEAR_MS = 3_000;

/** The sighting watch as a receipt's check needs it (sighting-watch.ts SightingWatch). */
export interface SightingGate {
  clear(payer: string, atLeast: bigint, budgetMs: number): Promise<boolean>;
  cleared(payer: string): bigint;
}

/** Pages of a payer's chain (through the gateway), each within `timeoutMs`. */
export type FetchPayerPage = (fromSeq: bigint, limit: number, timeoutMs: number) => ReturnType<FetchChainPage>;

export interface PayerViewsDeps {
  readonly rules: ChainRules;
  readonly fetchChain: (payer: string) => FetchPayerPage;
  /** The auditor's clock: blocks from the future are refused. */
  readonly clock: WallClock;
  /** Times reads, their audit and the budget. */
  readonly stopwatch: Stopwatch;
  /** Resumes queued reads as the budget refills. */
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  readonly checkSignature?: SignatureCheck;
  /** The shared budget of audit time (default AUDIT_MS_PER_SECOND, AUDIT_BURST_MS). */
  readonly budget?: { readonly msPerSecond: number; readonly burstMs: number };
  /** What is kept (default MAX_VIEWS, MAX_REMEMBERED_IDS, MAX_CHAIN_WEIGHT). */
  readonly limits?: { readonly maxViews: number; readonly maxRememberedIds: number; readonly maxChainWeight: number };
  /**
   * Chains audited before a restart (kept(), read back by payer-view-file.ts), least recently used
   * first: read on from their heads rather than from genesis again. Within the limits, as any view.
   */
  readonly restored?: readonly KeptView[];
  /**
   * Told of a fork a payer showed this node (forkProofOf): another block where one was audited, a
   * block after the head audited naming another one before it (offered or read), or two of one seq
   * in a page. The payer is convicted: its receipts are refused for good (kept across restarts);
   * the node's router keeps the proof and trusts the payer no more.
   */
  readonly onFork?: (payer: string, proof: ForkProof) => void;
  /** Payers convicted before a restart (convictions(), kept by payer-view-file.ts), with their proofs. */
  readonly convicted?: ReadonlyArray<readonly [string, ForkProof]>;
  /** Anchors of views forgotten before a restart (anchors()). */
  readonly anchors?: ReadonlyArray<readonly [string, Anchor]>;
  /** Told when a page of `payer`'s chain audited (read or offered): its head moved (sighting-watch.ts). */
  readonly onAudited?: (payer: string) => void;
  /**
   * Other payees' sightings (sighting-watch.ts): a receipt is countersigned only once they are
   * compared up to a head holding its pledge (prepare asks, check requires). Absent: not held back.
   */
  readonly sightings?: Pick<SightingGate, 'clear' | 'cleared'>;
  /** The key of the block digests views keep (block-hashes.ts); a random one by default. */
  readonly hashKey?: Uint8Array;
}

/** Where a forgotten view's chain had been audited to: its head's seq and block. */
export interface Anchor {
  readonly seq: bigint;
  readonly block: Uint8Array;
}

/** A payer's chain as far as it was audited: its head (and the head's block), its receipt ids and its pledges not paid. */
export interface KeptView {
  readonly payer: string;
  readonly head: ChainHead;
  /** The SignedBlock at the head, as read: one half of a fork proof, should the payer show another. */
  readonly headBlock: Uint8Array;
  readonly ids: ReceiptIdSet;
  readonly pledges: ReadonlyMap<string, Pledge>;
  /** The hashes of its audited blocks whose seq is a multiple of CHECKPOINT_BLOCKS (those audited since views kept them). */
  readonly checkpoints: ReadonlyMap<bigint, Uint8Array>;
}

/** What a payer's chain was audited to, as sightings compare it: its head, the head's block, its checkpoints, its blocks' hash prefixes. */
export interface AuditedHead {
  readonly head: ChainHead;
  readonly headBlock: Uint8Array;
  readonly checkpoints: ReadonlyMap<bigint, Uint8Array>;
  /** Each block audited since the view started, by a keyed digest of its hash (block-hashes.ts). */
  readonly hashes: Pick<BlockHashes, 'matches'>;
}

export interface PayerViewStats {
  readonly views: number;
  readonly reads: number;
  readonly blocksRead: number;
  /** Of blocksRead, those payers offered (offer). */
  readonly offeredBlocks: number;
  /** Chains found not to audit. */
  readonly badChains: number;
  readonly failedReads: number;
  /** Payers waiting their turn now. */
  readonly queued: number;
  /** Views taken back at start (deps.restored). */
  readonly restored: number;
  /** Forks payers showed this node, each proven (deps.onFork). */
  readonly forks: number;
}

export interface PayerViews extends PayerCheck {
  /**
   * Blocks `payer` offers of its own chain from `fromSeq` (a payer behind NAT, whose gateway this
   * node cannot reach): those that go on from the cursor are audited as a read's page would be,
   * from the same budget, never ahead of payers waiting their turn. Answers the seq wanted next
   * (the cursor + 1). Taken only from a payer whose chain this node could not read for a receipt
   * (or that did not audit). An offer never confirms a `not-pledged` verdict: made before
   * it came, it may predate the pledge of a receipt that overtook it. Throws a SwarmError: not such
   * a payer (PERMISSION_DENIED), payers waiting their turn or no audit time left now (OVERLOADED),
   * blocks that do not audit or another block at the head audited (INVALID_CHAIN, and the payer
   * held off for BAD_CHAIN_RETRY_MS).
   */
  offer(payer: string, fromSeq: bigint, blocks: readonly Uint8Array[]): bigint;
  /** Every chain audited, least recently used first (what deps.restored takes back). */
  kept(): KeptView[];
  /** How far `payer`'s chain was audited; undefined when it was not, or when the payer is convicted. */
  audited(payer: string): AuditedHead | undefined;
  /** Reads `payer`'s chain on (in turn, as a receipt would have it read), unless it is held off; resolves when that read ends. */
  readOn(payer: string): Promise<void>;
  /**
   * Convicts `payer` on a fork proof found elsewhere (another payee's sighting, sighting-watch.ts):
   * refused for good, as for one its own pages proved. False when the proof does not convict that payer.
   */
  convictWith(payer: string, proof: ForkProof): boolean;
  /** Payers this node holds a fork proof against, oldest first (what deps.convicted takes back). */
  convictions(): Array<[string, ForkProof]>;
  /** Anchors of forgotten views, oldest first (what deps.anchors takes back). */
  anchors(): Array<[string, Anchor]>;
  /** `payer`'s anchor: the head of a forgotten view of it its chain must come back through. */
  anchorOf(payer: string): Anchor | undefined;
  /**
   * Keeps `anchor` as `payer`'s when it is above what this node keeps of that payer (its view's head,
   * its anchor) and the payer is not convicted: a block it published a sighting of that the views
   * file did not keep (a crash between its writes, or before the first, a file set aside), so its
   * sighting is signed again and the payer's chain must come back through it (helper-163, helper-164).
   * Only the payer's own block of that seq.
   */
  adoptAnchor(payer: string, anchor: Anchor): boolean;
  /** Whether `payer` is convicted of a fork. */
  isConvicted(payer: string): boolean;
  stats(): PayerViewStats;
  /** Resolves once no read is going on (tests). */
  idle(): Promise<void>;
  /** No more reads: the queue is dropped, its timer cancelled, and reads going on end at their next page. */
  stop(): void;
}

/** How far a payer's chain has been audited. */
interface Cursor {
  readonly head: ChainHead;
  readonly headBlock: Uint8Array;
  readonly ids: ReceiptIdSet;
  /** Its pledges not paid (open or released), to any node, by receiptIdKey: what its later blocks must match. */
  readonly pledges: Map<string, Pledge>;
  /** Hashes of the blocks audited at multiples of CHECKPOINT_BLOCKS. */
  readonly checkpoints: Map<bigint, Uint8Array>;
  /** Hash prefixes of the blocks audited since the view started (not kept in the file). */
  readonly hashes: BlockHashes;
}

/** The last read that reached the head the payer reported. */
interface Confirmed {
  readonly seq: bigint;
  /** How many receipts had come (of all payers) when the page that reached it was asked for. */
  readonly afterArrival: number;
}

interface View {
  cursor: Cursor | undefined;
  confirmed: Confirmed | undefined;
  /** The arrival number of this payer's last receipt (prepare): a count, so a read asked for in the same millisecond after it still counts. */
  arrival: number;
  /** No read before this (stopwatch ms). */
  retryAtMs: number;
  /**
   * Why the last read did not confirm, in this node's words: `broken`, the chain does not audit;
   * `unreadable`, it could not be read; `behind`, read part way or asked to wait.
   */
  problem: Problem | undefined;
}

type Problem = { readonly kind: 'broken' | 'unreadable' | 'behind'; readonly message: string };

export function startPayerViews(deps: PayerViewsDeps): PayerViews {
  const { rules, clock, stopwatch } = deps;
  const checkSignature = deps.checkSignature ?? cachedSignatureCheck();
  const { msPerSecond, burstMs } = deps.budget ?? { msPerSecond: AUDIT_MS_PER_SECOND, burstMs: AUDIT_BURST_MS };
  const { maxViews, maxRememberedIds, maxChainWeight } = deps.limits ?? { maxViews: MAX_VIEWS, maxRememberedIds: MAX_REMEMBERED_IDS, maxChainWeight: MAX_CHAIN_WEIGHT };
  const views = new Map<string, View>();
  // The key of the views' block digests (block-hashes.ts): this process's own, never shown.
  const hashKey = deps.hashKey ?? randomBytes(32);
  let rememberedIds = 0;
  /** Receipts that came (prepare), all payers together. */
  let arrivals = 0;
  /** Payer and receipt id -> the digest prepare found pledged: its check passes even if the view was forgotten since (oldest first). */
  const prepared = new RecencyMap<string, { readonly digest: string; readonly headSeq: bigint }>(MAX_PREPARED);
  const preparedKey = (payer: string, receiptId: string) => `${payer}\n${receiptId}`;
  const counts = { reads: 0, blocksRead: 0, offeredBlocks: 0, badChains: 0, failedReads: 0, restored: 0, forks: 0 };

  /** Payers held off, apart from the views (MAX_HOLDS, the oldest forgotten first). */
  const holds = new RecencyMap<string, { readonly retryAtMs: number; readonly problem: Problem }>(MAX_HOLDS);
  /** Payers proven to have forked, with the proof: refused for good, views or not, across restarts. */
  const convicted = new RecencyMap<string, ForkProof>(MAX_CONVICTED, deps.convicted);
  const anchors = new RecencyMap<string, Anchor>(MAX_ANCHORS, deps.anchors);
  /** Keeps `cursor`'s head as `payer`'s anchor, unless one further on is kept already. */
  const keepAnchor = (payer: string, cursor: Cursor) => {
    if ((anchors.get(payer)?.seq ?? 0n) >= cursor.head.seq) return;
    anchors.set(payer, { seq: cursor.head.seq, block: cursor.headBlock });
  };
  const anchorAbove = (payer: string, view: View | undefined): Anchor | undefined => {
    const anchor = anchors.get(payer);
    return anchor !== undefined && (view?.cursor?.head.seq ?? 0n) < anchor.seq ? anchor : undefined;
  };
  const refuseConvicted = (payer: string): SwarmError => {
    const seq = forkSeq(convicted.get(payer));
    return new SwarmError(
      ErrorCode.ERROR_CODE_INVALID_CHAIN,
      `your node's chain forked (it signed two different blocks ${seq}; this node holds the proof): this node countersigns none of its receipts`,
      false,
    );
  };
  const holdOff = (payer: string, view: View, retryAtMs: number, problem: Problem) => {
    view.retryAtMs = retryAtMs;
    view.problem = problem;
    holds.set(payer, { retryAtMs, problem });
  };

  const viewOf = (payer: string): View => {
    let view = views.get(payer);
    if (view) {
      // Most recently used last.
      views.delete(payer);
      views.set(payer, view);
      return view;
    }
    const held = holds.get(payer);
    view = { cursor: undefined, confirmed: undefined, arrival: 0, retryAtMs: held?.retryAtMs ?? 0, problem: held?.problem };
    views.set(payer, view);
    evict(payer);
    return view;
  };

  /** Forgets views past the limits (MAX_VIEWS, MAX_REMEMBERED_IDS), never one being read or waiting its turn. */
  const evict = (keep: string) => {
    while (views.size > maxViews || rememberedIds > maxRememberedIds) {
      const byIds = rememberedIds > maxRememberedIds;
      let pick: string | undefined;
      let score = byIds ? -1 : Infinity;
      // In least recently used order: of equals, the first.
      for (const [payer, view] of views) {
        if (payer === keep || turns.isWaiting(payer)) continue;
        const s = byIds ? weightOf(view.cursor) : Number(view.cursor?.head.seq ?? 0n);
        if (byIds ? s > score : s < score) {
          pick = payer;
          score = s;
        }
      }
      if (pick === undefined) return;
      const forgotten = views.get(pick)?.cursor;
      rememberedIds -= weightOf(forgotten);
      views.delete(pick);
      // Its next read starts from genesis: it must come back through this very block.
      if (forgotten !== undefined) keepAnchor(pick, forgotten);
    }
  };

  /** Whether the chain read holds an open pledge of `receiptId` (a receipt to this node, its bytes checked by `digest`). */
  const pledgeIn = (payer: string, view: View | undefined, receiptId: string, digest: string): 'pledged' | 'other bytes' | undefined => {
    // Not before the chain is read back past where a forgotten view of it had been.
    if (anchorAbove(payer, view) !== undefined) return undefined;
    const held = view?.cursor?.pledges.get(receiptIdKey(receiptId));
    if (held === undefined || held.released) return undefined;
    return held.digest === digest ? 'pledged' : 'other bytes';
  };
  // Blocks' hash prefixes (8 bytes a block) are not weighed: a chain's blocks are at most a few times its receipts and pledges, which are.
  const weightOf = (cursor: Cursor | undefined) => (cursor?.ids.size ?? 0) + PLEDGE_WEIGHT * (cursor?.pledges.size ?? 0);
  /** A read that reached the head the payer reported in a page asked after its last receipt came: one that would hold the pledge. */
  const readSinceAsked = (view: View | undefined): Confirmed | undefined =>
    view?.confirmed !== undefined && view.confirmed.afterArrival >= view.arrival ? view.confirmed : undefined;

  /** One turn of reading `payer`'s chain on; true when it should go on at a later turn. Never throws. */
  const read = async (payer: string, short: boolean): Promise<boolean> => {
    const view = views.get(payer);
    if (view === undefined) return false;
    const goesOn = await readTurn(payer, view, short);
    // A payer not one block of whose chain was audited takes no view once its read has ended: its hold, if any, is kept apart.
    if (!goesOn && view.cursor === undefined && views.get(payer) === view) views.delete(payer);
    return goesOn;
  };

  const readTurn = async (payer: string, view: View, short: boolean): Promise<boolean> => {
    counts.reads += 1;
    const started = stopwatch.now();
    let spentMs = 0;
    let pages = 0;
    const fetchPage = deps.fetchChain(payer);
    try {
      for (;;) {
        const seq = view.cursor?.head.seq ?? 0n;
        const wallMs = stopwatch.now() - started;
        if (turns.turnOver(spentMs, wallMs) || wallMs >= READ_BUDGET_MS || (short && pages >= SHORT_READ_PAGES)) {
          view.problem = { kind: 'behind', message: `this node has read ${seq} blocks of your node's chain and reads on in turn with other payers'` };
          return true;
        }
        // A short read's pages, and any page while others wait, get at most FAIR_WALL_MS: a slow payer holds a slot no longer.
        const capMs = short || turns.waiting() > 0 ? FAIR_WALL_MS : READ_BUDGET_MS;
        const afterArrival = arrivals;
        const asked = view.cursor;
        const page = await fetchPage(seq + 1n, PAYER_PAGE_BLOCKS, Math.max(MIN_PAGE_TIMEOUT_MS, Math.min(capMs, READ_BUDGET_MS - wallMs)));
        pages += 1;
        // The payer offered blocks meanwhile (offer): this page goes on from where the cursor was.
        if (view.cursor !== asked) continue;
        // A head below what it sent before: it shows this node a shorter chain than it did.
        const anchor = anchors.get(payer);
        const sentBefore = anchor !== undefined && anchor.seq > seq ? anchor.seq : seq;
        const refusal =
          page.headSeq < sentBefore
            ? new ChainRefusal('gap', `your node now reports its chain ends at block ${page.headSeq}, and it sent this node block ${sentBefore}`)
            : undefined;
        const { costMs, broken } = takePage(payer, view, seq, page.blocks, refusal);
        spentMs += costMs;
        if (broken) return false;
        const reached = view.cursor?.head.seq ?? 0n;
        if (view.cursor !== undefined && reached >= page.headSeq) {
          view.confirmed = { seq: reached, afterArrival };
          view.problem = undefined;
          holds.delete(payer);
          return false;
        }
        if (page.blocks.length === 0) {
          holdOff(payer, view, stopwatch.now() + FAILED_READ_RETRY_MS, {
            kind: 'unreadable',
            message: `your node reported blocks up to ${page.headSeq} and sent none after ${reached}`,
          });
          return false;
        }
      }
    } catch (err) {
      // The payer's node asking this one to wait (its budget of pages sent): as long as it asks.
      if (err instanceof SwarmError && err.code === ErrorCode.ERROR_CODE_OVERLOADED && err.retryAfterMs > 0) {
        const waitMs = Math.min(err.retryAfterMs, MAX_ASKED_WAIT_MS);
        holdOff(payer, view, stopwatch.now() + waitMs, { kind: 'behind', message: `your node asked this node to wait ${waitMs} ms for its chain's pages` });
        return false;
      }
      counts.failedReads += 1;
      const message = `your node's chain could not be read: ${err instanceof Error ? err.message.slice(0, 200) : 'an unknown error'}`;
      holdOff(payer, view, stopwatch.now() + FAILED_READ_RETRY_MS, { kind: 'unreadable', message });
      return false;
    }
  };

  /**
   * Audits `blocks` (what follows block `seq`, read or offered) into `view`, or holds `payer` off
   * as `broken` when they do not audit or `refusal` says its node contradicts itself; charges what
   * it took to the budget, an empty page too. Throws only what is not a refusal.
   */
  const takePage = (payer: string, view: View, seq: bigint, blocks: readonly Uint8Array[], refusal?: ChainRefusal): { costMs: number; broken?: Problem } => {
    const auditStart = stopwatch.now();
    let broken: Problem | undefined;
    try {
      if (refusal) throw refusal;
      if (blocks.length > 0) {
        // Before the audit: it changes the view's ids and pledges in place.
        const passed = checkAnchor(payer, seq, blocks);
        view.cursor = audit(payer, view.cursor, blocks);
        if (passed) anchors.delete(payer);
        tell(payer);
        // What it grew by may put the views past the limits: others are forgotten now, not when a new payer comes.
        evict(payer);
      }
    } catch (err) {
      if (!(err instanceof ChainRefusal || err instanceof ReceiptRefusal)) throw err;
      counts.badChains += 1;
      broken = { kind: 'broken', message: `your node's chain does not audit after block ${seq}: ${err.message.slice(0, 300)}` };
      holdOff(payer, view, stopwatch.now() + BAD_CHAIN_RETRY_MS, broken);
      if (err instanceof ChainRefusal) {
        // The one place a page proves a fork: two blocks of one seq, or a block that does not go
        // on from the one before it, the head audited included (the audit's proof), or the anchor's.
        if (err.reason === 'fork' && err.forkProof) convict(payer, view, err.forkProof);
      }
    }
    const costMs = Math.max(stopwatch.now() - auditStart, blocks.length * MIN_MS_PER_BLOCK, MIN_PAGE_MS);
    turns.charge(costMs);
    counts.blocksRead += blocks.length;
    return { costMs, broken };
  };

  /**
   * Whether `blocks` (from seq + 1) reach `payer`'s anchor with the anchor's own block (the anchor
   * can then go, once they audit). Throws a ChainRefusal when they hold another block there: a
   * `fork` with its proof when the payer signed it.
   */
  const checkAnchor = (payer: string, seq: bigint, blocks: readonly Uint8Array[]): boolean => {
    const anchor = anchors.get(payer);
    if (anchor === undefined || anchor.seq <= seq || anchor.seq > seq + BigInt(blocks.length)) return false;
    const block = blocks[Number(anchor.seq - seq - 1n)];
    if (sameBytes(block, anchor.block)) return true;
    const proof = provenFork(anchor.block, block);
    const message = `another block ${anchor.seq} than the one your node showed this node before`;
    throw proof ? new ChainRefusal('fork', message, anchor.seq, proof) : new ChainRefusal('invalid-field', message, anchor.seq);
  };

  /** Holds `payer` off as a forked chain, and tells deps.onFork the proof. */
  const convict = (payer: string, view: View, proof: ForkProof) => {
    holdOff(payer, view, stopwatch.now() + BAD_CHAIN_RETRY_MS, {
      kind: 'broken',
      message: `your node's chain forked: it signed two different blocks ${forkSeq(proof)} (a fork proof, kept by this node's router)`,
    });
    if (convicted.has(payer)) return;
    convicted.set(payer, proof);
    counts.forks += 1;
    try {
      deps.onFork?.(payer, proof);
    } catch {
      // Telling is the caller's to retry: the conviction stands either way.
    }
  };

  const tell = (payer: string) => {
    try {
      deps.onAudited?.(payer);
    } catch {
      // The listener's to handle: the audit stands.
    }
  };

  const turns = createReadTurns({ stopwatch, scheduler: deps.scheduler, msPerSecond, burstMs, run: read });

  for (const kept of deps.restored ?? []) {
    const cursor: Cursor = {
      head: kept.head,
      headBlock: kept.headBlock,
      ids: kept.ids,
      pledges: new Map(kept.pledges),
      checkpoints: new Map(kept.checkpoints),
      hashes: new BlockHashes(kept.head.seq, hashKey),
    };
    if (kept.head.nodeId !== kept.payer || views.has(kept.payer)) continue;
    // Too heavy to keep now, or kept before views had checkpoints (sightings far below its head
    // could not be compared, and its payer's receipts would be held for good): read again from
    // genesis, its head still binding what the payer shows next.
    if (weightOf(cursor) > maxChainWeight || BigInt(cursor.checkpoints.size) < kept.head.seq / CHECKPOINT_BLOCKS) {
      keepAnchor(kept.payer, cursor);
      continue;
    }
    views.set(kept.payer, { cursor, confirmed: undefined, arrival: 0, retryAtMs: 0, problem: undefined });
    rememberedIds += weightOf(cursor);
  }
  // Past the limits (smaller ones than when they were kept): the usual choice of what to forget.
  evict('');
  counts.restored = views.size;

  /** The cursor after a page read on from `cursor`. Throws a ChainRefusal (or ReceiptRefusal) when it does not audit, the cursor unchanged. */
  const audit = (payer: string, cursor: Cursor | undefined, page: readonly Uint8Array[]): Cursor => {
    const options = { expectedNodeId: payer, checkSignature, nowMs: clock.now() };
    const ids = cursor?.ids ?? new ReceiptIdSet();
    const pledges = cursor?.pledges ?? new Map<string, Pledge>();
    // Nothing below changes until the page has audited: a refused page leaves the cursor as it was.
    const result =
      cursor === undefined
        ? verifyChain(page, rules, options)
        : verifyChainSuffix(cursor.head, page, rules, (id) => ids.has(id), { ...options, pledgeOf: (id) => pledges.get(receiptIdKey(id)), headBlock: cursor.headBlock });
    // Weighed before anything changes (new ids counted at most once each, an upper bound).
    const receipts = result.entries.filter((e) => e.receipt !== undefined).length;
    const weight = ids.size + receipts + PLEDGE_WEIGHT * pledgesAfter(pledges, result.entries);
    if (weight > maxChainWeight)
      throw new ChainRefusal(
        'invalid-field',
        `a chain weighing more than ${maxChainWeight} receipt ids (its receipts, and its pledges kept at ${PLEDGE_WEIGHT} each) is more than this node audits`,
      );
    const before = weightOf(cursor);
    for (const entry of result.entries) if (entry.receipt !== undefined) ids.add(entry.receipt.receiptId);
    trackPledges(pledges, result.entries, receiptIdKey);
    const checkpoints = cursor?.checkpoints ?? new Map<bigint, Uint8Array>();
    const hashes = cursor?.hashes ?? new BlockHashes(0n, hashKey);
    result.entries.forEach((entry, i) => {
      const hash = signedBlockHash(page[i]);
      hashes.push(entry.seq, hash);
      if (entry.seq % CHECKPOINT_BLOCKS === 0n) checkpoints.set(entry.seq, hash);
    });
    const next = { head: result.head, headBlock: page[page.length - 1], ids, pledges, checkpoints, hashes };
    rememberedIds += weightOf(next) - before;
    return next;
  };

  return {
    async prepare(payer, receiptId, digest) {
      // Refused at check, whatever a read would find.
      if (convicted.has(payer)) return;
      const view = viewOf(payer);
      arrivals += 1;
      const arrival = arrivals;
      view.arrival = arrival;
      // A chain read to its head before is read on by a page or two, ahead of those waiting their turn.
      const readOn = async () => {
        // Pledged in what was read: no read needed, however long ago it was made (a pledge stays until this node answers it).
        if (pledgeIn(payer, view, receiptId, digest) !== undefined || stopwatch.now() < view.retryAtMs) return false;
        const short = view.confirmed !== undefined && view.cursor !== undefined && view.cursor.head.seq === view.confirmed.seq;
        await turns.request(payer, short);
        return true;
      };
      // A read already going when this receipt came may have asked for its page before the pledge: once more.
      if ((await readOn()) && (view.confirmed?.afterArrival ?? arrival) < arrival) await readOn();
      if (pledgeIn(payer, view, receiptId, digest) === 'pledged') {
        // The pledge is at or below this head: the other payees' sightings compared up to it, before the ledger's turn.
        const headSeq = view.cursor?.head.seq ?? 0n;
        await deps.sightings?.clear(payer, headSeq, SIGHTINGS_CLEAR_MS);
        // Most recently prepared last: a retried receipt moves to the end.
        prepared.set(preparedKey(payer, receiptId), { digest, headSeq });
      }
    },
    check(payer, receiptId, digest) {
      if (convicted.has(payer)) throw refuseConvicted(payer);
      const view = views.get(payer);
      const pledge = pledgeIn(payer, view, receiptId, digest);
      const atPrepare = prepared.get(preparedKey(payer, receiptId));
      const foundAtPrepare = atPrepare?.digest === digest;
      prepared.delete(preparedKey(payer, receiptId));
      // A pledge stays open until this node answers the receipt, which it does now: once no other
      // payee's sighting shows another branch up to a head holding it.
      if (pledge === 'pledged' || foundAtPrepare) {
        const needed = foundAtPrepare ? atPrepare.headSeq : (view?.cursor?.head.seq ?? 0n);
        if (deps.sightings !== undefined && deps.sightings.cleared(payer) < needed) {
          const lead = `this node countersigns a receipt once other payees' sightings of your node's chain, up to block ${needed}, are compared with what it audited, and they are not yet`;
          // A chain this node cannot read (a payer behind NAT): the outbox offers it on UNAVAILABLE, and the comparison may need what it offers.
          if ((view?.problem ?? holds.get(payer)?.problem)?.kind === 'unreadable') {
            throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `${lead}: it cannot read your node's chain to compare them`, true);
          }
          throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, `${lead}; retry in ${MIN_RETRY_MS} ms`, true, { retryAfterMs: MIN_RETRY_MS });
        }
        return;
      }
      const read = anchorAbove(payer, view) === undefined ? readSinceAsked(view) : undefined;
      if (pledge === 'other bytes' || read !== undefined) {
        throw new ReceiptRefusal(
          'not-pledged',
          pledge === 'other bytes'
            ? `the payer's chain pledges receipt ${receiptId.slice(0, 80)} with other bytes than it sent`
            : `the payer's chain, read up to block ${read?.seq ?? 0n} (its head after the receipt came), holds no PLEDGE of receipt ${receiptId.slice(0, 80)}: ` +
                'a payer pledges a receipt in its chain before it sends it',
        );
      }
      const lead = "this node countersigns only a receipt the payer's chain pledges, and";
      if (turns.isWaiting(payer)) {
        throw new SwarmError(
          ErrorCode.ERROR_CODE_OVERLOADED,
          `${lead} your node's chain waits its turn to be read (${turns.waiting()} payer(s) waiting); retry in ${QUEUED_RETRY_MS} ms`,
          true,
          {
            retryAfterMs: QUEUED_RETRY_MS,
          },
        );
      }
      const held = holds.get(payer);
      const problem: Problem = view?.problem ?? held?.problem ?? { kind: 'behind', message: "this node has not read your node's chain far enough yet" };
      const waitMs = Math.max(MIN_RETRY_MS, Math.round((view?.retryAtMs ?? held?.retryAtMs ?? 0) - stopwatch.now()));
      const message = `${lead} ${problem.message}`;
      // Unreadable: no hint, so the outbox backs off as for a payee that is down.
      if (problem.kind === 'unreadable') throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, message, true);
      if (problem.kind === 'broken') throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_CHAIN, `${message}; retry in ${waitMs} ms`, true);
      throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, `${message}; retry in ${waitMs} ms`, true, { retryAfterMs: waitMs });
    },
    offer(payer, fromSeq, blocks) {
      if (convicted.has(payer)) throw refuseConvicted(payer);
      // Only from a payer whose chain could not be read (or did not audit, to read on after its
      // hold): one this node reads itself gains nothing by offering, and spends the shared budget.
      const kind = (views.get(payer)?.problem ?? holds.get(payer)?.problem)?.kind;
      if (kind !== 'unreadable' && kind !== 'broken') {
        throw new SwarmError(
          ErrorCode.ERROR_CODE_PERMISSION_DENIED,
          "this node takes blocks of the chain of a node whose chain it could not read for a receipt, and your node's is not one; send the receipt first",
        );
      }
      const view = viewOf(payer);
      const now = stopwatch.now();
      if (view.problem?.kind === 'broken' && now < view.retryAtMs) {
        throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_CHAIN, `${view.problem.message}; retry in ${Math.round(view.retryAtMs - now)} ms`, true);
      }
      const seq = view.cursor?.head.seq ?? 0n;
      const skip = seq + 1n - fromSeq;
      if (blocks.length === 0 || skip < 0n) return seq + 1n;
      // The block at the head audited, when the offer holds it, must be that very block: another one
      // of that seq is a fork of the payer's (two blocks it signed with one seq, or junk in its place).
      const atHead = skip - 1n;
      if (view.cursor && atHead >= 0n && atHead < BigInt(blocks.length) && !isBlockWithHash(blocks[Number(atHead)], view.cursor.head.hash)) {
        counts.badChains += 1;
        const broken: Problem = { kind: 'broken', message: `your node's offer holds another block ${seq} than the one this node audited (a fork of its chain)` };
        holdOff(payer, view, stopwatch.now() + BAD_CHAIN_RETRY_MS, broken);
        // Signed by the payer, it is a proof; junk in its place is only refused.
        const proof = provenFork(view.cursor.headBlock, blocks[Number(atHead)]);
        if (proof) convict(payer, view, proof);
        if (convicted.has(payer)) throw refuseConvicted(payer);
        throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_CHAIN, `${broken.message}; retry in ${BAD_CHAIN_RETRY_MS} ms`, true);
      }
      if (skip >= BigInt(blocks.length)) return seq + 1n;
      // An offer is audited as a read turn is, and never ahead of payers waiting theirs.
      const waitMs = turns.waiting() > 0 ? QUEUED_RETRY_MS : turns.budgetWaitMs();
      if (waitMs > 0) {
        throw new SwarmError(
          ErrorCode.ERROR_CODE_OVERLOADED,
          `this node audits payers' chains ${msPerSecond} ms a second, all payers together, in turn (${turns.waiting()} waiting); retry in ${waitMs} ms`,
          true,
          { retryAfterMs: waitMs },
        );
      }
      const page = blocks.slice(Number(skip));
      counts.offeredBlocks += page.length;
      const { broken } = takePage(payer, view, seq, page);
      if (convicted.has(payer)) throw refuseConvicted(payer);
      if (broken) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_CHAIN, `${broken.message}; retry in ${BAD_CHAIN_RETRY_MS} ms`, true);
      return (view.cursor?.head.seq ?? 0n) + 1n;
    },
    kept: () => [...views].flatMap(([payer, view]) => (view.cursor ? [{ payer, ...view.cursor }] : [])),
    audited(payer) {
      const cursor = views.get(payer)?.cursor;
      if (cursor === undefined || convicted.has(payer)) return undefined;
      return { head: cursor.head, headBlock: cursor.headBlock, checkpoints: cursor.checkpoints, hashes: cursor.hashes };
    },
    async readOn(payer) {
      if (convicted.has(payer)) return;
      const view = viewOf(payer);
      if (stopwatch.now() < view.retryAtMs) return;
      const short = view.confirmed !== undefined && view.cursor !== undefined && view.cursor.head.seq === view.confirmed.seq;
      await turns.request(payer, short);
    },
    convictWith(payer, proof) {
      try {
        if (verifyForkProof(proof).nodeId !== payer) return false;
      } catch {
        return false;
      }
      convict(payer, viewOf(payer), proof);
      return true;
    },
    convictions: () => [...convicted],
    anchors: () => [...anchors],
    anchorOf: (payer) => anchors.get(payer),
    adoptAnchor(payer, anchor) {
      if (convicted.has(payer) || !isBlockOf(anchor, payer)) return false;
      if (anchor.seq <= (views.get(payer)?.cursor?.head.seq ?? 0n) || anchor.seq <= (anchors.get(payer)?.seq ?? 0n)) return false;
      anchors.set(payer, anchor);
      return true;
    },
    isConvicted: (payer) => convicted.has(payer),
    stats: () => ({ views: views.size, queued: turns.waiting(), ...counts }),
    idle: () => turns.idle(),
    stop: () => turns.stop(),
  };
}

/** The seq a fork proof convicts: its first block's, of which the node signed two (0 when it does not decode: never, for one this module made). */
function forkSeq(proof: ForkProof | undefined): bigint {
  try {
    return proof?.first ? ChainBlock.decode(proof.first.block).seq : 0n;
  } catch {
    return 0n;
  }
}

/** Whether `bytes` is a SignedBlock whose signed ChainBlock hashes to `hash` (a chain's link: block.ts). */
export function isBlockWithHash(bytes: Uint8Array, hash: Uint8Array): boolean {
  try {
    return sameBytes(signedBlockHash(bytes), hash);
  } catch {
    return false;
  }
}

/** How many pledges `pledges` keeps after `entries` (an audited page): a PLEDGE adds one, the RECEIPT_OUT that pays it takes it away. */
function pledgesAfter(pledges: ReadonlyMap<string, Pledge>, entries: readonly ChainEntry[]): number {
  const kept = new Map<string, boolean>();
  let count = pledges.size;
  for (const e of entries) {
    if (e.receipt === undefined) continue;
    const key = receiptIdKey(e.receipt.receiptId);
    const was = kept.get(key) ?? pledges.has(key);
    if (e.kind === BlockKind.BLOCK_KIND_PLEDGE && !was) count += 1;
    if (e.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT && was) count -= 1;
    if (e.kind === BlockKind.BLOCK_KIND_PLEDGE || e.kind === BlockKind.BLOCK_KIND_RELEASE) kept.set(key, true);
    else if (e.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT) kept.set(key, false);
  }
  return count;
}

/** `anchor.block` is a block of `payer`'s of seq `anchor.seq` (its signature is checked where the chain comes back through it). */
export function isBlockOf(anchor: Anchor, payer: string): boolean {
  try {
    const block = ChainBlock.decode(SignedBlock.decode(anchor.block).block);
    return block.seq === anchor.seq && block.nodeId === payer;
  } catch {
    return false;
  }
}

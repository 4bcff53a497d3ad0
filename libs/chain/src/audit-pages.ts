/**
 * Auditing a chain that arrives page by page (a node's own from credit-svc, a peer's through the
 * gateway): each page is verified as it comes, on from the head the pages before it left, so an
 * auditor holds one page, the head, the receipt ids and the open pledges, never the whole chain. The fetch is
 * injected; a bound refuses a chain too long to audit before its blocks are fetched.
 */
import { CHAIN_PAGE_MAX_BLOCKS, ErrorCode, SwarmError } from '@swarm/contracts';
import { ChainRefusal } from './chain-refusal';
import type { ChainRules } from './chain-rules';
import { short } from './chain-rules';
import type { ChainHead, Pledge } from './chain-state';
import { cachedSignatureCheck, NODE_ID } from './signing';
import type { ChainAudit, ChainEntry, OwedBurns, VerifyChainOptions } from './verify-chain';
import { trackPledges, verifyChain, verifyChainSuffix } from './verify-chain';

/** Most blocks one audit reads: a block is up to ~8.9 KB (a RELEASE, the largest), and each costs up to three signature checks. */
export const MAX_AUDITED_BLOCKS = 1_000_000;
/** Entries kept for the caller to show (the last ones). */
export const DEFAULT_RECENT_ENTRIES = 20;

/** One answer to a page request: ChainBlocksResponse's fields. */
export interface ChainPage {
  /** Encoded SignedBlocks from the seq asked, in order; empty past the head. */
  readonly blocks: readonly Uint8Array[];
  /** The chain's last seq when the node answered. */
  readonly headSeq: bigint;
  /** Whose chain the node says this is; the blocks' own node id is what is checked. */
  readonly nodeId: string;
}

/** Asks the node for blocks `fromSeq`.. (at most `limit`). */
export type FetchChainPage = (fromSeq: bigint, limit: number) => Promise<ChainPage>;

export interface AuditPagesOptions extends VerifyChainOptions {
  /** Refuse a chain longer than this (MAX_AUDITED_BLOCKS). */
  readonly maxBlocks?: number;
  /** Blocks asked per page (CHAIN_PAGE_MAX_BLOCKS, the most a ChainBlocksRequest may ask). */
  readonly pageLimit?: number;
  /** How many of the last entries to keep (DEFAULT_RECENT_ENTRIES). */
  readonly recentEntries?: number;
  /** Told of every block once it is verified, in order, with its SignedBlock bytes (e.g. to look for receipts of interest). */
  readonly onEntry?: (entry: ChainEntry, block: Uint8Array) => void;
}

export interface PagedChainAudit {
  /** The state after the last block audited. */
  readonly head: ChainHead;
  /** The head seq the node reported at the start: the audit reads up to it (blocks appended meanwhile may be read too). */
  readonly reportedHeadSeq: bigint;
  readonly blocksChecked: number;
  readonly pages: number;
  /** The last `recentEntries` blocks, oldest first. */
  readonly recent: readonly ChainEntry[];
  /** With `nowMs`: the idle burns owed by then. */
  readonly owed?: OwedBurns;
}

/**
 * Fetches a chain from seq 1 up to the head the node reports in its first answer and verifies every
 * block (verifyChain, then verifyChainSuffix per page). Throws a ChainRefusal at the first bad block —
 * a `fork` with its proof when the node sent two blocks with one seq or a broken link, within a page or across two —
 * or when the node stops before the head it reported; SWARM_PAYLOAD_TOO_LARGE over `maxBlocks`.
 */
export async function auditChainPages(fetchPage: FetchChainPage, rules: ChainRules, options: AuditPagesOptions = {}): Promise<PagedChainAudit> {
  const { maxBlocks = MAX_AUDITED_BLOCKS, pageLimit = CHAIN_PAGE_MAX_BLOCKS, recentEntries = DEFAULT_RECENT_ENTRIES, onEntry, ...verify } = options;
  // One cache of parsed keys for every page: a chain's blocks share one key, its receipts a few.
  const verifyOptions: VerifyChainOptions = { ...verify, checkSignature: verify.checkSignature ?? cachedSignatureCheck() };
  const receiptIds = new Set<string>();
  const pledges = new Map<string, Pledge>();
  let head: ChainHead | undefined;
  let last: Uint8Array | undefined;
  let reportedHeadSeq: bigint | undefined;
  let owed: OwedBurns | undefined;
  let recent: ChainEntry[] = [];
  let blocksChecked = 0;
  let pages = 0;
  for (;;) {
    const page = await fetchPage(head === undefined ? 1n : head.seq + 1n, pageLimit);
    pages += 1;
    if (reportedHeadSeq === undefined) {
      reportedHeadSeq = page.headSeq;
      if (page.headSeq > BigInt(maxBlocks)) throw tooLong(whose(verify.expectedNodeId ?? page.nodeId), `holds ${page.headSeq} blocks`, maxBlocks);
    }
    if (page.blocks.length === 0) {
      if (head === undefined) throw new ChainRefusal('bad-genesis', `the node sent no blocks (it reports head seq ${page.headSeq})`);
      if (head.seq < reportedHeadSeq) throw new ChainRefusal('gap', `the node reported head seq ${reportedHeadSeq} but sent nothing after block ${head.seq}`, head.seq + 1n);
      break;
    }
    if (blocksChecked + page.blocks.length > maxBlocks) throw tooLong(whose(head?.nodeId ?? verify.expectedNodeId ?? page.nodeId), 'sent more blocks than it reported', maxBlocks);
    const audit: ChainAudit =
      head === undefined
        ? verifyChain(page.blocks, rules, verifyOptions)
        : verifyChainSuffix(head, page.blocks, rules, (id) => receiptIds.has(id), { ...verifyOptions, pledgeOf: (id) => pledges.get(id), headBlock: last });
    trackPledges(pledges, audit.entries);
    // One entry per block of the page, in order.
    audit.entries.forEach((entry, i) => {
      if (entry.receipt) receiptIds.add(entry.receipt.receiptId);
      onEntry?.(entry, page.blocks[i]);
    });
    recent = [...recent, ...audit.entries].slice(-recentEntries);
    head = audit.head;
    owed = audit.owed;
    last = page.blocks[page.blocks.length - 1];
    blocksChecked += page.blocks.length;
    if (head.seq >= reportedHeadSeq) break;
  }
  return { head, reportedHeadSeq, blocksChecked, pages, recent, ...(owed === undefined ? {} : { owed }) };
}

/** A node id from a peer's answer, only when it is one (never its raw text). */
function whose(nodeId: string | undefined): string {
  return nodeId !== undefined && NODE_ID.test(nodeId) ? `the chain of ${short(nodeId)}` : "the node's chain";
}

function tooLong(chain: string, what: string, maxBlocks: number): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `${chain} ${what}; an audit reads at most ${maxBlocks} blocks`);
}

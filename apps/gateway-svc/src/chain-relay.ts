/**
 * Pages of nodes' chains (docs/chain.md), both ways through the gateways, so any node can audit
 * another. In: a peer's PeerService.ChainBlocks is asked of credit-svc (CreditChainBlocks) with the
 * page size clamped, and its answer goes back as it is, within a budget of bytes per caller and per
 * network (CHAIN_PAGE_BYTE_LIMITS: reading, encoding and sending a page costs this node several
 * times what asking for it costs the caller). Out: GatewayFetchChain (operators' `swarm
 * ledger --audit --peer`; the observer role, libs/contracts bus-roles) calls the peer's ChainBlocks
 * and hands back a page that claims to be that peer's chain and holds no more blocks than asked.
 * The blocks themselves are audited by the caller (verifyChain), not here.
 */
import type { BusClient, Handler } from '@swarm/bus';
import { ChainRefusal, MAX_SIGNED_BLOCK_BYTES } from '@swarm/chain';
import type { ChainBlocksResponse, FetchChainRequest } from '@swarm/contracts';
import { CHAIN_PAGE_MAX_BYTES, chainPageLimit, CreditChainBlocks, ErrorCode, SwarmError } from '@swarm/contracts';
import type { PeerHandler } from '@swarm/gateway';
import { NODE_ID_PATTERN, shortId } from '@swarm/gateway';
import { askCredit } from './local-ask';
import type { PeerBudgetLimits, PeerBudgets } from './peer-budgets';
import type { PeerResolver } from './peer-resolve';
import { checkPeerNodeId } from './peer-resolve';

/** How long a peer's gateway has to answer a page: its ledger's share below and the round trip. */
export const CHAIN_PEER_TIMEOUT_MS = 5_000;
/** How long credit-svc has to read a page for a peer: within the auditor's CHAIN_PEER_TIMEOUT_MS. */
export const CREDIT_CHAIN_TIMEOUT_MS = 3_500;
/** A FetchChainRequest is a node id and two numbers. */
export const MAX_FETCH_CHAIN_REQUEST_BYTES = 256;

const MIB = 1024 * 1024;

/**
 * Bytes of chain pages sent per caller: 16 MiB at once (and the page asked while any is left: a
 * chain of ~16,000 receipt blocks of ~1.1 KB), then 1 MiB a second (~950 blocks); per network, four
 * callers' worth. An audit of a longer chain, or a void watch catching up, waits its turn
 * (OVERLOADED with when to retry).
 */
export const CHAIN_PAGE_BYTE_LIMITS: PeerBudgetLimits = Object.freeze({
  perPeer: { perSecond: MIB, burst: 16 * MIB },
  perNetwork: { perSecond: 4 * MIB, burst: 64 * MIB },
  maxKeys: 1_024,
});
/**
 * Bytes taken for each block asked before the page is read, up to a full page's CHAIN_PAGE_MAX_BYTES
 * (a receipt block is ~1.1 KB); the page's real size is charged once read.
 */
export const GUESSED_BLOCK_BYTES = 1_200;
/**
 * The least a page is charged, whatever it holds: a call for one block, or for blocks past the head,
 * still costs this node a ledger read and a round trip (~1.4 ms), so such calls come out of the
 * budget too (64 a second past the burst).
 */
export const MIN_PAGE_CHARGE_BYTES = 16 * 1024;

export interface PeerChainBlocksDeps {
  readonly bus: BusClient;
  /** Default CREDIT_CHAIN_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Bytes of pages per caller and per network (CHAIN_PAGE_BYTE_LIMITS); absent: no limit. */
  readonly pageBytes?: PeerBudgets;
}

/** PeerService.ChainBlocks: a page of this node's chain for an auditing peer, within its budget of bytes. */
export function createPeerChainBlocksHandler(deps: PeerChainBlocksDeps): PeerHandler<'chainBlocks'> {
  const timeoutMs = deps.timeoutMs ?? CREDIT_CHAIN_TIMEOUT_MS;
  const budget = deps.pageBytes;
  return async ({ peerId, network, request, signal, trace }) => {
    const limit = chainPageLimit(request.limit);
    // Taken before the read (never less than the least a page is charged), so calls sent at once
    // cannot all pass an unspent budget.
    const guessed = Math.min(Math.max(limit * GUESSED_BLOCK_BYTES, MIN_PAGE_CHARGE_BYTES), CHAIN_PAGE_MAX_BYTES);
    const waitMs = budget?.take(peerId, network, guessed) ?? 0;
    if (waitMs > 0 && budget !== undefined) throw pagesOverloaded(budget.limits, waitMs);
    let charged = guessed;
    try {
      const page = await askCredit(deps.bus, CreditChainBlocks, { fromSeq: request.fromSeq, limit }, timeoutMs, signal, trace);
      charged = Math.max(
        MIN_PAGE_CHARGE_BYTES,
        page.blocks.reduce((sum, b) => sum + b.length, 0),
      );
      return page;
    } catch (err) {
      // This node's ledger failed the read: the caller pays only the least charge. A caller that
      // cancelled pays the guess, since the ledger may read the page all the same.
      if (!signal.aborted) charged = MIN_PAGE_CHARGE_BYTES;
      throw err;
    } finally {
      budget?.charge(peerId, network, charged - guessed);
    }
  };
}

function pagesOverloaded({ perPeer, perNetwork }: PeerBudgetLimits, waitMs: number): SwarmError {
  return new SwarmError(
    ErrorCode.ERROR_CODE_OVERLOADED,
    `this node sends at most ${perPeer.perSecond / MIB} MiB of chain pages a second to your node (burst ${perPeer.burst / MIB} MiB), ` +
      `and ${perNetwork.perSecond / MIB} MiB to its network; retry in ${waitMs} ms`,
    true,
    { retryAfterMs: waitMs },
  );
}

export interface GatewayFetchChainDeps {
  readonly nodeId: string;
  readonly peers: PeerResolver;
}

/** GatewayFetchChain: a page of a peer's chain, as that peer's gateway answers it. */
export function gatewayFetchChainHandler(deps: GatewayFetchChainDeps): Handler<FetchChainRequest, ChainBlocksResponse> {
  return async (req, ctx) => {
    const peer = checkPeerNodeId(req.peerNodeId, deps.nodeId);
    const limit = chainPageLimit(req.limit);
    const page = await deps.peers.withPeer(peer, (client) => client.call('chainBlocks', { fromSeq: req.fromSeq, limit }, { timeoutMs: CHAIN_PEER_TIMEOUT_MS, trace: ctx.trace }));
    if (page.nodeId !== peer) {
      const claimed = NODE_ID_PATTERN.test(page.nodeId) ? `the chain of node ${shortId(page.nodeId)}` : `a node id of ${page.nodeId.length} characters`;
      throw new ChainRefusal('wrong-node', `peer ${shortId(peer)} answered ${claimed}, not its own`);
    }
    if (page.blocks.length > limit) throw new ChainRefusal('invalid-field', `peer ${shortId(peer)} answered ${page.blocks.length} blocks, ${limit} were asked`);
    const oversized = page.blocks.findIndex((b) => b.length > MAX_SIGNED_BLOCK_BYTES);
    if (oversized >= 0)
      throw new ChainRefusal(
        'oversized',
        `block ${oversized + 1} of the page from peer ${shortId(peer)} is ${page.blocks[oversized].length} bytes, limit ${MAX_SIGNED_BLOCK_BYTES}`,
      );
    return { blocks: page.blocks, headSeq: page.headSeq, nodeId: page.nodeId };
  };
}

/**
 * Offers of a payer's own chain (docs/chain.md "Payers behind NAT"), both ways through the gateways.
 * A payee reads its payers' chains through their gateways before it countersigns their receipts; a
 * payer behind NAT cannot be reached, so its credit-svc sends the blocks the payee lacks instead.
 * Out: GatewayOfferChain (credit-svc only, libs/contracts bus-roles) calls the payee's OfferChain.
 * In: a peer's PeerService.OfferChain goes to credit-svc (CreditAcceptChainOffer) as the blocks of
 * the caller's chain (its TLS key names it), within a budget of bytes per caller and per network
 * (CHAIN_OFFER_BYTE_LIMITS); credit-svc audits them (payer-views.ts) from its own budget of time.
 */
import type { BusClient, Handler } from '@swarm/bus';
import { MAX_CHAIN_OFFER_BYTES, MAX_SIGNED_BLOCK_BYTES } from '@swarm/chain';
import type { ChainOffer, ChainOfferResponse, RelayChainOfferRequest } from '@swarm/contracts';
import { CHAIN_OFFER_MAX_BLOCKS, CreditAcceptChainOffer, ErrorCode, SwarmError } from '@swarm/contracts';
import type { PeerHandler } from '@swarm/gateway';
import { askCredit } from './local-ask';
import type { PeerBudgetLimits, PeerBudgets } from './peer-budgets';
import type { PeerResolver } from './peer-resolve';
import { checkPeerNodeId } from './peer-resolve';

/** How long a payee's gateway has to answer an offer: its ledger's audit of a page and the round trip. */
export const OFFER_PEER_TIMEOUT_MS = 5_000;
/** How long credit-svc has to audit an offered page: within the payer's OFFER_PEER_TIMEOUT_MS. */
export const CREDIT_OFFER_TIMEOUT_MS = 3_500;
/** The largest offer and the payee's id. */
export const MAX_RELAY_CHAIN_OFFER_BYTES = MAX_CHAIN_OFFER_BYTES + 256;

const MIB = 1024 * 1024;

/**
 * Bytes of offered blocks taken per caller: 8 MiB at once (a chain of ~7,000 receipt blocks of ~1.1
 * KB, read in one go), then 512 KiB a second; per network, four callers' worth. An offer past it is
 * OVERLOADED with when to retry; each costs credit-svc a bus message and an audit besides.
 */
export const CHAIN_OFFER_BYTE_LIMITS: PeerBudgetLimits = Object.freeze({
  perPeer: { perSecond: MIB / 2, burst: 8 * MIB },
  perNetwork: { perSecond: 2 * MIB, burst: 32 * MIB },
  maxKeys: 1_024,
});
/** The least an offer is charged, an empty one too: it costs this node a ledger call and a round trip. */
export const MIN_OFFER_CHARGE_BYTES = 4 * 1024;

/** Refuses an offer holding more blocks, or larger ones, than any chain's page may. */
function checkOffer(offer: ChainOffer | undefined): ChainOffer {
  if (offer === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'offer is required: blocks of the chain and the seq of the first');
  if (offer.blocks.length > CHAIN_OFFER_MAX_BLOCKS)
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `an offer holds at most ${CHAIN_OFFER_MAX_BLOCKS} blocks, this one ${offer.blocks.length}`);
  const oversized = offer.blocks.findIndex((b) => b.length > MAX_SIGNED_BLOCK_BYTES);
  if (oversized >= 0)
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `block ${oversized + 1} of the offer is ${offer.blocks[oversized].length} bytes, limit ${MAX_SIGNED_BLOCK_BYTES}`);
  return offer;
}

export interface PeerOfferChainDeps {
  readonly bus: BusClient;
  /** Default CREDIT_OFFER_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Bytes of offers per caller and per network (CHAIN_OFFER_BYTE_LIMITS); absent: no limit. */
  readonly offerBytes?: PeerBudgets;
}

/** PeerService.OfferChain: blocks of the caller's own chain, for this node's ledger to audit. */
export function createPeerOfferChainHandler(deps: PeerOfferChainDeps): PeerHandler<'offerChain'> {
  const timeoutMs = deps.timeoutMs ?? CREDIT_OFFER_TIMEOUT_MS;
  const budget = deps.offerBytes;
  return async ({ peerId, network, request, signal, trace }) => {
    const offer = checkOffer(request);
    const bytes = Math.max(
      MIN_OFFER_CHARGE_BYTES,
      offer.blocks.reduce((sum, b) => sum + b.length, 0),
    );
    const waitMs = budget?.take(peerId, network, bytes) ?? 0;
    if (waitMs > 0 && budget !== undefined) {
      const { perPeer } = budget.limits;
      throw new SwarmError(
        ErrorCode.ERROR_CODE_OVERLOADED,
        `this node takes at most ${perPeer.perSecond / MIB} MiB of offered chain blocks a second from your node (burst ${perPeer.burst / MIB} MiB); retry in ${waitMs} ms`,
        true,
        { retryAfterMs: waitMs },
      );
    }
    return askCredit(deps.bus, CreditAcceptChainOffer, { offer, fromNodeId: peerId }, timeoutMs, signal, trace);
  };
}

export interface GatewayOfferChainDeps {
  readonly nodeId: string;
  readonly peers: PeerResolver;
}

/** GatewayOfferChain: this node's blocks to a payee, and where it wants them from next. */
export function gatewayOfferChainHandler(deps: GatewayOfferChainDeps): Handler<RelayChainOfferRequest, ChainOfferResponse> {
  return async (req, ctx) => {
    const peer = checkPeerNodeId(req.peerNodeId, deps.nodeId);
    const offer = checkOffer(req.offer);
    const answer = await deps.peers.withPeer(peer, (client) => client.call('offerChain', offer, { timeoutMs: OFFER_PEER_TIMEOUT_MS, trace: ctx.trace }));
    return { wantedFromSeq: answer.wantedFromSeq };
  };
}

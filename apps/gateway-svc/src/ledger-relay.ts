/**
 * Receipts, their voids and chain pages through this gateway (issue 14, docs/chain.md), wired as
 * gateway-svc uses them: the PeerService handlers peers call (receipt-relay.ts, void-relay.ts,
 * chain-relay.ts, chain-offer-relay.ts, into credit-svc)
 * and the bus endpoints this node's credit-svc and operators ask (out to peers, found by node id
 * through peer-resolve.ts). One signature check with a key cache serves every receipt: most carry
 * this node's key and a few counterparties'.
 */
import type { BusClient, BusService } from '@swarm/bus';
import { cachedSignatureCheck } from '@swarm/chain';
import { GatewayDeliverReceipts, GatewayFetchChain, GatewayOfferChain, GatewayVoidReceipts } from '@swarm/contracts';
import type { Stopwatch, WallClock } from '@swarm/determinism';
import type { PeerHandler } from '@swarm/gateway';
import { shortId } from '@swarm/gateway';
import type { ServeTickets } from '@swarm/records';
import type { Logger } from '@swarm/telemetry';
import { CHAIN_OFFER_BYTE_LIMITS, createPeerOfferChainHandler, gatewayOfferChainHandler, MAX_RELAY_CHAIN_OFFER_BYTES } from './chain-offer-relay';
import { CHAIN_PAGE_BYTE_LIMITS, createPeerChainBlocksHandler, gatewayFetchChainHandler, MAX_FETCH_CHAIN_REQUEST_BYTES } from './chain-relay';
import { SELDOM_ITEM_LIMITS } from './ledger-batch';
import { createSettledReceipts } from './settled-receipts';
import { createPeerBudgets } from './peer-budgets';
import type { PeerBook } from './peer-book';
import type { PeerPool } from './peer-pool';
import { createPeerResolver } from './peer-resolve';
import { createPeerDeliverReceiptsHandler, gatewayDeliverReceiptsHandler, MAX_RELAY_RECEIPTS_REQUEST_BYTES } from './receipt-relay';
import { createPeerVoidReceiptsHandler, gatewayVoidReceiptsHandler, MAX_RELAY_VOIDS_REQUEST_BYTES } from './void-relay';
import type { UnpaidServes } from './unpaid-serves';

export interface LedgerRelayDeps {
  readonly nodeId: string;
  readonly bus: BusClient;
  readonly pool: PeerPool;
  readonly peerBook: PeerBook;
  readonly log: Logger;
  readonly clock: WallClock;
  readonly stopwatch: Stopwatch;
  /** This node's serve tickets: a peer's receipt must carry the one it was given with the result (its void is told whether it does). */
  readonly tickets: ServeTickets;
  /** A receipt countersigned here (delivered, or answered to its void) takes what it pays off what its payer owes (unpaid-serves.ts). */
  readonly unpaid: Pick<UnpaidServes, 'paid'>;
}

export interface LedgerRelay {
  /** For the gateway server's handlers. */
  readonly peerHandlers: {
    readonly deliverReceipts: PeerHandler<'deliverReceipts'>;
    readonly voidReceipts: PeerHandler<'voidReceipts'>;
    readonly chainBlocks: PeerHandler<'chainBlocks'>;
    readonly offerChain: PeerHandler<'offerChain'>;
  };
  /** Serves GatewayDeliverReceipts, GatewayVoidReceipts, GatewayFetchChain and GatewayOfferChain on the gateway's bus service. */
  serve(svc: BusService): void;
}

export function createLedgerRelay(deps: LedgerRelayDeps): LedgerRelay {
  const { nodeId, bus, log } = deps;
  const checkSignature = cachedSignatureCheck();
  const peers = createPeerResolver({ pool: deps.pool, peerBook: deps.peerBook, bus, clock: deps.clock });
  const payee = {
    nodeId,
    bus,
    checkSignature,
    stopwatch: deps.stopwatch,
    clock: deps.clock,
    tickets: deps.tickets,
    unpaid: deps.unpaid,
    seldom: createPeerBudgets(SELDOM_ITEM_LIMITS, deps.stopwatch),
    settled: createSettledReceipts(),
  };
  return {
    peerHandlers: {
      deliverReceipts: createPeerDeliverReceiptsHandler(payee),
      voidReceipts: createPeerVoidReceiptsHandler(payee),
      chainBlocks: createPeerChainBlocksHandler({ bus, pageBytes: createPeerBudgets(CHAIN_PAGE_BYTE_LIMITS, deps.stopwatch) }),
      offerChain: createPeerOfferChainHandler({ bus, offerBytes: createPeerBudgets(CHAIN_OFFER_BYTE_LIMITS, deps.stopwatch) }),
    },
    serve(svc) {
      const onRefusedAnswer = (peer: string, reason: string) => log.warn({ peer, reason }, `refused the receipt or void peer ${shortId(peer)} answered: it does not hold`);
      svc.serve(GatewayDeliverReceipts, gatewayDeliverReceiptsHandler({ nodeId, peers, checkSignature, onRefusedAnswer }), { maxRequestBytes: MAX_RELAY_RECEIPTS_REQUEST_BYTES });
      svc.serve(GatewayVoidReceipts, gatewayVoidReceiptsHandler({ nodeId, peers, checkSignature, onRefusedAnswer }), { maxRequestBytes: MAX_RELAY_VOIDS_REQUEST_BYTES });
      svc.serve(GatewayFetchChain, gatewayFetchChainHandler({ nodeId, peers }), { maxRequestBytes: MAX_FETCH_CHAIN_REQUEST_BYTES });
      svc.serve(GatewayOfferChain, gatewayOfferChainHandler({ nodeId, peers }), { maxRequestBytes: MAX_RELAY_CHAIN_OFFER_BYTES });
    },
  };
}

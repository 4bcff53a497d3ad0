/**
 * Peers' DHT calls, after DhtInbound bound each to its authenticated caller, relayed to registry-svc
 * (`swarm.v1.registry.dht-*`) with `peer` = the caller's DHT endpoint
 * `<caller node id>:<its nonce>@<its address>` (and, for a store, the network its connection came
 * from).
 * The registry's answer goes back to the peer once it passes the same shape checks a peer's reply
 * would. A registry that does not answer (not running, or slower than `timeoutMs`) is UNAVAILABLE to
 * the peer, worded without this node's internals; the registry's own refusals keep their code
 * (local-ask.ts, as for credit-svc).
 */
import type { BusClient } from '@swarm/bus';
import type { Rpc } from '@swarm/contracts';
import { RegistryDhtFindNode, RegistryDhtFindValue, RegistryDhtPing, RegistryDhtStore } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import type { DhtHandlers } from '@swarm/dht';
import { checkFindNodeResponse, checkFindValueResponse, checkPingResponse, checkStoreResponse, pagingOf } from '@swarm/dht';
import { peerOfDhtEndpoint } from '@swarm/dht-gateway';
import { formatHostPort } from '@swarm/gateway';
import { askLocal } from './local-ask';
import type { PeerBook } from './peer-book';

/**
 * The share of a DHT call's timeout the registry may use: the caller gives up after the whole of it
 * (the swarm's one SWARM_GATEWAY_DHT_TIMEOUT_MS), so the answer, or UNAVAILABLE, must leave here
 * before then, with room for the gRPC hop back.
 */
export const REGISTRY_SHARE_OF_DHT_TIMEOUT = 0.75;

export interface DhtInboundRelayDeps {
  readonly bus: BusClient;
  readonly peerBook: PeerBook;
  readonly clock: WallClock;
  /** How long registry-svc has to answer one relayed call. */
  readonly timeoutMs: number;
}

export function registryTimeoutOf(dhtCallTimeoutMs: number): number {
  return Math.max(1, Math.floor(dhtCallTimeoutMs * REGISTRY_SHARE_OF_DHT_TIMEOUT));
}

/** The DhtHandlers a DhtInbound passes calls to: each one asks registry-svc. */
export function createDhtInboundRelay(deps: DhtInboundRelayDeps): DhtHandlers {
  const { bus, peerBook, clock, timeoutMs } = deps;

  async function ask<Req, Res>(rpc: Rpc<Req, Res>, from: string, req: Req): Promise<Res> {
    // `from` was built by DhtInbound from the authenticated caller, so it always parses.
    const caller = peerOfDhtEndpoint(from);
    peerBook.noteSeen(caller.nodeId, formatHostPort(caller.address), clock.now());
    return askLocal(bus, rpc, req, { what: "this node's DHT", timeoutMs });
  }

  return {
    ping: async (from, _request, network) => checkPingResponse(await ask(RegistryDhtPing, from, { peer: from, network: network ?? '' })),
    store: async (from, request, network) => checkStoreResponse(await ask(RegistryDhtStore, from, { peer: from, key: request.key, value: request.value, network: network ?? '' })),
    findNode: async (from, request, network) => checkFindNodeResponse(await ask(RegistryDhtFindNode, from, { peer: from, targetId: request.targetId, network: network ?? '' })),
    findValue: async (from, request, network) =>
      checkFindValueResponse(await ask(RegistryDhtFindValue, from, { peer: from, targetId: request.targetId, key: request.key, network: network ?? '', ...pagingOf(request) })),
  };
}

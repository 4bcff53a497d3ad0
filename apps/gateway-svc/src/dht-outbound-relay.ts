/**
 * registry-svc's DHT calls to peers (`swarm.v1.gateway.dht-*`): each names the peer by its DHT
 * endpoint, `<node id>:<proof-of-work nonce>@host:port`; the gateway sends the call as this node's
 * DHT id with its own key (GatewayDhtSender: pinned dial, reply checks) and answers the checked
 * reply. A peer that cannot be reached is UNAVAILABLE, one that does not answer in time
 * DEADLINE_EXCEEDED, a reply that fails the checks INVALID_ARGUMENT; a peer's own refusal keeps its
 * code. Every field is checked before anything is sent, as the receiving side would check it.
 */
import type { BusService } from '@swarm/bus';
import { ErrorCode, GatewayDhtFindNode, GatewayDhtFindValue, GatewayDhtPing, GatewayDhtStore, SwarmError } from '@swarm/contracts';
import type { Time } from '@swarm/determinism';
import { checkFindNodeRequest, checkFindValueRequest, checkStoreRequest, findValueReplyOf, MAX_VALUE_BYTES } from '@swarm/dht';
import type { GatewayDhtSender } from '@swarm/dht-gateway';
import { peerOfDhtEndpoint } from '@swarm/dht-gateway';
import type { PeerAddress } from '@swarm/gateway';
import { formatHostPort } from '@swarm/gateway';
import type { PeerBook } from './peer-book';

/** A relayed request is a few short strings and at most one DHT value. */
export const MAX_RELAY_REQUEST_BYTES = MAX_VALUE_BYTES + 4 * 1024;
/** A `<node id>:<nonce>@host:port` is 64 + 1 + at most 20 + 1 + at most 259 characters. */
const MAX_PEER_CHARS = 345;
/** Longest piece of a bad `peer` quoted back. */
const QUOTED_PEER_CHARS = 64;

export interface DhtOutboundRelayDeps {
  readonly sender: GatewayDhtSender;
  readonly nodeId: string;
  readonly peerBook: PeerBook;
  readonly time: Time;
}

/** The peer a relay request names, or INVALID_ARGUMENT saying what a peer must look like. */
export function parseRelayPeer(peer: string, selfNodeId: string): PeerAddress {
  let parsed: PeerAddress | undefined;
  try {
    parsed = peer.length <= MAX_PEER_CHARS ? peerOfDhtEndpoint(peer) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      `peer must be <64 hex node id>:<proof-of-work nonce>@host:port with a port > 0, got '${peer.slice(0, QUOTED_PEER_CHARS)}'`,
    );
  }
  // Kademlia never asks itself; a call to this node's own gateway would only loop back to its registry.
  if (parsed.nodeId === selfNodeId) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'peer is this node itself; DHT calls go to other nodes');
  return parsed;
}

/** Serves the four `swarm.v1.gateway.dht-*` subjects on `bus`. */
export function serveDhtOutboundRelay(bus: BusService, deps: DhtOutboundRelayDeps): void {
  const { sender, peerBook, time } = deps;
  const id = sender.dhtId;
  const opts = { maxRequestBytes: MAX_RELAY_REQUEST_BYTES };

  /** Sends to `peer` and, once it answered, notes it (an answer is an authenticated exchange). */
  async function relay<T>(peer: string, send: (to: string) => Promise<T>): Promise<{ reply: T; to: PeerAddress; elapsedMs: number }> {
    const to = parseRelayPeer(peer, deps.nodeId);
    const started = time.stopwatch.now();
    const reply = await send(peer);
    const elapsedMs = time.stopwatch.now() - started;
    peerBook.noteSeen(to.nodeId, formatHostPort(to.address), time.clock.now());
    return { reply, to, elapsedMs };
  }

  bus.serve(
    GatewayDhtPing,
    async (req) => {
      const { reply, to, elapsedMs } = await relay(req.peer, (peer) => sender.ping(peer, { id }));
      peerBook.noteRtt(to.nodeId, elapsedMs);
      return { remoteId: reply.remoteId };
    },
    opts,
  );
  bus.serve(
    GatewayDhtStore,
    async (req) => {
      const checked = checkStoreRequest({ id, key: req.key, value: req.value });
      const { reply } = await relay(req.peer, (peer) => sender.store(peer, checked));
      return { stored: reply.stored, refusal: reply.refusal };
    },
    opts,
  );
  bus.serve(
    GatewayDhtFindNode,
    async (req) => {
      const checked = checkFindNodeRequest({ id, targetId: req.targetId });
      const { reply } = await relay(req.peer, (peer) => sender.findNode(peer, checked));
      return { contacts: reply.contacts.map((c) => ({ id: c.id, endpoint: c.endpoint })) };
    },
    opts,
  );
  bus.serve(
    GatewayDhtFindValue,
    async (req) => {
      const checked = checkFindValueRequest({ id, targetId: req.targetId, key: req.key, paged: req.paged, after: req.after });
      const { reply } = await relay(req.peer, (peer) => sender.findValue(peer, checked));
      return findValueReplyOf(reply);
    },
    opts,
  );
}

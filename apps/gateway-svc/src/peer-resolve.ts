/**
 * Calls to a peer named by its node id alone (receipts for a payee, chain pages for an auditor),
 * where the caller knows no address: the peer book's address when it holds the node, else the one
 * the node's signed record on the DHT advertises (registry-svc answers RegistryNodeRecord). A book
 * entry can be stale (the peer restarted elsewhere) or claimed by the peer unchecked, so when the
 * peer cannot be reached there the call is made once more at its record's address, if that differs.
 * Dialling pins the node id (mutual TLS), so a wrong address costs a failed call, never a wrong peer.
 * Only used for calls a peer answers the same way twice (receipts are idempotent, pages read-only).
 */
import type { BusClient } from '@swarm/bus';
import { ErrorCode, isSwarmError, RegistryNodeRecord, SwarmError } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import type { PeerAddress, PeerClient } from '@swarm/gateway';
import { formatHostPort, NODE_ID_PATTERN, parseHostPort, PeerIdentityError, shortId } from '@swarm/gateway';
import type { PeerBook } from './peer-book';
import type { PeerPool } from './peer-pool';
import { NODE_RECORD_TIMEOUT_MS } from './submitter-records';

export interface PeerResolverDeps {
  readonly pool: PeerPool;
  readonly peerBook: PeerBook;
  /** This node's bus, for registry-svc. */
  readonly bus: BusClient;
  readonly clock: WallClock;
}

export interface PeerResolver {
  /**
   * Runs `use` with a client of peer `nodeId`, at the book's address or its record's (see above).
   * UNAVAILABLE (retryable) when no address is known or the peer cannot be reached as itself; the
   * peer's own SwarmErrors pass on as they are. Worst case: two calls and one registry lookup.
   */
  withPeer<T>(nodeId: string, use: (client: PeerClient) => Promise<T>): Promise<T>;
}

/** A bus request's peer node id, checked: 64 lowercase hex and not this node (INVALID_ARGUMENT otherwise). */
export function checkPeerNodeId(peerNodeId: string, selfNodeId: string): string {
  if (!NODE_ID_PATTERN.test(peerNodeId))
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `peer_node_id must be 64 lowercase hex characters, got ${peerNodeId.length} characters`);
  if (peerNodeId === selfNodeId)
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `peer_node_id ${shortId(peerNodeId)} is this node; only other nodes are called through the gateway`);
  return peerNodeId;
}

export function createPeerResolver(deps: PeerResolverDeps): PeerResolver {
  const { pool, peerBook, bus, clock } = deps;

  /** The address the node's record advertises, or undefined when it has none on the DHT. */
  async function recordAddress(nodeId: string): Promise<PeerAddress | undefined> {
    let answer;
    try {
      answer = await bus.request(RegistryNodeRecord, { nodeId }, { timeoutMs: NODE_RECORD_TIMEOUT_MS });
    } catch (err) {
      if (isSwarmError(err, ErrorCode.ERROR_CODE_OVERLOADED)) throw err;
      const why = isSwarmError(err) ? err.message.slice(0, 200) : 'no answer';
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `this node cannot look up the address of peer ${shortId(nodeId)} now: ${why}`, true, { cause: err });
    }
    if (!answer.found) return undefined;
    const address = parseHostPort(answer.gatewayAddress);
    // registry-svc answers only verified records, whose address passed the record rules; a port 0 cannot be dialled.
    if (!address || address.port === 0) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `the record of peer ${shortId(nodeId)} gives no address to dial`);
    return { nodeId, address };
  }

  async function callAt<T>(peer: PeerAddress, use: (client: PeerClient) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await pool.with(peer, use);
    } catch (err) {
      if (!(err instanceof PeerIdentityError)) throw err;
      // Whoever answers at that address is not the node named: as good as unreachable.
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `peer ${shortId(peer.nodeId)} could not be reached as itself: ${err.message}`, true, { cause: err });
    }
    peerBook.noteSeen(peer.nodeId, formatHostPort(peer.address), clock.now());
    return result;
  }

  return {
    async withPeer(nodeId, use) {
      const booked = bookAddress(peerBook, nodeId);
      if (booked) {
        try {
          return await callAt(booked, use);
        } catch (err) {
          if (!isSwarmError(err, ErrorCode.ERROR_CODE_UNAVAILABLE)) throw err;
          const recorded = await recordAddress(nodeId).catch(() => undefined);
          if (!recorded || formatHostPort(recorded.address) === formatHostPort(booked.address)) throw err;
          return await callAt(recorded, use);
        }
      }
      const recorded = await recordAddress(nodeId);
      if (!recorded)
        throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `no address known for peer ${shortId(nodeId)}: not in this gateway's peer book, no record on the DHT`, true);
      return await callAt(recorded, use);
    },
  };
}

function bookAddress(peerBook: PeerBook, nodeId: string): PeerAddress | undefined {
  const text = peerBook.addressOf(nodeId);
  const address = text === undefined ? undefined : parseHostPort(text);
  return address && address.port > 0 ? { nodeId, address } : undefined;
}

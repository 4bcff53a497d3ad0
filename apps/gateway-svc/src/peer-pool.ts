/**
 * The gateway's clients to the peers it sends tasks to: one per peer address, reused (a new one costs
 * a certificate fetch and a TLS handshake), at most `size` of them. The least recently used is
 * closed when room is needed, but only once its calls in flight have finished.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import type { PeerAddress, PeerCallError, PeerClient } from '@swarm/gateway';
import { dialPeer, formatHostPort, isPeerCallError } from '@swarm/gateway';
import type { NodeCertificate } from '@swarm/identity';

/** Peers a node sends tasks to at once are few (the best candidates of its skills). */
export const DEFAULT_PEER_POOL_SIZE = 32;

export interface PeerPoolOptions {
  readonly certificate: NodeCertificate;
  readonly clock: WallClock;
  /** Largest answer accepted from a peer, bytes. */
  readonly maxMessageBytes: number;
  readonly size?: number;
  /** Makes a client; default dialPeer (tests count what is made and closed). */
  readonly dial?: (peer: PeerAddress) => PeerClient;
  /**
   * Told of every call a peer answered with an error: the error passed on is in this node's words,
   * and `err.peerWords` holds the peer's own (escaped, bounded), for this node's log.
   */
  readonly onPeerError?: (peer: PeerAddress, err: PeerCallError) => void;
}

export interface PeerPool {
  /** Runs `use` with the pooled client of `peer` (dialled on first use). */
  with<T>(peer: PeerAddress, use: (client: PeerClient) => Promise<T>): Promise<T>;
  /** Clients pooled now. */
  size(): number;
  /** Closes every client; calls still in flight fail. */
  close(): void;
}

interface Entry {
  readonly client: PeerClient;
  inFlight: number;
  evicted: boolean;
}

export function createPeerPool(opts: PeerPoolOptions): PeerPool {
  const size = opts.size ?? DEFAULT_PEER_POOL_SIZE;
  const dial = opts.dial ?? ((peer: PeerAddress) => dialPeer({ certificate: opts.certificate, peer, clock: opts.clock, maxMessageBytes: opts.maxMessageBytes }));
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, Entry>();
  let closed = false;

  function entryOf(peer: PeerAddress): Entry {
    const key = `${peer.nodeId}@${formatHostPort(peer.address)}`;
    let entry = entries.get(key);
    if (entry) entries.delete(key);
    else entry = { client: dial(peer), inFlight: 0, evicted: false };
    entries.set(key, entry);
    for (const [oldKey, old] of entries) {
      if (entries.size <= size) break;
      entries.delete(oldKey);
      old.evicted = true;
      if (old.inFlight === 0) old.client.close();
    }
    return entry;
  }

  return {
    async with(peer, use) {
      if (closed) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'gateway-svc is stopping');
      const entry = entryOf(peer);
      entry.inFlight += 1;
      try {
        return await use(entry.client);
      } catch (err) {
        if (isPeerCallError(err)) opts.onPeerError?.(peer, err);
        throw err;
      } finally {
        entry.inFlight -= 1;
        if (entry.evicted && entry.inFlight === 0) entry.client.close();
      }
    },
    size: () => entries.size,
    close() {
      closed = true;
      for (const entry of entries.values()) entry.client.close();
      entries.clear();
    },
  };
}

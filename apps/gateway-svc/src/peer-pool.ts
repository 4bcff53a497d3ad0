/**
 * The gateway's clients to the peers it sends tasks to: one per peer address, reused (a new one costs
 * a certificate fetch and a TLS handshake), at most `size` of them. The least recently used is
 * closed when room is needed, but only once its calls in flight have finished. The addresses come
 * from peers' signed records and tasks' endpoints, which their nodes write as they like: each is
 * checked (`addressToDial`) before a client is made, and a client dialled at what a name resolved
 * to is dropped when it fails to reach its peer, so the next call resolves the name again, and
 * dials the next of its addresses that fits for UNREACHED_MS.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Stopwatch, WallClock } from '@swarm/determinism';
import { systemStopwatch } from '@swarm/determinism';
import type { PeerAddress, PeerCallError, PeerClient } from '@swarm/gateway';
import { answeredByPeer, dialPeer, formatHostPort, isPeerCallError, shortId } from '@swarm/gateway';
import type { NodeCertificate } from '@swarm/identity';
import { RecencyMap } from '@swarm/recency-map';

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
  /**
   * Where to dial `peer` (its host checked, a name resolved: dht-gateway's peerAddressToDial, passing
   * over the addresses that failed to reach it lately, `unreachedAt`, for the next that fits), or
   * throws why not; default the address as given (tests).
   */
  readonly addressToDial?: (peer: PeerAddress, unreachedAt: (ip: string) => number | undefined) => Promise<PeerAddress>;
  /** Told once per client dialled at a resolved name, at its first call that reached the peer (the resolver keeps that answer). */
  readonly onReached?: (peer: PeerAddress) => void;
  /** What the time an address stays unreached goes by; default the process's monotonic clock. */
  readonly stopwatch?: Stopwatch;
}

/** An address a name resolved to that failed to reach its peer is passed over this long (dialAddress). */
export const UNREACHED_MS = 60_000;
/**
 * Such addresses remembered, the least recently failed forgotten first: ~0.5 MB at most. 256 let a
 * thousand strangers' failing named dials in a minute push an honest peer's mark out (helper-175).
 */
const MAX_UNREACHED = 4_096;

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
  /** The address a name resolved to that it was dialled at; undefined when dialled at the address as given. */
  readonly resolved: string | undefined;
  inFlight: number;
  evicted: boolean;
  /** A call of it reached the peer. */
  reached: boolean;
}

const QUOTED_CHARS = 200;

export function createPeerPool(opts: PeerPoolOptions): PeerPool {
  const size = opts.size ?? DEFAULT_PEER_POOL_SIZE;
  const dial = opts.dial ?? ((peer: PeerAddress) => dialPeer({ certificate: opts.certificate, peer, clock: opts.clock, maxMessageBytes: opts.maxMessageBytes }));
  // The least recently used forgotten first: closed now, or when its last call ends.
  const entries = new RecencyMap<string, Entry>(size, undefined, (_key, old) => {
    old.evicted = true;
    if (old.inFlight === 0) old.client.close();
  });
  const stopwatch = opts.stopwatch ?? systemStopwatch;
  /** Resolved addresses that failed to reach their peers, by when (the least recently failed forgotten first). */
  const unreachedAt = new RecencyMap<string, number>(MAX_UNREACHED);
  /** A resolved address counts as unreached for the node id and port that failed there, not for every peer at that IP. */
  const unreachedKey = (peer: PeerAddress, ip: string) => `${peer.nodeId}@${formatHostPort({ host: ip, port: peer.address.port })}`;
  const failedAt = (key: string) => {
    const at = unreachedAt.get(key);
    return at !== undefined && stopwatch.now() - at < UNREACHED_MS ? at : undefined;
  };
  let closed = false;

  const keyOf = (peer: PeerAddress) => `${peer.nodeId}@${formatHostPort(peer.address)}`;

  /** The pooled entry of `key` (made recently used), or a new one dialled at `dialAt`; evicts the least recently used past `size`. */
  function entryOf(key: string, peer: PeerAddress, dialAt: PeerAddress | undefined): Entry {
    let entry = entries.get(key);
    if (!entry) {
      const at = dialAt ?? peer;
      entry = {
        client: dial(at),
        resolved: formatHostPort(at.address) !== formatHostPort(peer.address) ? at.address.host : undefined,
        inFlight: 0,
        evicted: false,
        reached: false,
      };
    }
    entries.set(key, entry);
    return entry;
  }

  /** Tells onReached of a client dialled at a resolved name, at its first call the peer answered (or whose handshake met it). */
  function reachedBy(entry: Entry, peer: PeerAddress): void {
    if (entry.reached || entry.resolved === undefined) return;
    entry.reached = true;
    opts.onReached?.(peer);
  }

  /** Where to dial `peer`, checked; UNAVAILABLE (retryable: another candidate may do) when it is no address this node dials. */
  async function checkedAddress(peer: PeerAddress): Promise<PeerAddress | undefined> {
    if (opts.addressToDial === undefined) return undefined;
    try {
      return await opts.addressToDial(peer, (ip) => failedAt(unreachedKey(peer, ip)));
    } catch (err) {
      const why = (err instanceof Error ? err.message : String(err)).slice(0, QUOTED_CHARS);
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `peer ${shortId(peer.nodeId)} is not dialled there: ${why}`, true, { cause: err });
    }
  }

  return {
    async with(peer, use) {
      if (closed) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'gateway-svc is stopping');
      const key = keyOf(peer);
      const dialAt = entries.has(key) ? undefined : await checkedAddress(peer);
      if (closed) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'gateway-svc is stopping');
      const entry = entryOf(key, peer, dialAt);
      entry.inFlight += 1;
      try {
        const result = await use(entry.client);
        reachedBy(entry, peer);
        return result;
      } catch (err) {
        if (isPeerCallError(err)) opts.onPeerError?.(peer, err);
        // A handshake that met the peer reached it too: a call past its deadline there was slow, not lost on the way.
        if (answeredByPeer(err) || entry.client.reachedPeer?.() === true) reachedBy(entry, peer);
        // Not reached as itself (helper-170, helper-171: a deadline with no answer too): its name may point elsewhere now.
        if (entry.resolved !== undefined && !answeredByPeer(err)) {
          // A client that reached its peer before says little of its address by one lost call (a restart):
          // dropped, so the name is resolved again, but not passed over (helper-175).
          if (!entry.reached) {
            const failed = unreachedKey(peer, entry.resolved);
            unreachedAt.set(failed, stopwatch.now());
          }
          if (entries.get(key) === entry) {
            entries.delete(key);
            entry.evicted = true;
          }
        }
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

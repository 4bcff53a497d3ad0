/**
 * New connections this node opens to peers it knows by a DNS name, counted by the address each name
 * resolves to (hostKey: an IPv4 address, an IPv6 /64). The dial-back's rate per host (libs/dht
 * dial-back.ts) reads the host off the endpoint as written, where every name under a wildcard zone
 * an attacker holds is a host of its own: claims of `1.evil.example`, `2.evil.example`, … all
 * resolving to a victim had each node dial the victim at the dial-backs' full 20 a second. Counted
 * here, once the name is resolved and before the dial (which goes to that same address), the names
 * share their address's rate. A connection waits up to `maxWaitMs` for its turn (honest nodes known
 * by name on one host, or behind one address, met by one lookup: helper-168), and is refused past
 * that. Pings (a stranger's claim dialled back) and the node's own lookups and stores have a rate
 * each, so that names a stranger claims cannot use up the turns of a lookup that meets a node known
 * by name at that address (helper-169). Each turn may be two connections to a node (the certificate
 * fetched, then the channel), one to what is no node (the pin fails at the fetch). This machine's
 * loopback is not counted: its nodes are its own. Refills go by a Stopwatch: a wall clock set back
 * an hour shut an address out for that hour (helper-169).
 */
import type { Stopwatch } from '@swarm/determinism';
import { hostKey } from '@swarm/gateway';
import { createKeyedRateLimiters } from '@swarm/rate-limit';
import { ipv4OfNat64, scopeOfIp } from './claimed-address';

/** Which rate a connection counts against: a ping's (the dial-back of a stranger's claim, a liveness check) or a lookup's or store's. */
export type NamedDialLane = 'ping' | 'lookup';

export interface NamedDialRate {
  /** New connections a second to one host in one lane, in bursts of as many. */
  readonly perSecond: number;
  /** Books a new connection by name to `address` (an IP address, as dialled) in `lane`: ms to wait before it, 0 for now; undefined when its host is booked further ahead than a connection waits. */
  book(address: string, lane: NamedDialLane): number | undefined;
}

/** A connection waits at most this long for its host's turn (two more booked ahead, at 500 and 1,000 ms, at 2 a second). */
export const DEFAULT_NAMED_DIAL_WAIT_MS = 1_000;

/**
 * `perSecond` new connections a second to one host, in bursts of as many, each waiting at most
 * `maxWaitMs`; the least recently asked hosts past `maxRemembered` are forgotten (back to a full bucket).
 */
export function createNamedDialRate(stopwatch: Stopwatch, perSecond: number, maxWaitMs = DEFAULT_NAMED_DIAL_WAIT_MS, maxRemembered = 4_096): NamedDialRate {
  if (!(perSecond >= 1 && Number.isFinite(perSecond))) throw new RangeError(`named dials per second must be a finite number >= 1, got ${perSecond}`);
  if (!(maxWaitMs >= 0 && Number.isFinite(maxWaitMs))) throw new RangeError(`a named dial's wait must be a finite number of ms >= 0, got ${maxWaitMs}`);
  // Below 0 tokens: connections booked ahead, each waiting its turn.
  const hosts = createKeyedRateLimiters({ perSecond, burst: perSecond }, maxRemembered, stopwatch);
  return {
    perSecond,
    book(address, lane) {
      if (scopeOfIp(address) === 'loopback') return 0;
      // Every IPv4-only name a DNS64 resolver answers sits in one /64 (64:ff9b::/96): counted by its IPv4 address.
      const bucket = hosts(`${lane} ${ipv4OfNat64(address) ?? hostKey(address)}`);
      const waitMs = bucket.waitMs();
      if (waitMs > maxWaitMs) return undefined;
      bucket.charge(1);
      return waitMs;
    },
  };
}

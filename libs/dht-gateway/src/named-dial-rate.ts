/**
 * New connections this node opens to peers it knows by a DNS name, counted by the address each name
 * resolves to (hostKey: an IPv4 address, an IPv6 /64). The dial-back's rate per host (libs/dht
 * dial-back.ts) reads the host off the endpoint as written, where every name under a wildcard zone
 * an attacker holds is a host of its own: claims of `1.evil.example`, `2.evil.example`, … all
 * resolving to a victim had each node dial the victim at the dial-backs' full 20 a second. Counted
 * here, once the name is resolved and before the dial (which goes to that same address), the names
 * share their address's rate. This machine's loopback is not counted: its nodes are its own.
 */
import type { WallClock } from '@swarm/determinism';
import { hostKey } from '@swarm/gateway';
import { scopeOfIp } from './claimed-address';

export interface NamedDialRate {
  /** New connections a second to one host, in bursts of as many. */
  readonly perSecond: number;
  /** A new connection by name to `address` (an IP address, as dialled): false when its host had its rate this second. */
  take(address: string): boolean;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was counted. */
  at: number;
}

/** `perSecond` new connections a second to one host, in bursts of as many; the least recently dialled hosts past `maxRemembered` are forgotten (back to a full bucket). */
export function createNamedDialRate(clock: WallClock, perSecond: number, maxRemembered = 4_096): NamedDialRate {
  if (!(perSecond >= 1 && Number.isFinite(perSecond))) throw new RangeError(`named dials per second must be a finite number >= 1, got ${perSecond}`);
  /** Map order: least recently dialled first. */
  const hosts = new Map<string, Bucket>();
  return {
    perSecond,
    take(address) {
      if (scopeOfIp(address) === 'loopback') return true;
      const host = hostKey(address);
      const bucket = hosts.get(host);
      const now = clock.now();
      const tokens = bucket === undefined ? perSecond : Math.min(perSecond, bucket.tokens + ((now - bucket.at) * perSecond) / 1_000);
      if (tokens < 1) return false;
      hosts.delete(host);
      hosts.set(host, { tokens: tokens - 1, at: now });
      for (const oldest of hosts.keys()) {
        if (hosts.size <= maxRemembered) break;
        hosts.delete(oldest);
      }
      return true;
    },
  };
}

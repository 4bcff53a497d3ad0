/**
 * Limits above the per-peer ones (peer-admission.ts). A node id costs only a key pair (and the
 * proof of work its records need, not its connections), so a flood from many fresh identities
 * would each get a peer's full allowance. These limits hold whatever identities a caller uses:
 * per remote host (connections, calls in flight, a token bucket) and across all peers (calls in
 * flight). A host is an IPv4 address, or an IPv6 /64 (one subscriber's usual allocation: counting
 * each of its addresses apart would be no limit at all). A host's state lives while it has a
 * connection or a call; reconnecting from scratch to reset its bucket costs a TLS handshake per
 * burst, as for a peer.
 */
import type { Stopwatch } from '@swarm/determinism';
import type { Admission, CallLane, LaneState, PeerLimits } from './peer-admission';
import { inflightIn, LANE_CALLS, laneLimits, laneState, LEDGER_LANE_LIMITS } from './peer-admission';

/** A host's ledger lane is twice a peer's (LEDGER_LANE_LIMITS), as its other limits are by default. */
const HOST_LEDGER_SCALE = 2;
/**
 * Ledger-lane calls in flight across every peer, apart from the other calls' total: hosts filling
 * `maxInflightTotal` with task calls (eight addresses at the defaults) cannot hold back the
 * payments other peers deliver; eight hosts' worth of them.
 */
export const LEDGER_INFLIGHT_TOTAL = 8 * HOST_LEDGER_SCALE * LEDGER_LANE_LIMITS.maxInflight;

export interface HostLimits extends PeerLimits {
  /** Open connections (TLS handshakes included) from one host. */
  readonly maxConnections: number;
}

export interface SharedLimits {
  readonly host: HostLimits;
  /** Calls in flight across every peer (the ledger lane's apart: LEDGER_INFLIGHT_TOTAL). */
  readonly maxInflightTotal: number;
}

export interface HostAdmission {
  /** A TCP connection from `host` arrived: false when the host already has its most. */
  connectionOpened(host: string): boolean;
  connectionClosed(host: string): void;
  /** A call in `lane` (default `calls`; per-lane buckets and calls in flight, peer-admission.ts). */
  admit(host: string, lane?: CallLane): Admission;
}

interface HostState extends LaneState {
  connections: number;
}

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** The host a remote address counts against: the IPv4 address, or the IPv6 address's /64 (`::1` alone: `::1/128`). */
export function hostKey(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return 'unknown';
  const v4 = ipv4Of(remoteAddress);
  if (v4 !== undefined) return v4;
  const groups = ipv6Groups(remoteAddress);
  return isIpv6Loopback(groups) ? IPV6_LOOPBACK : `${groups.slice(0, 4).join(':')}::/64`;
}

/**
 * The network a remote address counts against where a slot, not a rate, is at stake (the DHT's
 * records per network, @swarm/dht provider-store.ts): an IPv4 /24 (all of 127.0.0.0/8 is this one
 * machine), or an IPv6 /48, a site's usual allocation (`::1` alone: `::1/128`). Coarser than hostKey, since addresses in one
 * such block cost an attacker about as much as one.
 */
export function networkOf(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return 'unknown';
  const v4 = ipv4Of(remoteAddress);
  if (v4 !== undefined) {
    const [a = '', b = '', c = ''] = v4.split('.');
    return a === '127' ? '127.0.0.0/8' : `${a}.${b}.${c}.0/24`;
  }
  const groups = ipv6Groups(remoteAddress);
  return isIpv6Loopback(groups) ? IPV6_LOOPBACK : `${groups.slice(0, 3).join(':')}::/48`;
}

/**
 * `::1`'s host and network: it alone of 0:0:0::/48 is this machine. The rest of that /48 (RFC 4291's
 * IPv4-compatible `::10.1.2.3`, the IPv4-translated `::ffff:0:a01:203`, `::1:0:0:5`) was counted with
 * `::1`, as this machine's loopback, so a caller from one could name its loopback (helper-166, helper-168).
 */
const IPV6_LOOPBACK = '::1/128';

function isIpv6Loopback(groups: readonly string[]): boolean {
  return groups.length === 8 && groups.slice(0, 7).every((g) => g === '0') && groups[7] === '1';
}

/** The IPv4 address of an IPv4 one or an IPv4-mapped IPv6 one. */
function ipv4Of(address: string): string | undefined {
  return address.includes(':') ? ipv4OfMapped(address) : address;
}

/**
 * The IPv4 address an IPv4-mapped IPv6 address (::ffff:0:0/96) stands for, in either spelling
 * (`::ffff:10.1.2.3`, `::ffff:a01:203`, as WHATWG's serializer writes it); undefined for any other
 * address (the IPv4-translated `::ffff:0:a01:203` is not mapped).
 */
export function ipv4OfMapped(address: string): string | undefined {
  const mapped = IPV4_MAPPED.exec(address)?.[1];
  if (mapped !== undefined) return mapped;
  const groups = ipv6Groups(address);
  if (groups.length !== 8 || groups.slice(0, 5).some((g) => g !== '0') || groups[5] !== 'ffff') return undefined;
  return ipv4OfGroups(groups[6] ?? '0', groups[7] ?? '0');
}

/** The IPv4 address two 16-bit hex groups of an IPv6 address carry (`c633`, `6407`: 198.51.100.7). */
export function ipv4OfGroups(hi: string, lo: string): string {
  const [h, l] = [Number.parseInt(hi, 16), Number.parseInt(lo, 16)];
  return `${h >> 8}.${h & 255}.${l >> 8}.${l & 255}`;
}

/** The eight 16-bit groups of an IPv6 address (a zone id dropped), lowercase, without leading zeros. */
export function ipv6Groups(address: string): string[] {
  const bare = address.split('%')[0] ?? address;
  const [head = '', tail] = bare.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups.map((g) => (g.replace(/^0+(?=.)/, '') || '0').toLowerCase());
}

export function createHostAdmission(limits: SharedLimits, stopwatch: Stopwatch): HostAdmission {
  const hosts = new Map<string, HostState>();
  const inflightTotal: Record<CallLane, number> = { calls: 0, ledger: 0 };
  const totalLimit: Record<CallLane, number> = { calls: limits.maxInflightTotal, ledger: LEDGER_INFLIGHT_TOTAL };
  const stateOf = (host: string): HostState => {
    let state = hosts.get(host);
    if (!state) {
      state = { connections: 0, ...laneState(limits.host, HOST_LEDGER_SCALE, stopwatch) };
      hosts.set(host, state);
    }
    return state;
  };
  const forget = (host: string, state: HostState) => {
    if (state.connections === 0 && inflightIn(state) === 0) hosts.delete(host);
  };
  return {
    connectionOpened(host) {
      const state = stateOf(host);
      if (state.connections >= limits.host.maxConnections) return false;
      state.connections += 1;
      return true;
    },
    connectionClosed(host) {
      const state = hosts.get(host);
      if (!state) return;
      state.connections = Math.max(0, state.connections - 1);
      forget(host, state);
    },
    admit(host, lane = 'calls') {
      const what = LANE_CALLS[lane];
      if (inflightTotal[lane] >= totalLimit[lane]) {
        const calls = lane === 'calls' ? 'peer calls' : `peer ${what}`;
        return { admitted: false, reason: `this gateway has ${inflightTotal[lane]} ${calls} in flight (limit ${totalLimit[lane]})`, retryAfterMs: 0 };
      }
      const state = stateOf(host);
      const lim = laneLimits(lane, limits.host, HOST_LEDGER_SCALE);
      if (state.inflight[lane] >= lim.maxInflight) {
        forget(host, state);
        return { admitted: false, reason: `host has ${state.inflight[lane]} ${what} in flight (limit ${lim.maxInflight} per host, whatever its node ids)`, retryAfterMs: 0 };
      }
      const limiter = state.limiters[lane];
      if (!limiter.take()) {
        forget(host, state);
        const retryAfterMs = limiter.waitMs();
        return {
          admitted: false,
          reason: `host exceeded ${lim.perSecond} ${what}/s (burst ${lim.burst}, whatever its node ids); retry in ${retryAfterMs} ms`,
          retryAfterMs,
        };
      }
      state.inflight[lane] += 1;
      inflightTotal[lane] += 1;
      let released = false;
      return {
        admitted: true,
        release() {
          if (released) return;
          released = true;
          state.inflight[lane] -= 1;
          inflightTotal[lane] -= 1;
          forget(host, state);
        },
      };
    },
  };
}

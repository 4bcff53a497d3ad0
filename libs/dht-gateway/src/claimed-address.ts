/**
 * The address a DHT sender says it listens at is dialled back on its word (libs/dht dial-back.ts),
 * and a lookup dials the contacts a reply lists: both decide where this node sends a TLS handshake
 * for a stranger. The dial-back keeps failed endpoints from being dialled again for a while, by the
 * endpoint as written: a name the resolver reads many ways (`LOCALHOST`, `127.00.000.1`,
 * `2130706433`, `0x7f000001`, `[::ffff:7f00:1]`) let one caller have the node dial one place a
 * hundred times a second. So an address must be written the one way each address has, and must be
 * one its teller could reach: loopback only from this machine, link-local only from that link,
 * private ranges only from a private network, never a wildcard, broadcast or multicast address. A
 * DNS name is held to the same rule where it is dialled, by what it resolves to (dialAddress).
 */
import type { Stopwatch } from '@swarm/determinism';
import { systemStopwatch } from '@swarm/determinism';
import { hostKey, ipv4OfGroups, ipv4OfMapped, ipv6Groups, networkOf } from '@swarm/gateway';
import { isIPv4, isIPv6 } from 'node:net';
import { peerOfDhtEndpoint } from './dht-peer-id';

/** Where an address can be reached from, widest last. */
export type AddressScope = 'undialable' | 'loopback' | 'link-local' | 'private' | 'public';

/** The networks (host-admission.ts networkOf) of callers on this machine's loopback. */
const LOOPBACK_NETWORKS: ReadonlySet<string> = new Set(['127.0.0.0/8', '::1/128']);
/** A DNS label: letters, digits and hyphens, neither first nor last a hyphen, lower case only. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The scope of an IP address written its one way (IPv4 dotted decimal, IPv6 in RFC 5952 form). */
export function scopeOfIp(ip: string): AddressScope {
  if (isIPv4(ip)) {
    const [a, b, c] = ip.split('.').map(Number) as [number, number, number];
    // 192.0.0.0/24: IETF protocol assignments, this host's own translation plumbing (464XLAT's CLAT, DS-Lite's B4, ipv4only.arpa: helper-174).
    if (a === 0 || a >= 224 || (a === 192 && b === 0 && c === 0)) return 'undialable';
    if (a === 127) return 'loopback';
    if (a === 169 && b === 254) return 'link-local';
    // RFC 1918, shared address space (RFC 6598) and the benchmarking range (RFC 2544).
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 198 && (b === 18 || b === 19))) return 'private';
    return 'public';
  }
  if (ip === '::1') return 'loopback';
  // ::/8 but ::1 (IETF-reserved: `::`, IPv4-compatible `::a01:203`, IPv4-mapped and -translated, NAT64's 64:ff9b::/96) is no
  // node's address as written; a NAT64 one would have a translator reach IPv4 space that no claim reaches as IPv4.
  if (Number.parseInt(ip.split(':')[0] || '0', 16) < 0x100 || ip.startsWith('ff')) return 'undialable';
  if (/^fe[89ab]/.test(ip)) return 'link-local';
  // Site-local (fec0::/10, deprecated): whatever a site still routes there is inside it.
  if (/^fe[c-f]/.test(ip)) return 'undialable';
  // 6to4 (2002::/16) reaches the IPv4 address in its next 32 bits: only a public one.
  if (ip.startsWith('2002:')) {
    const [, hi = '0', lo = '0'] = ipv6Groups(ip);
    return scopeOfIp(ipv4OfGroups(hi, lo)) === 'public' ? 'public' : 'undialable';
  }
  if (/^f[cd]/.test(ip)) return 'private';
  return 'public';
}

/** NAT64's well-known prefix 64:ff9b::/96 (RFC 6052), RFC 5952 form: the IPv4 address in its last 32 bits. */
const NAT64_WELL_KNOWN = /^64:ff9b::(?:([0-9a-f]{1,4}):)?([0-9a-f]{1,4})$/;

/** The IPv4 address a NAT64 well-known-prefix address (written its one way) stands for; undefined for any other. */
export function ipv4OfNat64(ip: string): string | undefined {
  const m = NAT64_WELL_KNOWN.exec(ip);
  return m === null ? undefined : ipv4OfGroups(m[1] ?? '0', m[2] ?? '0');
}

/**
 * The scope of an address a DNS name resolved to, written its one way: scopeOfIp's, but for NAT64's
 * well-known prefix, which a DNS64 resolver answers an IPv6-only host with for an IPv4-only name:
 * public when its IPv4 address is public, else undialable (RFC 6052 keeps the prefix to public
 * IPv4, and a name's own AAAA record written `64:ff9b::7f00:1` would have the translator reach
 * 127.0.0.1). As a claim or a record's literal address it stays undialable (scopeOfIp): a node
 * written so names the translator, not itself.
 */
export function scopeOfResolved(ip: string): AddressScope {
  const ipv4 = ipv4OfNat64(ip);
  if (ipv4 === undefined) return scopeOfIp(ip);
  return scopeOfIp(ipv4) === 'public' ? 'public' : 'undialable';
}

/**
 * The scope of a caller's network (networkOf): where the addresses it names must be reachable from.
 * A network of no dialable address (the rest of 0:0:0::/48 but `::1`) reaches as little as a public one.
 */
export function scopeOfNetwork(network: string): AddressScope {
  if (LOOPBACK_NETWORKS.has(network)) return 'loopback';
  const first = network.split('/')[0] ?? '';
  const scope = isIPv4(first) ? scopeOfIp(first) : isIPv6(first) ? scopeOfIp(first.toLowerCase()) : 'public';
  return scope === 'undialable' ? 'public' : scope;
}

/** Why a node in scope `from` cannot have an address in scope `at` to offer; undefined when it can. */
export function reachProblem(at: AddressScope, from: AddressScope): string | undefined {
  if (at === 'undialable') return 'a wildcard, multicast, reserved or broadcast address is no address to dial';
  if (at === 'loopback' && from !== 'loopback') return 'a loopback address, named by a node that is not on this machine';
  if (at === 'link-local' && from !== 'link-local' && from !== 'loopback') return 'a link-local address, named by a node that is not on that link';
  if (at === 'private' && from === 'public') return 'a private address, named by a node on a public network';
  return undefined;
}

/** Why `host` (parseHostPort's: IPv6 without brackets) is no address to dial for a caller on `callerNetwork`; undefined when it is. */
export function claimedHostProblem(host: string, callerNetwork: string): string | undefined {
  const from = scopeOfNetwork(callerNetwork);
  if (isIPv4(host)) return reachProblem(scopeOfIp(host), from);
  if (host.includes(':')) {
    if (!isIPv6(host)) return 'it is no IPv6 address';
    const canonical = canonicalIpv6(host);
    if (canonical === undefined) return 'it is no IPv6 address';
    if (canonical !== host) return `write it as ${canonical}`;
    if (ipv4OfMapped(canonical) !== undefined) return 'write an IPv4-mapped address as the IPv4 address';
    return reachProblem(scopeOfIp(canonical), from);
  }
  return dnsNameProblem(host, from);
}

/**
 * The one way peers take `host` written (claimedHostProblem): a DNS name in lower case, IPv6 in
 * RFC 5952 form, an IPv4-mapped address as its IPv4; undefined when it has none (a name the
 * resolver would read as an address, `127.1`). For the address a node tells its peers.
 */
export function canonicalHost(host: string): string | undefined {
  if (isIPv4(host)) return host;
  if (host.includes(':')) {
    const canonical = isIPv6(host) ? canonicalIpv6(host) : undefined;
    return canonical === undefined ? undefined : (ipv4OfMapped(canonical) ?? canonical);
  }
  const lower = host.toLowerCase();
  return dnsNameProblem(lower, 'loopback') === undefined ? lower : undefined;
}

/** WHATWG's serializer writes the RFC 5952 form: lower case, no leading zeros, the longest run of zeros as `::`. */
function canonicalIpv6(host: string): string | undefined {
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

function dnsNameProblem(host: string, from: AddressScope): string | undefined {
  const lower = host.toLowerCase();
  if (lower !== host) return `write it as ${lower}`;
  const labels = host.split('.');
  if (!labels.every((label) => LABEL.test(label))) return 'it is no DNS name';
  // A resolver reads `127.1`, `2130706433` or `0x7f000001` as an address: a name ends in a label starting with a letter.
  if (!/^[a-z]/.test(labels[labels.length - 1] ?? '')) return 'write an IPv4 address as four decimal numbers, or a name ending in a label that starts with a letter';
  if (host === 'localhost' || host.endsWith('.localhost')) return reachProblem('loopback', from);
  return undefined;
}

/** The network (as claimedHostProblem takes it) of a node this one dialled at `host`: a name is on no network of this machine's but `localhost`'s. */
export function networkOfDialled(host: string): string {
  if (host === 'localhost' || host.endsWith('.localhost')) return '127.0.0.0/8';
  return isIPv4(host) || isIPv6(host) ? networkOf(host) : 'a DNS name';
}

/** Resolves a DNS name to its addresses (node's `dns.lookup`, every family). */
export type ResolveHost = (host: string) => Promise<string[]>;

/**
 * The address to dial for `host`: itself when an IP address; for a DNS name, the first address it
 * resolves to that a node in scope `own` (this node's, from the address it tells peers) could have
 * been told, so a name cannot point this node at its own loopback or private network where an
 * address could not. Throws when it resolves to none such. The dial then goes to that address, so
 * a second answer (DNS rebinding) cannot move it; TLS pins the peer's key, not its name. An address
 * that failed to reach its peer lately (`unreachedAt`) is passed over for the next that fits; when
 * every one has, the one that failed longest ago is taken (helper-175: the first again and again).
 */
export async function dialAddress(host: string, own: AddressScope, resolve: ResolveHost, unreachedAt: UnreachedAt = () => undefined): Promise<string> {
  if (isIPv4(host) || isIPv6(host)) return host;
  const addresses = (await resolve(host)).map(canonicalIp);
  const fitting = addresses.filter((a) => reachProblem(scopeOfResolved(a), own) === undefined);
  if (fitting.length === 0) throw new Error(`${host} resolves to no address this node dials for a peer (${addresses.length} found)`);
  // A dual-stack name whose first address (IPv6, by the resolver's order) has no route from here was dialled there every time.
  let best = fitting[0];
  let bestAt = unreachedAt(best);
  for (const a of fitting) {
    const at = unreachedAt(a);
    if (at === undefined) return a;
    if (bestAt !== undefined && at < bestAt) [best, bestAt] = [a, at];
  }
  return best;
}

/** When a resolved address last failed to reach the peer dialled there, lately; undefined when it has not. */
export type UnreachedAt = (ip: string) => number | undefined;

/** Scopes by how little a node in each may dial: a loopback node may dial anything, a public one only public addresses. */
const REACH_RANK: Readonly<Record<AddressScope, number>> = { loopback: 0, 'link-local': 1, private: 2, public: 3, undialable: 3 };

/**
 * Where this node can be reached from, by the address it tells peers and the addresses it listens
 * at: the narrowest of every address the name resolves to and of those. Peers dial a name at the
 * first of its addresses that fits their scope, so one public address among them makes the node
 * public; read off the first answer, a Debian or cloud-init host (`127.0.1.1 <fqdn>` in /etc/hosts)
 * that peers reach on the internet took itself for loopback, and dialled whatever a record named
 * (helper-170). A name other than `localhost` is never loopback: its loopback answers are left
 * out, and one with no other answer is public (advertise the address itself then), as is a name
 * that resolves to nothing, or no address to dial (`0.0.0.0`). `listening`: the listen host, or for
 * a wildcard every address of the machine's interfaces but loopback (listenAddressesOf): a node on
 * every interface that advertised 127.0.0.1 took itself for loopback (helper-171). Throws when the
 * name cannot be looked up now.
 */
export async function scopeOfAdvertised(host: string, resolve: ResolveHost, listening: readonly string[] = []): Promise<AddressScope> {
  const scopes: AddressScope[] = [];
  if (isIPv4(host) || isIPv6(host)) scopes.push(scopeOfAddress(host));
  else {
    const isLocalhost = host === 'localhost' || host.endsWith('.localhost');
    // Another name's loopback answers (a hosts file's 127.0.1.1) say nothing of where peers reach it.
    const reached = (await resolve(host)).map(scopeOfAddress).filter((scope) => isLocalhost || scope !== 'loopback');
    scopes.push(...(reached.length > 0 ? reached : ['public' as const]));
  }
  for (const address of listening) if (isIPv4(address) || isIPv6(address)) scopes.push(scopeOfAddress(address));
  const narrowest = scopes.reduce((a, b) => (REACH_RANK[b] > REACH_RANK[a] ? b : a), 'loopback');
  return narrowest === 'undialable' ? 'public' : narrowest;
}

/** The scope of an IP address however it is written (scopeOfIp takes IPv6 in its RFC 5952 form). */
function scopeOfAddress(ip: string): AddressScope {
  return scopeOfIp(canonicalIp(ip));
}

/** An IP address as scopeOfIp and a dial take it: IPv6 in its RFC 5952 form, IPv4 as it is. */
function canonicalIp(ip: string): string {
  return isIPv6(ip) ? (canonicalIpv6(ip) ?? ip) : ip;
}

/** After a failed lookup of its own name, a node reads itself public and asks again at most this often, in the background. */
export const OWN_SCOPE_RETRY_MS = 30_000;

/**
 * This node's scope (scopeOfAdvertised) as its dials ask for it: read once the advertised host is
 * known, and kept. The first read is waited for; when it fails (the resolver cannot answer for the
 * node's own name), the node reads itself public (the narrowest) at once, and reads again in the
 * background at most every OWN_SCOPE_RETRY_MS, keeping the first answer that comes: neither kept as
 * public until a restart, which shut a private node out of its network (helper-170), nor a dial
 * waiting on the resolver again each time (helper-171: 10 s each with a resolver that never answers).
 */
export function ownScopeReader(
  advertisedHost: Promise<string> | string,
  resolve: ResolveHost,
  listening: readonly string[] = [],
  stopwatch: Stopwatch = systemStopwatch,
): () => Promise<AddressScope> {
  const read = () => Promise.resolve(advertisedHost).then((host) => scopeOfAdvertised(host, resolve, listening));
  let known: AddressScope | undefined;
  let first: Promise<AddressScope> | undefined;
  let failedAtMs: number | undefined;
  let retrying = false;
  return () => {
    if (known !== undefined) return Promise.resolve(known);
    if (failedAtMs === undefined) {
      first ??= read().then(
        (scope) => (known = scope),
        () => {
          failedAtMs = stopwatch.now();
          return 'public' as const;
        },
      );
      return first;
    }
    if (!retrying && stopwatch.now() - failedAtMs >= OWN_SCOPE_RETRY_MS) {
      retrying = true;
      void read()
        .then(
          (scope) => void (known = scope),
          () => void (failedAtMs = stopwatch.now()),
        )
        .finally(() => (retrying = false));
    }
    return Promise.resolve('public' as const);
  };
}

/**
 * The address to dial for a peer's gateway this node was told of by a signed record or a task's
 * endpoint, not by the peer over a connection: a record is signed by its own node, which can write
 * any address there, and a public node dialled this machine's loopback (its NATS server, say) or
 * hosts of its private network for it, with a TLS handshake each. So the address must be written its
 * one way (canonicalHost) and be one a node in scope `own` could have been told: an IP address
 * itself, a name by what it resolves to (dialAddress, which that dial then goes to). Throws otherwise.
 */
export async function peerAddressToDial(host: string, own: AddressScope, resolve: ResolveHost, unreachedAt?: UnreachedAt): Promise<string> {
  const canonical = canonicalHost(host);
  if (canonical !== host) throw new Error(canonical === undefined ? `${host.slice(0, 64)} is no address to dial` : `write ${host.slice(0, 64)} as ${canonical}`);
  if (!isIPv4(host) && !isIPv6(host)) return dialAddress(host, own, resolve, unreachedAt);
  const problem = reachProblem(scopeOfIp(host), own);
  if (problem !== undefined) throw new Error(`${host} is ${problem}`);
  return host;
}

/**
 * The host a claim of a DHT endpoint from `network` counts against, which dial-backs share a rate
 * by (libs/dht dial-back.ts): claims of a host's every port otherwise had this node dial it at the
 * full rate. An IPv4 address or a DNS name as written (each has one spelling here), an IPv6 /64
 * (hostKey: a subscriber's, whose every address would otherwise be a host of its own, helper-166).
 * Claims from the host's own network (a /24 or /48: the node itself, or a neighbour) have a rate of
 * their own, so that strangers naming a node's other ports do not use up its own claims' (helper-166),
 * while a neighbour is held to 2 a second too (rev167). Undefined for this machine's loopback (its
 * nodes are its own) and for what is no DHT endpoint (the dial fails at once).
 */
export function dialledHostOf(endpoint: string, network: string | undefined): string | undefined {
  let host: string;
  try {
    host = peerOfDhtEndpoint(endpoint).address.host;
  } catch {
    return undefined;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return undefined;
  if (!isIPv4(host) && !isIPv6(host)) return host;
  if (scopeOfIp(host) === 'loopback') return undefined;
  const key = isIPv6(host) ? hostKey(host) : host;
  return networkOf(host) === network ? `${key} from its own network` : key;
}

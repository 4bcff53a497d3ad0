/**
 * The address a DHT sender says it listens at is dialled back on its word (libs/dht dial-back.ts),
 * so the claim decides where this node sends a TLS handshake for a stranger. The dial-back keeps
 * failed endpoints from being dialled again for a while, by the endpoint as written: a name the
 * resolver reads many ways (`LOCALHOST`, `127.00.000.1`, `2130706433`, `0x7f000001`,
 * `[::ffff:7f00:1]`) let one caller have the node dial one place a hundred times a second. So a
 * claim must be written the one way each address has, and must be an address such a caller could
 * listen at: loopback only from a caller on loopback, link-local only from a caller on that link,
 * never a wildcard, broadcast or multicast address.
 */
import { networkOf } from '@swarm/gateway';
import { isIPv4, isIPv6 } from 'node:net';

/** The networks (host-admission.ts networkOf) of callers on this machine's loopback. */
const LOOPBACK_NETWORKS: ReadonlySet<string> = new Set(['127.0.0.0/8', '0:0:0::/48']);
/** A DNS label: letters, digits and hyphens, neither first nor last a hyphen, lower case only. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `host` (parseHostPort's: IPv6 without brackets) is no address to dial back for a caller on `callerNetwork`; undefined when it is. */
export function claimedHostProblem(host: string, callerNetwork: string): string | undefined {
  const fromLoopback = LOOPBACK_NETWORKS.has(callerNetwork);
  if (isIPv4(host)) return ipv4Problem(host, callerNetwork, fromLoopback);
  if (host.includes(':')) return isIPv6(host) ? ipv6Problem(host, callerNetwork, fromLoopback) : 'it is no IPv6 address';
  return dnsNameProblem(host, fromLoopback);
}

function ipv4Problem(host: string, callerNetwork: string, fromLoopback: boolean): string | undefined {
  const [a, b] = host.split('.').map(Number) as [number, number];
  if (a === 0) return 'an address of 0.0.0.0/8 is no address to dial';
  if (a >= 224) return 'a multicast, reserved or broadcast address is no address to dial';
  if (a === 127 && !fromLoopback) return 'a loopback address, claimed by a node that is not on this machine';
  if (a === 169 && b === 254 && !callerNetwork.startsWith('169.254.')) return 'a link-local address, claimed by a node that is not on that link';
  return undefined;
}

function ipv6Problem(host: string, callerNetwork: string, fromLoopback: boolean): string | undefined {
  // WHATWG's serializer writes the RFC 5952 form: lower case, no leading zeros, the longest run of zeros as `::`.
  let canonical: string;
  try {
    canonical = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return 'it is no IPv6 address';
  }
  if (canonical !== host) return `write it as ${canonical}`;
  if (canonical === '::') return 'a wildcard address is no address to dial';
  if (canonical.startsWith('::ffff:')) return 'write an IPv4-mapped address as the IPv4 address';
  if (canonical.startsWith('ff')) return 'a multicast address is no address to dial';
  if (canonical === '::1' && !fromLoopback) return 'a loopback address, claimed by a node that is not on this machine';
  if (/^fe[89ab]/.test(canonical) && !/^fe[89ab]/.test(callerNetwork)) return 'a link-local address, claimed by a node that is not on that link';
  return undefined;
}

function dnsNameProblem(host: string, fromLoopback: boolean): string | undefined {
  const lower = host.toLowerCase();
  if (lower !== host) return `write it as ${lower}`;
  const labels = host.split('.');
  if (!labels.every((label) => LABEL.test(label))) return 'it is no DNS name';
  // A resolver reads `127.1`, `2130706433` or `0x7f000001` as an address: a name ends in a label starting with a letter.
  if (!/^[a-z]/.test(labels[labels.length - 1] ?? '')) return 'write an IPv4 address as four decimal numbers, or a name ending in a label that starts with a letter';
  if ((host === 'localhost' || host.endsWith('.localhost')) && !fromLoopback) return 'a loopback name, claimed by a node that is not on this machine';
  return undefined;
}

/** The network (as claimedHostProblem takes it) of a node this one dialled at `host`: a name is on no network of this machine's but `localhost`'s. */
export function networkOfDialled(host: string): string {
  if (host === 'localhost' || host.endsWith('.localhost')) return '127.0.0.0/8';
  return isIPv4(host) || isIPv6(host) ? networkOf(host) : 'a DNS name';
}

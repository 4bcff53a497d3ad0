/**
 * The addresses a gateway listening at `host` can be reached at, for its own scope
 * (claimed-address.ts scopeOfAdvertised): the host itself, or for a wildcard every address of the
 * machine's interfaces it takes (`0.0.0.0` the IPv4 ones, `::` all) but the loopback ones, which say
 * nothing of who else reaches it.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { networkInterfaces } from 'node:os';

/** IPv6's wildcard takes IPv4 too (a dual-stack socket, Linux's default); IPv4's takes IPv4 only (helper-172). */
const WILDCARD_FAMILIES: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['0.0.0.0', new Set(['IPv4'])],
  ['::', new Set(['IPv4', 'IPv6'])],
  ['0:0:0:0:0:0:0:0', new Set(['IPv4', 'IPv6'])],
]);

export function listenAddressesOf(host: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  const families = WILDCARD_FAMILIES.get(host);
  if (families === undefined) return [host];
  return Object.values(interfaces)
    .flatMap((addresses) => addresses ?? [])
    .filter((a) => !a.internal && families.has(a.family))
    .map((a) => a.address.split('%')[0] ?? a.address);
}

/**
 * The addresses a gateway listening at `host` can be reached at, for its own scope
 * (claimed-address.ts scopeOfAdvertised): the host itself, or for a wildcard (`0.0.0.0`, `::`) every
 * address of the machine's interfaces but its loopback ones, which say nothing of who else reaches it.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { networkInterfaces } from 'node:os';

const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

export function listenAddressesOf(host: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  if (!WILDCARDS.has(host)) return [host];
  return Object.values(interfaces)
    .flatMap((addresses) => addresses ?? [])
    .filter((a) => !a.internal)
    .map((a) => a.address.split('%')[0] ?? a.address);
}

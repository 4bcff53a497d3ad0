/**
 * Gateway addresses as people write them: `host:port` (an IPv4 address, a DNS name, or an IPv6
 * address in brackets) and, for a peer, `<node id>@host:port`. The node id in a peer address is
 * what the dialler pins: it refuses a server whose certificate key does not hash to it.
 */
import type { HostPort } from '@swarm/config';
import { formatHostPort, isWildcardHost, parseHostPort } from '@swarm/config';

export type { HostPort };
export { formatHostPort, isWildcardHost, parseHostPort };

export interface PeerAddress {
  /** Hex SHA-256 of the peer's Ed25519 public key. */
  readonly nodeId: string;
  readonly address: HostPort;
}

export const NODE_ID_PATTERN = /^[0-9a-f]{64}$/;
/** `<64 hex node id>@host:port`, e.g. a seed in SWARM_SEEDS. */
export function parsePeerAddress(text: string): PeerAddress | undefined {
  const at = text.indexOf('@');
  if (at < 0) return undefined;
  const nodeId = text.slice(0, at);
  const address = parseHostPort(text.slice(at + 1));
  if (!NODE_ID_PATTERN.test(nodeId) || !address || address.port === 0) return undefined;
  return Object.freeze({ nodeId, address });
}

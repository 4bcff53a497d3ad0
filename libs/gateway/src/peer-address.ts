/**
 * Gateway addresses as people write them: `host:port` (an IPv4 address, a DNS name, or an IPv6
 * address in brackets) and, for a peer, `<node id>@host:port`. The node id in a peer address is
 * what the dialler pins: it refuses a server whose certificate key does not hash to it.
 */
export interface HostPort {
  /** IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

export interface PeerAddress {
  /** Hex SHA-256 of the peer's Ed25519 public key. */
  readonly nodeId: string;
  readonly address: HostPort;
}

export const NODE_ID_PATTERN = /^[0-9a-f]{64}$/;
const MAX_PORT = 65_535;
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9A-Za-z](?:[0-9A-Za-z.-]{0,251}[0-9A-Za-z])?)):(\d{1,5})$/;

export function parseHostPort(text: string): HostPort | undefined {
  const m = HOST_PORT.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > MAX_PORT) return undefined;
  return Object.freeze({ host: m[1] ?? m[2], port });
}

export function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** `<64 hex node id>@host:port`, e.g. a seed in SWARM_SEEDS. */
export function parsePeerAddress(text: string): PeerAddress | undefined {
  const at = text.indexOf('@');
  if (at < 0) return undefined;
  const nodeId = text.slice(0, at);
  const address = parseHostPort(text.slice(at + 1));
  if (!NODE_ID_PATTERN.test(nodeId) || !address || address.port === 0) return undefined;
  return Object.freeze({ nodeId, address });
}

/** Whether a listen host accepts on every interface, so peers cannot be told it as an address. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * Listen and peer addresses as people write them in settings: `host:port` with an IPv4 address, a
 * DNS name, or an IPv6 address in brackets. Port 0 parses (a listener's "any free port"); callers
 * that dial refuse it.
 */
export interface HostPort {
  /** IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

const MAX_PORT = 65_535;
// An IPv6 address is at most 45 characters (IPv4-mapped); a port has no leading zeros (one
// address, one spelling: endpoints are compared as strings).
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]{2,45})\]|([0-9A-Za-z](?:[0-9A-Za-z.-]{0,251}[0-9A-Za-z])?)):(0|[1-9]\d{0,4})$/;

/** The address, or undefined when `text` is none of the three forms or the port is over 65535. */
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

/** Whether a listen host accepts on every interface, so nobody can be told it as an address. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * Free TCP ports on one host, for the listeners of the nodes one launcher starts (gateway, HTTP
 * API): each gets a fixed port (not 0) so that a restarted service comes back at the address its
 * peers, its DHT records and node.json already name. All ports are held open until every one is found, so one call never
 * hands out the same port twice.
 */
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { formatHostPort, parseHostPort } from '@swarm/config';

export const LOOPBACK_HOST = '127.0.0.1';

export async function freePorts(count: number, host = LOOPBACK_HOST): Promise<number[]> {
  const held: Server[] = [];
  try {
    for (let i = 0; i < count; i++) held.push(await listenOnAnyPort(host));
    return held.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new Error(`no TCP port bound on ${host}`);
      return address.port;
    });
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Tries at finding a port no other listener of this process was given (the OS may hand one out twice). */
const PORT_TRIES = 5;
/**
 * Every port this process has pinned, for any node it starts. A pinned port is free only until its
 * service binds it, seconds later; nodes started at once must not be given one another's ports, and
 * their nats-servers take pinned ports too (a random one could be a port just given to another
 * node's service: `npm start`'s three nodes once failed that way).
 */
const PINNED = new Set<number>();

/** A loopback port free now and never pinned before by this process; undefined when none binds. */
export async function pinnedPort(host = LOOPBACK_HOST): Promise<number | undefined> {
  for (let i = 0; i < PORT_TRIES; i++) {
    const port = await freePorts(1, host).then(
      (ports) => ports[0],
      () => undefined,
    );
    if (port === undefined) return undefined;
    if (PINNED.has(port)) continue;
    PINNED.add(port);
    return port;
  }
  return undefined;
}

/**
 * `count` ports pinned at once, for the gateways of the nodes one launcher starts: a nats-server
 * started meanwhile (pinnedPort) is never given one of them (this session's quick start: node 1's
 * nats-server took the port just found for its gateway, which then could not listen). Node i takes
 * `preferred[i]` when it is free and not pinned (the port its gateway had last time), else a new one.
 */
export async function pinnedPorts(count: number, host = LOOPBACK_HOST, preferred: ReadonlyArray<number | undefined> = []): Promise<number[]> {
  const ports: number[] = [];
  // One at a time: two nodes preferring one port (a home copied) must not both be given it.
  while (ports.length < count) {
    const wanted = preferred[ports.length];
    const port = (wanted !== undefined ? await pinIfFree(host, wanted) : undefined) ?? (await pinnedPort(host));
    if (port === undefined) throw new Error(`no TCP port free to pin on ${host}`);
    ports.push(port);
  }
  return ports;
}

/**
 * A listen address with a port fixed for the node's life: the one given, or (none given, or port
 * 0) `preferredPort` when it is free now (the port the node had last time: an agent's
 * SWARM_API_URL and peers' cached addresses stay right across restarts), else a port free now on
 * its host (loopback by default). The supervisor restarts a service with
 * the same environment, so it comes back at the address node.json and its peers already name
 * instead of wherever port 0 lands. A value that does not parse is passed on for the service's
 * own configuration error; a host where no port can be bound keeps port 0.
 */
export async function pinnedListen(given: string | undefined, preferredPort?: number): Promise<string> {
  const address = given ? parseHostPort(given) : { host: LOOPBACK_HOST, port: 0 };
  if (!address || address.port !== 0) return given ?? '';
  const port = (preferredPort !== undefined && (await pinIfFree(address.host, preferredPort))) || (await pinnedPort(address.host));
  return formatHostPort(port === undefined ? address : { host: address.host, port });
}

/** Gives back ports of listen addresses this process pinned, once their node has stopped: the node may start again on them. */
export function unpinListen(...addresses: ReadonlyArray<string | undefined>): void {
  for (const address of addresses) {
    const port = address ? parseHostPort(address)?.port : undefined;
    if (port !== undefined) PINNED.delete(port);
  }
}

/** `port` pinned when it binds on `host` now and was never pinned by this process; else undefined. */
async function pinIfFree(host: string, port: number): Promise<number | undefined> {
  if (!Number.isInteger(port) || port < 1 || port > 65_535 || PINNED.has(port)) return undefined;
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
  if (!bound) return undefined;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  PINNED.add(port);
  return port;
}

function listenOnAnyPort(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

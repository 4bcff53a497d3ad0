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

/** Tries at finding a port no other listener of this node was given (the OS may hand one out twice). */
const PORT_TRIES = 5;

/**
 * A listen address with a port fixed for the node's life: the one given, or (none given, or port
 * 0) a port free now on its host (loopback by default). The supervisor restarts a service with
 * the same environment, so it comes back at the address node.json and its peers already name
 * instead of wherever port 0 lands. A value that does not parse is passed on for the service's
 * own configuration error; a host where no port can be bound keeps port 0.
 */
export async function pinnedListen(given: string | undefined, taken: Set<number>): Promise<string> {
  const address = given ? parseHostPort(given) : { host: LOOPBACK_HOST, port: 0 };
  if (!address || address.port !== 0) return given ?? '';
  for (let i = 0; i < PORT_TRIES; i++) {
    const port = await freePorts(1, address.host).then(
      (ports) => ports[0],
      () => undefined,
    );
    if (port === undefined) return formatHostPort(address);
    if (taken.has(port)) continue;
    taken.add(port);
    return formatHostPort({ host: address.host, port });
  }
  return formatHostPort(address);
}

function listenOnAnyPort(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

/**
 * Free TCP ports on one host, for the gateways of the nodes one launcher starts: each node's gateway
 * gets a fixed port (not 0) so that a restarted gateway comes back at the address its peers and its
 * DHT records already name. All ports are held open until every one is found, so one call never
 * hands out the same port twice.
 */
import type { Server } from 'node:net';
import { createServer } from 'node:net';

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

function listenOnAnyPort(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

/**
 * A TCP server on loopback that takes every connection and never says a word: what a client meets
 * at an address where something listens but nothing answers (a hung server, a wrong port).
 */
import type { AddressInfo, Socket } from 'node:net';
import { createServer } from 'node:net';

export interface SilentServer {
  readonly port: number;
  /** Connections it holds now. */
  connections(): number;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => sockets.size,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

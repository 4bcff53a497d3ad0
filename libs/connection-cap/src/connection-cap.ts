/**
 * A server's connections from all hosts together: the peers' gateway (libs/gateway) and the
 * agents' HTTP API (api-svc). Each host is held to its own few where hosts can be told apart, but
 * hosts are cheap (an IPv6 /48 is 65,536 of them), and on loopback every local process is one:
 * without a cap across hosts, enough connections would take every file descriptor the process has,
 * and with them its ledger's and its own dials. A plain cap let 2,048 idle connections lock every
 * new peer out, so at the cap a new connection takes the place of another: first the one that has
 * proved nothing longest (still in its TLS handshake, or no agent's request with a valid token on
 * it yet: an honest one takes milliseconds; 2,048 silent ones held the cap), then the authenticated
 * one idle longest (no call in flight for at least MIN_IDLE_MS: a call may be on the wire that the
 * server has not counted yet). Only when none may go is the new one refused. A client whose idle
 * connection is closed dials again at its next call.
 */
import type { Stopwatch } from '@swarm/determinism';

/** What the cap needs of a connection's socket (a net.Socket or a TLS one): to close it, and to hear it closed. */
export interface CappedSocket {
  destroy(): void;
  once(event: 'close', listener: () => void): unknown;
}

/** An authenticated connection used less recently than this may be closed to make room. */
export const MIN_IDLE_MS = 1_000;

export interface ConnectionCap {
  /**
   * A TCP connection arrived, under `key` (the server's name for it: the gateway's is its remote
   * address and port, as the authenticated one will have): false to refuse it (another may have
   * been closed to make room).
   */
  opened(key: string, socket: CappedSocket): boolean;
  /** The connection under `key` proved its client (the gateway: a peer's TLS handshake, `socket` its TLS socket; the API: an agent's token). */
  authenticated(key: string, socket: CappedSocket): void;
  /** A call on the connection under `key` was admitted, or ended (no key: none to count it on). */
  callStarted(key: string | undefined): void;
  callEnded(key: string | undefined): void;
  /** Closes the connection under `key` (a call on it stalled), with every stream on it. */
  close(key: string | undefined): void;
}

interface Connection {
  /** The TCP socket; the TLS one once authenticated (closing either closes both). */
  socket: CappedSocket;
  authenticated: boolean;
  inFlight: number;
  lastActiveMs: number;
}

export function createConnectionCap(max: number, stopwatch: Stopwatch): ConnectionCap {
  // In the order opened: the first still handshaking is the one handshaking longest.
  const open = new Map<string, Connection>();
  const makeRoom = (): boolean => {
    const now = stopwatch.now();
    let idlest: [string, Connection] | undefined;
    for (const entry of open) {
      const c = entry[1];
      if (!c.authenticated) return closeEntry(entry);
      if (c.inFlight === 0 && now - c.lastActiveMs >= MIN_IDLE_MS && (idlest === undefined || c.lastActiveMs < idlest[1].lastActiveMs)) idlest = entry;
    }
    return idlest !== undefined && closeEntry(idlest);
  };
  const closeEntry = ([key, c]: [string, Connection]): true => {
    open.delete(key);
    c.socket.destroy();
    return true;
  };
  return {
    opened(key, socket) {
      if (open.size >= max && !makeRoom()) return false;
      const now = stopwatch.now();
      const c: Connection = { socket, authenticated: false, inFlight: 0, lastActiveMs: now };
      open.set(key, c);
      socket.once('close', () => {
        if (open.get(key) === c) open.delete(key);
      });
      return true;
    },
    authenticated(key, socket) {
      const c = open.get(key);
      if (!c) return;
      c.socket = socket;
      c.authenticated = true;
      c.lastActiveMs = stopwatch.now();
    },
    callStarted(key) {
      const c = key === undefined ? undefined : open.get(key);
      if (!c) return;
      c.inFlight += 1;
      c.lastActiveMs = stopwatch.now();
    },
    callEnded(key) {
      const c = key === undefined ? undefined : open.get(key);
      if (!c) return;
      c.inFlight = Math.max(0, c.inFlight - 1);
      c.lastActiveMs = stopwatch.now();
    },
    close(key) {
      const c = key === undefined ? undefined : open.get(key);
      if (key !== undefined && c) closeEntry([key, c]);
    },
  };
}

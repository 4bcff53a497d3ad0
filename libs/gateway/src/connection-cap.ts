/**
 * The gateway's connections from all hosts together. Each host is held to its own few, but hosts
 * are cheap (an IPv6 /48 is 65,536 of them): without a cap across hosts, enough of them would take
 * every file descriptor the process has, and with them its ledger's and its own dials. A plain cap
 * let 2,048 idle connections lock every new peer out, so at the cap a new connection takes the
 * place of the authenticated connection idle longest (no call in flight: the calls in flight are
 * capped across peers far below the connections); only when every one has a call in flight is the
 * new one refused. A peer whose idle connection is closed dials again at its next call.
 */
import type { Socket } from 'node:net';
import type { Stopwatch } from '@swarm/determinism';

export interface ConnectionCap {
  /**
   * A TCP connection arrived, under `key` (its remote address and port, as the authenticated one
   * will have): false to refuse it (the longest idle one may have been closed to make room).
   */
  opened(key: string, socket: Socket): boolean;
  /** The connection under `key` proved its peer (`socket`: its TLS socket): it may now be made room from, once idle. */
  authenticated(key: string, socket: Socket): void;
  /** A call on the connection under `key` was admitted, or ended (no key: none to count it on). */
  callStarted(key: string | undefined): void;
  callEnded(key: string | undefined): void;
}

interface Authenticated {
  readonly socket: Socket;
  inFlight: number;
  lastActiveMs: number;
}

export function createConnectionCap(max: number, stopwatch: Stopwatch): ConnectionCap {
  const open = new Map<string, Socket>();
  const byKey = new Map<string, Authenticated>();
  const idlest = (): [string, Authenticated] | undefined => {
    let found: [string, Authenticated] | undefined;
    for (const [key, c] of byKey) if (c.inFlight === 0 && open.has(key) && (found === undefined || c.lastActiveMs < found[1].lastActiveMs)) found = [key, c];
    return found;
  };
  return {
    opened(key, socket) {
      if (open.size >= max) {
        const victim = idlest();
        if (victim === undefined) return false;
        open.delete(victim[0]);
        byKey.delete(victim[0]);
        victim[1].socket.destroy();
      }
      open.set(key, socket);
      socket.once('close', () => {
        if (open.get(key) === socket) open.delete(key);
      });
      return true;
    },
    authenticated(key, socket) {
      byKey.set(key, { socket, inFlight: 0, lastActiveMs: stopwatch.now() });
      socket.once('close', () => {
        if (byKey.get(key)?.socket === socket) byKey.delete(key);
      });
    },
    callStarted(key) {
      const c = key === undefined ? undefined : byKey.get(key);
      if (!c) return;
      c.inFlight += 1;
      c.lastActiveMs = stopwatch.now();
    },
    callEnded(key) {
      const c = key === undefined ? undefined : byKey.get(key);
      if (!c) return;
      c.inFlight = Math.max(0, c.inFlight - 1);
      c.lastActiveMs = stopwatch.now();
    },
  };
}

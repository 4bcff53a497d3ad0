/**
 * An in-process network for DHT transports: tests and the simulator run many nodes on it, on the
 * scheduler they pass (virtual time in both). It counts every request, can delay or lose messages
 * and can kill nodes; a dead, closed or unknown endpoint never answers, so its caller waits out
 * `timeoutMs` as it would on a real network. Requests and replies are structured-cloned (unless
 * `copyMessages` is off), so no node shares an object with another.
 */
import { ErrorCode, SwarmError, isSwarmError } from '@swarm/contracts';
import type { Random, Scheduler } from '@swarm/determinism';
import type { DhtHandlers, DhtRpcName, DhtTransport } from './wire';
import { DHT_RPC_NAMES } from './wire';

export const DEFAULT_MEMORY_TIMEOUT_MS = 2_000;

export interface MemoryNetworkOptions {
  readonly scheduler: Scheduler;
  /** Draws message losses. */
  readonly random: Random;
  /** One-way delay of each message; 0 delivers on the next microtask turn. */
  readonly latencyMs?: number;
  /** Chance that one message (a request or a reply) is lost, in [0, 1). */
  readonly lossRate?: number;
  /** How long a caller waits for a reply. */
  readonly timeoutMs?: number;
  /**
   * Structured-clone every request and reply (default true), as a wire would: no shared objects,
   * and a message that is not plain data is refused. The simulator turns it off: a DHT node never
   * mutates a message it sent or received, and the clones were a fifth of its run time.
   */
  readonly copyMessages?: boolean;
}

export interface MemoryNetworkStats {
  /** Requests sent, all kinds. */
  readonly requests: number;
  readonly byRpc: Readonly<Record<DhtRpcName, number>>;
  /** Requests that got no reply in time (dead or unknown peer, loss). */
  readonly timedOut: number;
}

export interface MemoryNetwork {
  /** A transport at `endpoint` (unique on this network). */
  transport(endpoint: string): DhtTransport;
  /** The node at `endpoint` stops answering and sending (a crash); its state stays for revive(). */
  kill(endpoint: string): void;
  revive(endpoint: string): void;
  isAlive(endpoint: string): boolean;
  stats(): MemoryNetworkStats;
  resetStats(): void;
}

function checkOptions(o: MemoryNetworkOptions): Required<Pick<MemoryNetworkOptions, 'latencyMs' | 'lossRate' | 'timeoutMs'>> {
  const latencyMs = o.latencyMs ?? 0;
  const lossRate = o.lossRate ?? 0;
  const timeoutMs = o.timeoutMs ?? DEFAULT_MEMORY_TIMEOUT_MS;
  if (!(latencyMs >= 0 && Number.isFinite(latencyMs))) throw new RangeError(`latencyMs must be a finite number >= 0, got ${latencyMs}`);
  if (!(lossRate >= 0 && lossRate < 1)) throw new RangeError(`lossRate must be in [0, 1), got ${lossRate}`);
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) throw new RangeError(`timeoutMs must be a finite number > 0, got ${timeoutMs}`);
  return { latencyMs, lossRate, timeoutMs };
}

function zeroCounts(): Record<DhtRpcName, number> {
  return { ping: 0, store: 0, findNode: 0, findValue: 0 };
}

export function createMemoryNetwork(options: MemoryNetworkOptions): MemoryNetwork {
  const { latencyMs, lossRate, timeoutMs } = checkOptions(options);
  const { scheduler, random } = options;
  const copy = options.copyMessages === false ? <T>(message: T) => message : <T>(message: T) => structuredClone(message);
  const handlersAt = new Map<string, DhtHandlers>();
  const endpoints = new Set<string>();
  const dead = new Set<string>();
  const closed = new Set<string>();
  let byRpc = zeroCounts();
  let requests = 0;
  let timedOut = 0;

  const reachable = (endpoint: string) => endpoints.has(endpoint) && !dead.has(endpoint) && !closed.has(endpoint);
  const delivered = () => lossRate === 0 || random() >= lossRate;
  const after = (fn: () => void) => {
    if (latencyMs === 0) queueMicrotask(fn);
    else scheduler.setTimer(latencyMs, fn);
  };

  function send<Req, Res>(rpc: DhtRpcName, from: string, to: string, request: Req): Promise<Res> {
    if (!reachable(from)) return Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `DHT transport ${from} is closed or dead`));
    requests++;
    byRpc[rpc]++;
    return new Promise<Res>((resolve, reject) => {
      let done = false;
      const cancelTimeout = scheduler.setTimer(timeoutMs, () => {
        if (done) return;
        done = true;
        timedOut++;
        reject(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `DHT ${rpc} to ${to}: no reply within ${timeoutMs} ms`));
      });
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        cancelTimeout();
        settle();
      };
      let sent: Req;
      try {
        sent = copy(request);
      } catch {
        finish(() => reject(new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `DHT ${rpc}: the request cannot be sent (not plain data)`)));
        return;
      }
      if (!delivered()) return;
      after(() => {
        const handlers = handlersAt.get(to);
        if (!handlers || !reachable(to)) return;
        Promise.resolve()
          .then(() => handlers[rpc](from, sent as never) as Res | Promise<Res>)
          .then(
            (response) => {
              const reply = copy(response);
              if (!delivered()) return;
              after(() => {
                if (reachable(to)) finish(() => resolve(reply));
              });
            },
            (err: unknown) => {
              // Peers see a code and a message, never a stack (STYLE.md: unknown -> INTERNAL).
              const wire = isSwarmError(err) ? new SwarmError(err.code, err.message, err.retryable) : new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `DHT ${rpc}: the peer failed`);
              if (!delivered()) return;
              after(() => finish(() => reject(wire)));
            },
          );
      });
    });
  }

  function transport(endpoint: string): DhtTransport {
    if (endpoints.has(endpoint)) throw new RangeError(`endpoint ${endpoint} is taken on this memory network`);
    endpoints.add(endpoint);
    const call =
      <Req, Res>(rpc: DhtRpcName) =>
      (to: string, request: Req) =>
        send<Req, Res>(rpc, endpoint, to, request);
    return {
      endpoint,
      ping: call('ping'),
      store: call('store'),
      findNode: call('findNode'),
      findValue: call('findValue'),
      listen(handlers) {
        if (handlersAt.has(endpoint)) throw new Error(`DHT transport ${endpoint} is already listening`);
        for (const rpc of DHT_RPC_NAMES) if (typeof handlers[rpc] !== 'function') throw new TypeError(`DHT handlers lack ${rpc}`);
        handlersAt.set(endpoint, handlers);
      },
      async close() {
        closed.add(endpoint);
        handlersAt.delete(endpoint);
      },
    };
  }

  return {
    transport,
    kill: (endpoint) => void dead.add(endpoint),
    revive: (endpoint) => void dead.delete(endpoint),
    isAlive: (endpoint) => reachable(endpoint),
    stats: () => ({ requests, byRpc: { ...byRpc }, timedOut }),
    resetStats() {
      requests = 0;
      timedOut = 0;
      byRpc = zeroCounts();
    },
  };
}

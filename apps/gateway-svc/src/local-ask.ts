/**
 * A peer's call relayed to a service of this node: peers' DHT calls to registry-svc
 * (dht-inbound-relay.ts), their receipts, voids and chain pages to credit-svc (receipt-relay.ts,
 * void-relay.ts, chain-relay.ts). The service's own refusals go back to the peer with their code; a service that
 * does not answer (not running, or slower than `timeoutMs`) is UNAVAILABLE to the peer, worded
 * without this node's internals.
 */
import type { BusClient } from '@swarm/bus';
import type { TraceContext } from '@swarm/telemetry';
import type { Rpc } from '@swarm/contracts';
import { ErrorCode, isSwarmError, SwarmError } from '@swarm/contracts';

export interface LocalAsk {
  /** What the peer is told did not answer: "this node's ledger", "this node's DHT". */
  readonly what: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** The peer call's trace. */
  readonly trace?: TraceContext;
}

export async function askLocal<Req, Res>(bus: BusClient, rpc: Rpc<Req, Res>, req: Req, ask: LocalAsk): Promise<Res> {
  try {
    return await bus.request(rpc, req, { timeoutMs: ask.timeoutMs, ...(ask.signal ? { signal: ask.signal } : {}), trace: ask.trace });
  } catch (err) {
    if (isSwarmError(err) && err.code !== ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED && err.code !== ErrorCode.ERROR_CODE_UNAVAILABLE) throw err;
    throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `${ask.what} did not answer within ${Math.ceil(ask.timeoutMs)} ms`, true, { cause: err });
  }
}

/** The same for credit-svc. */
export function askCredit<Req, Res>(bus: BusClient, rpc: Rpc<Req, Res>, req: Req, timeoutMs: number, signal: AbortSignal, trace?: TraceContext): Promise<Res> {
  return askLocal(bus, rpc, req, { what: "this node's ledger", timeoutMs, signal, trace });
}

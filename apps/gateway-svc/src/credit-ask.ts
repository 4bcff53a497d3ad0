/**
 * A peer's call relayed to credit-svc (a receipt to countersign, a page of the chain). credit-svc's
 * own refusals go back to the peer with their code (INVALID_RECEIPT, INVALID_ARGUMENT …); a ledger
 * that does not answer (not running, or slower than `timeoutMs`) is UNAVAILABLE to the peer, worded
 * without this node's internals, as peers' DHT calls to registry-svc are (dht-inbound-relay.ts).
 */
import type { BusClient } from '@swarm/bus';
import type { Rpc } from '@swarm/contracts';
import { ErrorCode, isSwarmError, SwarmError } from '@swarm/contracts';

export async function askCredit<Req, Res>(bus: BusClient, rpc: Rpc<Req, Res>, req: Req, timeoutMs: number, signal: AbortSignal): Promise<Res> {
  try {
    return await bus.request(rpc, req, { timeoutMs, signal });
  } catch (err) {
    if (isSwarmError(err) && err.code !== ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED && err.code !== ErrorCode.ERROR_CODE_UNAVAILABLE) throw err;
    throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `this node's ledger did not answer within ${timeoutMs} ms`, true, { cause: err });
  }
}

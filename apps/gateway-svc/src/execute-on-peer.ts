/**
 * The submitter's side of remote execution: GatewayExecute on the bus (router-svc only, see
 * libs/contracts bus-roles). The gateway dials the provider pinned to the node id in its endpoint,
 * sends the task with a deadline of the task's own time limit plus slack, and checks that the
 * answer is signed by that node's key over exactly this request before handing it on.
 */
import type { Handler } from '@swarm/bus';
import type { RemoteExecuteRequest, SignedExecuteResponse } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { parsePeerAddress, PeerIdentityError, shortId } from '@swarm/gateway';
import { encodeTask, verifySignedResult } from '@swarm/records';
import type { PeerPool } from './peer-pool';
import { checkPeerTask } from './peer-task';

/**
 * Room beyond the task's time limit for the peer's answer: its gateway's wait for its executors
 * (EXECUTOR_REPLY_SLACK_MS there), the network round trip, and a first connection's handshake.
 */
export const PEER_CALL_SLACK_MS = 1_000;
/** `<64 hex>@` and the longest host:port (a 253-character DNS name, ':' and 5 digits). */
const MAX_ENDPOINT_CHARS = 65 + 259;
const QUOTED_CHARS = 80;

export interface GatewayExecuteDeps {
  readonly pool: PeerPool;
  /** This node: a task for it belongs on its own executors, not on the network. */
  readonly nodeId: string;
  /** Told about every answer refused for its signature (the peer lied or was tampered with). */
  readonly onRefusedResult: (peerId: string, reason: string) => void;
}

export function gatewayExecuteHandler(deps: GatewayExecuteDeps): Handler<RemoteExecuteRequest, SignedExecuteResponse> {
  return async (req, ctx) => {
    if (req.peer.length > MAX_ENDPOINT_CHARS) throw invalid(`peer must be <node id>@host:port; got ${req.peer.length} characters`);
    const peer = parsePeerAddress(req.peer);
    if (!peer) throw invalid(`peer must be <node id>@host:port, got '${req.peer.slice(0, QUOTED_CHARS)}'`);
    if (peer.nodeId === deps.nodeId) throw invalid(`peer ${shortId(peer.nodeId)} is this node: its executors take the task directly`);
    const task = checkPeerTask(req.task);
    let signed: SignedExecuteResponse;
    try {
      signed = await deps.pool.with(peer, (client) => client.call('execute', { task }, { timeoutMs: task.timeoutMs + PEER_CALL_SLACK_MS, trace: ctx.trace }));
    } catch (err) {
      // The peer's own SwarmErrors pass on as they are (NO_PROVIDER, OVERLOADED, DEADLINE_EXCEEDED …).
      if (!(err instanceof PeerIdentityError)) throw err;
      // Whoever answers at that address is not the node the endpoint names: as good as unreachable.
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `peer ${shortId(peer.nodeId)} could not be reached as itself: ${err.message}`, true, { cause: err });
    }
    const check = verifySignedResult(signed, peer.nodeId, encodeTask(task));
    if (!check.ok) {
      deps.onRefusedResult(peer.nodeId, check.refusal.reason);
      throw check.refusal;
    }
    return { response: signed.response, signature: signed.signature, publicKey: signed.publicKey, serveTicket: signed.serveTicket };
  };
}

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `remote task refused: ${message}`);
}

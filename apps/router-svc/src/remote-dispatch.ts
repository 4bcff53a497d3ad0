/**
 * The router's side of remote execution: which registry providers are candidates, and how a task
 * reaches a remote one (router-svc -> this node's gateway -> the provider's gateway -> its
 * executors). The answer comes back signed by the provider's node key; the gateway has checked the
 * signature, and the router checks it again itself before the pipeline verifies the result: the
 * router trusts its own gateway for transport, not for the claim of who computed what.
 */
import type { BusClient } from '@swarm/bus';
import type { ExecuteRequest, Provider } from '@swarm/contracts';
import { ErrorCode, GatewayExecute, isSwarmError, SwarmError } from '@swarm/contracts';
import type { ExecutionResult } from '@swarm/pipeline';
import { encodeTask, NODE_ID, openSignedResult } from '@swarm/records';
import type { Candidate } from '@swarm/scoring';
import type { TraceContext } from '@swarm/telemetry';

/**
 * Room beyond the task's own time limit for the answer to come back through both gateways: the
 * provider gateway's wait for its executors, the peer call's deadline, two bus hops and a TLS
 * connection to set up when the peer was not dialled yet.
 */
export const REMOTE_REPLY_SLACK_MS = 1_500;

/** The most of a peer's executor id or backend name a result carries on. */
const MAX_PEER_LABEL_CHARS = 64;
const PEER_LABEL = /^[A-Za-z0-9._:@/-]+$/;

/**
 * A label the peer wrote (its executor id, its backend), as the requester will see it: kept when it
 * is a short plain name, else replaced, so no peer puts escape sequences, prose or megabytes into
 * the answer, the task record or an agent's JSON.
 */
export function peerLabel(text: string): string {
  return text.length <= MAX_PEER_LABEL_CHARS && PEER_LABEL.test(text) ? text : '(not shown: not a plain name)';
}

/**
 * A registry provider as a candidate, or undefined when it cannot be one: a remote provider must
 * name a gateway endpoint pinned to its own node id (`<node id>@host:port`), else the task could
 * not reach it, or would reach someone else.
 */
export function candidateOf(p: Provider): Candidate | undefined {
  if (p.local) return { nodeId: p.nodeId, local: true };
  if (!NODE_ID.test(p.nodeId) || !p.endpoint.startsWith(`${p.nodeId}@`)) return undefined;
  return {
    nodeId: p.nodeId,
    local: false,
    endpoint: p.endpoint,
    load: p.load,
    price: Number(p.pricePerMwork),
    // 0 is the registry's "not measured".
    ...(p.rttMs > 0 ? { rttMs: p.rttMs } : {}),
  };
}

/**
 * Runs `task` on a remote candidate and returns its result, paid to the candidate's node id (the
 * signature proves that node produced it). Every failure is retryable: a peer's refusal, its
 * silence or a bad signature says nothing about the other candidates.
 */
export async function executeRemote(bus: BusClient, candidate: Candidate, task: ExecuteRequest, signal: AbortSignal, trace?: TraceContext): Promise<ExecutionResult> {
  if (candidate.endpoint === undefined) {
    throw new SwarmError(ErrorCode.ERROR_CODE_NO_PROVIDER, `remote provider ${candidate.nodeId.slice(0, 12)} has no gateway endpoint`, true);
  }
  const requestBytes = encodeTask(task);
  try {
    const signed = await bus.request(GatewayExecute, { peer: candidate.endpoint, task }, { timeoutMs: task.timeoutMs + REMOTE_REPLY_SLACK_MS, signal, trace });
    const response = openSignedResult(signed, candidate.nodeId, requestBytes);
    return {
      outputs: response.outputs,
      providerId: candidate.nodeId,
      executorId: peerLabel(response.executorId),
      backend: peerLabel(response.backend),
      providerKey: signed.publicKey,
      serveTicket: signed.serveTicket,
    };
  } catch (err) {
    if (signal.aborted || !isSwarmError(err) || err.retryable) throw err;
    throw new SwarmError(err.code, err.message, true, { cause: err, retryAfterMs: err.retryAfterMs });
  }
}

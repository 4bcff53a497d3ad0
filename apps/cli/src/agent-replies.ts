/**
 * The agent API's answers (the SDK's types) as the bus's proto messages, so a command prints the
 * same table and the same `--json` document (docs/cli-json.schema.json) whichever way it asked.
 * Only the balance differs: an agent's is not a ledger account's (see balance.ts).
 */
import type { AgentPeer, AgentSkills, TaskResult, TaskStatus } from '@swarm/client';
import type { ListPeersResponse, ListSkillsResponse, SubmitTaskResponse, TaskStatusResponse } from '@swarm/contracts';
import { Contribution, ErrorCode, TaskState, toTensor } from '@swarm/contracts';

type Shapes = AgentSkills['skills'][number]['inputs'];

/** [{a, [n,k]}, {b, [k,m]}] -> "a:[n,k] b:[k,m]", the signature the executors publish. */
function signature(shapes: Shapes): string {
  return shapes.map((s) => `${s.name}:[${s.shape.join(',')}]`).join(' ');
}

/** TASK_STATE_PAID -> TaskState.TASK_STATE_PAID; a name this build does not know is UNKNOWN. */
function taskState(name: string): TaskState {
  const state = (TaskState as unknown as Record<string, TaskState | undefined>)[name];
  return state === undefined || state === TaskState.UNRECOGNIZED ? TaskState.TASK_STATE_UNKNOWN : state;
}

/** SWARM_INSUFFICIENT_CREDIT -> ERROR_CODE_INSUFFICIENT_CREDIT; UNSPECIFIED for a name the bus does not have. */
function errorCode(name: string): ErrorCode {
  const code = (ErrorCode as unknown as Record<string, ErrorCode | undefined>)[name.replace(/^SWARM_/, 'ERROR_CODE_')];
  return code === undefined || code === ErrorCode.UNRECOGNIZED ? ErrorCode.ERROR_CODE_UNSPECIFIED : code;
}

export function skillsReply(s: AgentSkills): ListSkillsResponse {
  return {
    backend: s.backend,
    skills: s.skills.map((k) => ({
      name: k.name,
      description: k.description,
      inputs: signature(k.inputs),
      outputs: signature(k.outputs),
      pricePerMwork: k.pricePerMwork,
      verification: k.verification,
      verificationBound: k.verificationBound,
      verificationCost: k.verificationCost,
    })),
  };
}

export function peersReply(peers: readonly AgentPeer[]): ListPeersResponse {
  return { peers: peers.map((p) => ({ nodeId: p.nodeId, address: p.address, rttMs: p.rttMs, lastSeenMs: p.lastSeenMs })) };
}

/** `idempotencyKey`: the key the CLI sent it with (the agent API does not answer it). */
export function resultReply(r: TaskResult, idempotencyKey = ''): SubmitTaskResponse {
  const contributions: SubmitTaskResponse['contributions'] = (r.contributions ?? []).map((c) => ({ ...c }));
  return {
    taskId: r.taskId,
    outputs: r.outputs.map((t) => toTensor(t.name, t.shape, t.data)),
    cost: r.cost,
    refunded: r.refunded,
    timing: { ...r.timing },
    providerId: r.providerId,
    executorId: r.executorId,
    backend: r.backend,
    verification: r.verification,
    attempts: r.attempts,
    account: r.account,
    settlement: taskState(r.settlement),
    settlementNote: r.settlementNote,
    contributions,
    shards: (r.shards ?? []).map((s) => ({ ...s })),
    replayed: r.replayed ?? false,
    placementNote: r.placementNote ?? '',
    idempotencyKey,
  };
}

/** `source` may be `api` here (the API still holds the task and the router has no record yet). */
export function statusReply(s: TaskStatus): TaskStatusResponse {
  return {
    taskId: s.taskId,
    state: taskState(s.state),
    cost: s.cost,
    refunded: s.refunded,
    ...(s.error ? { error: { code: errorCode(s.error.code), message: s.error.message, retryable: s.error.retryable, retryAfterMs: 0 } } : {}),
    providerId: s.providerId,
    source: s.source,
    resultAvailable: s.result !== undefined,
    attempts: s.attempts,
    note: s.note,
    // The API names the paying account, and each node a split task paid, only with a result.
    account: s.result?.account ?? '',
    paidTo: (s.result?.contributions ?? []).filter((c) => c.paid > 0n).map((c) => Contribution.fromPartial({ providerId: c.providerId, paid: c.paid, counted: true })),
    placementNote: s.result?.placementNote ?? '',
  };
}

/**
 * The SDK's answers as the JSON MCP tools return (structuredContent, and the same as text): credits
 * as decimal strings (as the HTTP API writes uint64), tensors as numbers, nothing else changed, but
 * for results of more than MCP_MAX_RESULT_VALUES values: those go without their values.
 */
import type { DenseTensor } from '@swarm/contracts';
import type { AgentBalance, AgentPeer, AgentSkills, TaskQuote, TaskResult, TaskStatus } from './agent-api-types';

export type JsonObject = { [key: string]: unknown };

/**
 * Most values a tool's answer carries: a 64×64 product. Each value is JSON three times over (the
 * text, the structured content and the JSON-RPC message around them), about 60 bytes and a few
 * microseconds of the server's thread, built in one go: a 2M-value result was a 150 MB answer that
 * held the node's agent API for seconds, and at 65,536 values two agents' loops of new tasks still
 * took another agent's calls from 2.7 to 27 ms (p50; a helper's attack). A larger result's outputs
 * come with their shapes only, and a note on where to fetch the values (the agent API's
 * GET /v1/tasks/{id}?encoding=base64), which is also what a model's context can take.
 */
export const MCP_MAX_RESULT_VALUES = 4_096;

function tensorJson(t: DenseTensor): JsonObject {
  return { name: t.name, shape: [...t.shape], data: Array.from(t.data) };
}

function outputsJson(r: TaskResult): JsonObject {
  const values = r.outputs.reduce((n, t) => n + t.data.length, 0);
  if (values <= MCP_MAX_RESULT_VALUES) return { outputs: r.outputs.map(tensorJson) };
  return {
    outputs: r.outputs.map((t) => ({ name: t.name, shape: [...t.shape], values: t.data.length })),
    outputsNote:
      `${values} values, more than a tool answer carries (${MCP_MAX_RESULT_VALUES}): GET /v1/tasks/${r.taskId}?encoding=base64 ` +
      'on the agent API returns them (little-endian f32) while the node holds the result, about 10 minutes',
  };
}

export function resultJson(r: TaskResult): JsonObject {
  return {
    taskId: r.taskId,
    ...outputsJson(r),
    cost: String(r.cost),
    refunded: String(r.refunded),
    account: r.account,
    providerId: r.providerId,
    executorId: r.executorId,
    backend: r.backend,
    verification: r.verification,
    attempts: r.attempts,
    settlement: r.settlement,
    settlementNote: r.settlementNote,
    timing: { ...r.timing },
    ...(r.placementNote === undefined ? {} : { placementNote: r.placementNote }),
  };
}

export function statusJson(s: TaskStatus): JsonObject {
  return {
    taskId: s.taskId,
    state: s.state,
    cost: String(s.cost),
    refunded: String(s.refunded),
    ...(s.error ? { error: { ...s.error } } : {}),
    providerId: s.providerId,
    source: s.source,
    attempts: s.attempts,
    note: s.note,
    ...(s.result ? { result: resultJson(s.result) } : {}),
  };
}

export function skillsJson(s: AgentSkills): JsonObject {
  return {
    backend: s.backend,
    maxElements: s.maxElements,
    skills: s.skills.map((k) => ({ ...k, inputs: k.inputs.map((i) => ({ ...i })), outputs: k.outputs.map((o) => ({ ...o })), pricePerMwork: String(k.pricePerMwork) })),
  };
}

export function quoteJson(q: TaskQuote): JsonObject {
  return { ...q, price: String(q.price), pricePerMwork: String(q.pricePerMwork) };
}

export function balanceJson(b: AgentBalance): JsonObject {
  return { account: b.account, available: String(b.available), escrowed: String(b.escrowed), budget: String(b.budget), spent: String(b.spent), tasks: String(b.tasks) };
}

export function peersJson(peers: readonly AgentPeer[]): JsonObject {
  return { peers: peers.map((p) => ({ nodeId: p.nodeId, address: p.address, rttMs: p.rttMs, lastSeenMs: String(p.lastSeenMs) })) };
}

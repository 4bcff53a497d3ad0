/**
 * The SDK's answers as the JSON MCP tools return (structuredContent, and the same as text): credits
 * as decimal strings (as the HTTP API writes uint64), tensors as numbers, nothing else changed.
 */
import type { DenseTensor } from '@swarm/contracts';
import type { AgentBalance, AgentPeer, AgentSkills, TaskQuote, TaskResult, TaskStatus } from './agent-api-types';

export type JsonObject = { [key: string]: unknown };

function tensorJson(t: DenseTensor): JsonObject {
  return { name: t.name, shape: [...t.shape], data: Array.from(t.data) };
}

export function resultJson(r: TaskResult): JsonObject {
  return {
    taskId: r.taskId,
    outputs: r.outputs.map(tensorJson),
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

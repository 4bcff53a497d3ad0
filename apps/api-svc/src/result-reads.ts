/**
 * What handing a task's result to an agent costs it. A result goes out as JSON numbers (about 19
 * bytes and a microsecond of the event loop per float32: a 4 MB result is a 19 MB answer and about
 * a second of CPU), or as base64 or protobuf (bytes, little CPU); an MCP call takes it as base64
 * and builds JSON of its values three times (text, structured content, the JSON-RPC message), for
 * results of at most MCP_MAX_RESULT_VALUES values (larger ones it answers without their values).
 * Helpers found that one agent re-reading a large result (a status, a sync submit repeated with its
 * key, an MCP call) slowed every other agent's calls
 * from 4 ms to over a second. So every answer carrying a result is charged to the agent, by its
 * estimated size, against a bucket of RESULT_READ_LIMITS (8 MiB a second, bursts of 64 MiB):
 * - a task's first delivery (its sync answer, or the first status or event that carries it) is
 *   never refused, whatever the bucket holds: it is charged as a debt (down to minus a burst), so
 *   an agent reading each of its results once is always answered;
 * - any later one is refused when the bucket does not hold its cost (SWARM_RATE_LIMITED, with the
 *   wait), instead of costing the node another second of its event loop.
 * The memory of answers their clients do not read is bounded apart (stalled-answers.ts).
 */
import { MCP_MAX_RESULT_VALUES } from '@swarm/client';
import type { SubmitTaskResponse } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import { createKeyedRateLimiters } from '@swarm/rate-limit';
import { RecencyMap } from '@swarm/recency-map';
import type { AgentRateLimits } from './token-bucket';
import { MAX_AGENT_BUCKETS } from './token-bucket';

const MIB = 1024 * 1024;
/** Bytes of result answers an agent may be handed: per second, and at once. */
export const RESULT_READ_LIMITS: AgentRateLimits = Object.freeze({ ratePerSecond: 8 * MIB, burst: 64 * MIB });
/** A float32 as JSON: up to 24 characters and a comma (`-1.2345678901234567e-38,`). */
const JSON_BYTES_PER_FLOAT = 25;
/** The fields around the result. */
const ANSWER_OVERHEAD_BYTES = 1024;
/** First deliveries remembered (as many tasks as the API holds: agent-tasks.ts maxHeld), oldest forgotten first. */
const REMEMBERED_DELIVERIES = 2_000;

/** How the result goes out: as JSON numbers, as bytes (base64, protobuf), or through MCP (base64, then JSON three times). */
export type ResultForm = 'json' | 'bytes' | 'mcp';

/** The size of an answer carrying `res` in `form`, at most: what handing it over costs. */
export function resultAnswerBytes(res: SubmitTaskResponse, form: ResultForm): number {
  let floats = 0;
  let raw = 0;
  for (const t of res.outputs) {
    floats += Math.ceil(t.data.byteLength / 4);
    raw += t.data.byteLength + t.name.length;
  }
  const bytes = ANSWER_OVERHEAD_BYTES + Math.ceil((raw * 4) / 3);
  if (form === 'bytes') return bytes;
  const json = ANSWER_OVERHEAD_BYTES + floats * JSON_BYTES_PER_FLOAT;
  if (form === 'json') return json;
  return bytes + 3 * (floats <= MCP_MAX_RESULT_VALUES ? json : ANSWER_OVERHEAD_BYTES);
}

export interface ResultReads {
  /**
   * Charges `agent` for an answer carrying task `taskId`'s result `res`: always for its first
   * delivery, else only when its bucket holds the cost (RATE_LIMITED otherwise).
   */
  charge(agent: string, taskId: string, res: SubmitTaskResponse, form: ResultForm): void;
}

export function createResultReads(stopwatch: Stopwatch, limits: AgentRateLimits = RESULT_READ_LIMITS): ResultReads {
  // One bucket of bytes per agent that was handed a result (agents are the operator's: a bounded count).
  const buckets = createKeyedRateLimiters({ perSecond: limits.ratePerSecond, burst: limits.burst }, MAX_AGENT_BUCKETS, stopwatch);
  /** Agent and task ids whose result was delivered once (the oldest forgotten first). */
  const delivered = new RecencyMap<string, true>(REMEMBERED_DELIVERIES);
  return {
    charge(agent, taskId, res, form) {
      const cost = Math.min(resultAnswerBytes(res, form), limits.burst);
      const bucket = buckets(agent);
      const left = bucket.left();
      const key = `${agent}\u0000${taskId}`;
      if (!delivered.has(key)) {
        delivered.set(key, true);
        // A debt of a burst at most.
        bucket.charge(Math.min(cost, left + limits.burst));
        return;
      }
      if (left >= cost) {
        bucket.charge(cost);
        return;
      }
      const mib = (n: number) => `${Math.max(1, Math.round(n / MIB))} MiB`;
      throw new SwarmError(
        ErrorCode.ERROR_CODE_RATE_LIMITED,
        `this agent has its results handed back too often: at most ${mib(limits.ratePerSecond)} of result answers a second (bursts of ${mib(limits.burst)}) after each result's first delivery, and this one is about ${mib(cost)}`,
        true,
        { retryAfterMs: Math.ceil((cost - left) / (limits.ratePerSecond / 1000)) },
      );
    },
  };
}

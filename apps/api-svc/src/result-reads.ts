/**
 * A held result read back in a status answer (GET /v1/tasks/:id, an event stream's last event) goes
 * out as JSON numbers: about 19 bytes and a microsecond of the event loop per float32, so a 4 MB
 * result is a 19 MB answer and a second of CPU each time. A helper found that one agent re-reading
 * its own large result (4 a second, a fifth of its request rate) slowed every other agent's calls
 * from 4 ms to over a second, and that answers its sockets never read grew api-svc to 2.6 GiB.
 * So each read is charged before the answer is built:
 * - against the agent's read rate, by the answer's estimated size (RESULT_READ_LIMITS: 8 MiB/s, in
 *   bursts of 64 MiB; an answer larger than the burst takes the whole burst): past it, the read is
 *   refused (SWARM_RATE_LIMITED, Retry-After) instead of costing the node another second;
 * - against the answer bytes the node holds unsent (ANSWER_BUDGET_BYTES, a quarter of it per agent;
 *   one answer is charged at most that quarter), until its response closes (sent, or its client
 *   gone): past it, SWARM_OVERLOADED with a retry hint, so unread answers cannot grow memory.
 * Reading a result once or twice, as a client does, is never refused; the protobuf and base64 forms
 * of a synchronous task's answer are not charged (they cost no formatting).
 */
import type { SubmitTaskResponse } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import type { BodyBudget } from './body-budget';
import { createBodyBudget } from './body-budget';
import type { RateLimiter, RateLimits } from './token-bucket';
import { createRateLimiter } from './token-bucket';

const MIB = 1024 * 1024;
/** Bytes of result JSON an agent may have built for it: per second, and at once. */
export const RESULT_READ_LIMITS: RateLimits = Object.freeze({ ratePerSecond: 8 * MIB, burst: 64 * MIB });
/** Answer bytes built and not yet sent, across agents; a quarter of it per agent. */
export const ANSWER_BUDGET_BYTES = 128 * MIB;
/** A float32 as JSON: up to 24 characters and a comma (`-1.2345678901234567e-38,`). */
const JSON_BYTES_PER_FLOAT = 25;
/** The status fields around the result. */
const STATUS_OVERHEAD_BYTES = 1024;

/** The size of `res` as JSON numbers, at most: what reading it back costs. */
export function resultJsonBytes(res: SubmitTaskResponse): number {
  let bytes = STATUS_OVERHEAD_BYTES;
  for (const t of res.outputs) bytes += Math.ceil(t.data.byteLength / 4) * JSON_BYTES_PER_FLOAT + t.name.length + 64;
  return bytes;
}

export interface ResultRead {
  /** The answer was sent or its client left: its bytes are no longer held (again: nothing). */
  release(): void;
}

export interface ResultReads {
  /** Charges `agent` for reading `res` back, or throws RATE_LIMITED or OVERLOADED; the bytes count as unsent until `release`. */
  take(agent: string, res: SubmitTaskResponse): ResultRead;
}

export function createResultReads(stopwatch: Stopwatch, budgetBytes = ANSWER_BUDGET_BYTES, limits: RateLimits = RESULT_READ_LIMITS): ResultReads {
  const rate: RateLimiter = createRateLimiter(limits, stopwatch);
  const agentShare = Math.floor(budgetBytes / 4);
  const unsent: BodyBudget = createBodyBudget(budgetBytes, agentShare / 2, 'result answers');
  return {
    take(agent, res) {
      const bytes = resultJsonBytes(res);
      const hold = unsent.take(agent, Math.min(bytes, agentShare));
      const waitMs = rate.take(agent, Math.min(bytes, limits.burst));
      if (waitMs > 0) {
        hold.release();
        const mib = (n: number) => `${Math.max(1, Math.round(n / MIB))} MiB`;
        throw new SwarmError(
          ErrorCode.ERROR_CODE_RATE_LIMITED,
          `this agent reads its results back too often: at most ${mib(limits.ratePerSecond)} of result JSON a second (bursts of ${mib(limits.burst)}), and this one is about ${mib(bytes)}`,
          true,
          { retryAfterMs: waitMs === Infinity ? 1_000 : waitMs },
        );
      }
      return { release: () => hold.release() };
    },
  };
}

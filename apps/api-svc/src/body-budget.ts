/**
 * The request bytes api-svc holds at once (bodies being read, and each task's inputs until the task
 * ends). Each request with a body takes its declared length (or, unannounced, the most it may send)
 * before a byte is read, and gives it back once every holder has let go: its HTTP exchange (the
 * connection's response closed, sent or not) and, for a task, the task's end. A request past the
 * node's budget, or past its agent's share of it, is refused at once, SWARM_OVERLOADED with a retry
 * hint: under a flood of large tasks the node answers each caller quickly, keeps its memory
 * bounded, does not queue work it would finish past the tasks' deadlines, and one agent (say, slow
 * senders that announce 8 MiB and send nothing) cannot take it all.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';

/** 16 bodies at the bus's largest message. */
export const DEFAULT_BODY_BUDGET_BYTES = 128 * 1024 * 1024;
/** What a refused caller is told to wait. */
export const BODY_BUDGET_RETRY_AFTER_MS = 1_000;
/** One agent's share: a quarter of the budget, never less than two largest bodies (an MCP call and the task it makes). */
const AGENT_SHARE_DIVISOR = 4;
/** The least budget: one MCP call's body and its task's, each as large as allowed. */
export const MIN_BODY_BUDGET_BODIES = 2;

/** Bytes taken for one request. */
export interface BodyHold {
  /** Keeps the bytes until `until` settles as well. */
  alsoUntil(until: Promise<unknown>): void;
  /** The HTTP exchange lets go (again: nothing); the bytes go back once every holder has. */
  release(): void;
}

export interface BodyBudget {
  /** Takes `bytes` for a request of `agent`, or throws OVERLOADED past the budget or the agent's share. */
  take(agent: string, bytes: number): BodyHold;
  inUse(): number;
}

export function createBodyBudget(budgetBytes: number, largestBodyBytes: number): BodyBudget {
  const agentShare = Math.max(Math.floor(budgetBytes / AGENT_SHARE_DIVISOR), MIN_BODY_BUDGET_BODIES * largestBodyBytes);
  let inUse = 0;
  const byAgent = new Map<string, number>();
  const mib = (n: number) => (n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);
  const refuse = (what: string) =>
    new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, `${what}: retry shortly`, true, {
      retryAfterMs: BODY_BUDGET_RETRY_AFTER_MS,
    });
  return {
    take(agent, bytes) {
      const mine = byAgent.get(agent) ?? 0;
      if (inUse + bytes > budgetBytes) throw refuse(`this node's API holds ${mib(inUse)} of requests in flight, its limit is ${mib(budgetBytes)}`);
      if (mine + bytes > agentShare) throw refuse(`this agent has ${mib(mine)} of requests in flight, its share is ${mib(agentShare)}`);
      inUse += bytes;
      byAgent.set(agent, mine + bytes);
      let holders = 1;
      let exchangeDone = false;
      const letGo = () => {
        holders -= 1;
        if (holders !== 0) return;
        inUse -= bytes;
        const left = (byAgent.get(agent) ?? bytes) - bytes;
        if (left > 0) byAgent.set(agent, left);
        else byAgent.delete(agent);
      };
      return {
        alsoUntil(until) {
          if (holders === 0) return;
          holders += 1;
          void until.then(letGo, letGo);
        },
        release() {
          if (exchangeDone) return;
          exchangeDone = true;
          letGo();
        },
      };
    },
    inUse: () => inUse,
  };
}

/**
 * What a request may bring: its declared length when it gives a usable one; nothing when it declares
 * neither a length nor a transfer coding (HTTP/1.1: no body); else `limit`.
 */
export function declaredBodyBytes(contentLength: string | undefined, transferEncoding: string | undefined, limit: number): number {
  if (contentLength === undefined) return transferEncoding === undefined ? 0 : limit;
  if (!/^\d{1,15}$/.test(contentLength)) return limit;
  return Math.min(Number(contentLength), limit);
}

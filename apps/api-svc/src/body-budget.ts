/**
 * The request bytes api-svc holds at once (bodies being read, and each task's inputs until its
 * answer is sent). Each request with a body takes its declared length (or, unannounced, the most
 * its media type may send) before a byte is read, and gives it back when its answer is sent or its
 * client goes away. A request past the budget is refused at once, SWARM_OVERLOADED with a retry
 * hint: under a flood of large tasks the node answers each caller quickly, keeps its memory bounded,
 * and does not queue work it would finish past the tasks' deadlines.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';

/** 16 bodies at the bus's largest message. */
export const DEFAULT_BODY_BUDGET_BYTES = 128 * 1024 * 1024;
/** What a refused caller is told to wait. */
export const BODY_BUDGET_RETRY_AFTER_MS = 1_000;

export interface BodyBudget {
  /** Takes `bytes` for a request, or throws OVERLOADED when they would pass the budget. */
  take(bytes: number): void;
  give(bytes: number): void;
  inUse(): number;
}

export function createBodyBudget(budgetBytes: number): BodyBudget {
  let inUse = 0;
  return {
    take(bytes) {
      if (inUse + bytes > budgetBytes) {
        throw new SwarmError(
          ErrorCode.ERROR_CODE_OVERLOADED,
          `this node's API holds ${Math.ceil(inUse / 1_048_576)} MiB of requests in flight, its limit is ${Math.floor(budgetBytes / 1_048_576)} MiB: retry shortly`,
          true,
          { retryAfterMs: BODY_BUDGET_RETRY_AFTER_MS },
        );
      }
      inUse += bytes;
    },
    give(bytes) {
      inUse = Math.max(0, inUse - bytes);
    },
    inUse: () => inUse,
  };
}

/** What a request may bring: its declared length when it gives a usable one, else `limit`. */
export function declaredBodyBytes(contentLength: string | undefined, limit: number): number {
  if (contentLength === undefined || !/^\d{1,15}$/.test(contentLength)) return limit;
  return Math.min(Number(contentLength), limit);
}

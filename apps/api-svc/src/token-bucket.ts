/**
 * Per-key token buckets (one per agent token, @swarm/rate-limit): each request takes `cost` tokens,
 * all or none; tokens refill at `ratePerSecond` up to `burst`. Pure: time is a Stopwatch, so a wall
 * clock set back cannot stall a limiter.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import { createKeyedRateLimiters } from '@swarm/rate-limit';
import { MAX_AGENTS } from './agent-rules';

export interface AgentRateLimiter {
  /**
   * 0 when the request may go now (`cost` tokens, default 1, were taken), else ms until that many
   * are back (Infinity when `cost` is more than the burst: never).
   */
  take(key: string, cost?: number): number;
}

export interface AgentRateLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** The refusal of a request over an agent token's rate (`how`: what counted, e.g. a batch's messages), retryable after `waitMs`. */
export function rateLimited(limits: AgentRateLimits, waitMs: number, how = ''): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_RATE_LIMITED, `too many requests from this agent token: ${how}at most ${limits.ratePerSecond}/s (bursts of ${limits.burst})`, true, {
    retryAfterMs: waitMs,
  });
}

/**
 * Agents' buckets kept, the least recently used forgotten first (it starts full again): keys are
 * agent names, authenticated, and a node holds at most MAX_AGENTS, so none is forgotten while used.
 */
export const MAX_AGENT_BUCKETS = 4 * MAX_AGENTS;

export function createAgentRateLimiter(limits: AgentRateLimits, stopwatch: Stopwatch): AgentRateLimiter {
  const perSecond = limits.ratePerSecond;
  const buckets = createKeyedRateLimiters({ perSecond, burst: limits.burst }, MAX_AGENT_BUCKETS, stopwatch);
  return {
    take(key, cost = 1) {
      if (cost > limits.burst) return Infinity;
      const bucket = buckets(key);
      const left = bucket.left();
      // All of a request's tokens or none: a batch over what is left waits, never owes.
      if (left >= cost) {
        bucket.charge(cost);
        return 0;
      }
      return Math.ceil(((cost - left) * 1_000) / perSecond);
    },
  };
}

/**
 * Chain pages from a node that paces what it sends: a gateway answers a caller past its budget of
 * page bytes OVERLOADED with when to retry (gateway-svc chain-relay.ts), so an audit of a long chain,
 * or a void watch catching up, waits its turn instead of failing. Bounded both ways: a node that
 * asks for a longer wait than MAX_PAGE_WAIT_MS, or refuses one page more than MAX_WAITS_PER_PAGE
 * times, gets its error passed on.
 */
import { ErrorCode, isSwarmError } from '@swarm/contracts';
import type { FetchChainPage } from './audit-pages';

/**
 * The longest wait for a page asked for: a caller's own budget refills a full page in about a
 * second, but a network's is shared with every caller there; a node asking for longer is treated
 * as refusing.
 */
export const MAX_PAGE_WAIT_MS = 30_000;
/** Refusals of one page waited out before its error is passed on. */
export const MAX_WAITS_PER_PAGE = 20;
/** The wait when an OVERLOADED answer says none (a gateway's calls in flight are at their limit). */
export const UNTIMED_PAGE_WAIT_MS = 250;

export interface PatientPagesOptions {
  /** Resolves after `ms`, or early when `signal` aborts (a Scheduler's sleep). */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told of each wait before it starts (an operator's note, say). */
  readonly onWait?: (ms: number) => void;
  /** Aborts the waiting: the last refusal is passed on. */
  readonly signal?: AbortSignal;
}

export function patientPages(fetch: FetchChainPage, options: PatientPagesOptions): FetchChainPage {
  return async (fromSeq, limit) => {
    for (let waits = 0; ; waits += 1) {
      try {
        return await fetch(fromSeq, limit);
      } catch (err) {
        if (!isSwarmError(err, ErrorCode.ERROR_CODE_OVERLOADED) || waits >= MAX_WAITS_PER_PAGE || err.retryAfterMs > MAX_PAGE_WAIT_MS || options.signal?.aborted) throw err;
        const ms = err.retryAfterMs > 0 ? err.retryAfterMs : UNTIMED_PAGE_WAIT_MS;
        options.onWait?.(ms);
        await options.sleep(ms, options.signal);
        if (options.signal?.aborted) throw err;
      }
    }
  };
}

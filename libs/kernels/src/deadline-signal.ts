import { ErrorCode, SwarmError } from '@swarm/contracts';

/** Options of one run: a time limit and, optionally, the caller's own cancellation. */
export interface DeadlineOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Aborts at the time limit or when the caller's signal aborts, whichever comes first. */
export function deadlineSignal(opts: DeadlineOptions): { signal: AbortSignal; timedOut(): boolean; clear(): void } {
  if (!(opts.timeoutMs > 0)) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `timeoutMs must be positive, got ${opts.timeoutMs}`);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('time limit'));
  }, opts.timeoutMs);
  const onAbort = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear() {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
}

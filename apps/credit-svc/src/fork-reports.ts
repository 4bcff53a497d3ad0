/**
 * Fork proofs against payers (payer-views.ts) on their way to the node's router, which keeps them
 * and trusts those payers no more. A report the router did not take (stopped, restarting) is sent
 * again every FORK_REPORT_RETRY_MS until it does, so none is lost while credit-svc runs; the
 * convictions themselves are kept across restarts (payer-view-file.ts) and reported again at start
 * (the router answers a proof it knows as known).
 */
import type { ForkProof } from '@swarm/contracts';
import { isSwarmError } from '@swarm/contracts';
import type { CancelTimer, Scheduler } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';

export const FORK_REPORT_RETRY_MS = 30_000;
/** Reports on their way at once (a start may have thousands of kept convictions to send again). */
export const FORK_REPORTS_IN_FLIGHT = 8;

export interface ForkReports {
  /** Sends `proof` against `payer` now, and again later until the router takes it. */
  add(payer: string, proof: ForkProof): void;
  /** Reports not taken yet. */
  pending(): number;
  stop(): void;
}

export function startForkReports(deps: {
  readonly report: (proof: ForkProof) => Promise<unknown>;
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  readonly log: Logger;
  readonly retryMs?: number;
}): ForkReports {
  const retryMs = deps.retryMs ?? FORK_REPORT_RETRY_MS;
  /** Payer -> proof, while the router has not taken it. */
  const waiting = new Map<string, ForkProof>();
  /** Those to send at the next room: new ones, and at each retry every one waiting. */
  const due = new Set<string>();
  const sending = new Set<string>();
  let timer: CancelTimer | undefined;
  let stopped = false;

  const pump = () => {
    for (const payer of due) {
      if (stopped || sending.size >= FORK_REPORTS_IN_FLIGHT) return;
      due.delete(payer);
      const proof = waiting.get(payer);
      if (proof === undefined || sending.has(payer)) continue;
      sending.add(payer);
      deps
        .report(proof)
        .then(
          () => waiting.delete(payer),
          (err: unknown) => {
            // The router refused the proof itself: sending it again changes nothing.
            if (isSwarmError(err) && !err.retryable) {
              waiting.delete(payer);
              deps.log.warn({ err, payer }, "the router refused a payer's fork proof; not sent again");
            } else deps.log.warn({ err, payer, retryMs }, "could not report a payer's fork to the router; will try again");
          },
        )
        .finally(() => {
          sending.delete(payer);
          pump();
          schedule();
        });
    }
  };
  const schedule = () => {
    if (stopped || timer !== undefined || waiting.size === 0) return;
    timer = deps.scheduler.setTimer(retryMs, () => {
      timer = undefined;
      for (const payer of waiting.keys()) if (!sending.has(payer)) due.add(payer);
      pump();
      schedule();
    });
  };

  return {
    add(payer, proof) {
      if (waiting.has(payer)) return;
      waiting.set(payer, proof);
      due.add(payer);
      pump();
    },
    pending: () => waiting.size,
    stop() {
      stopped = true;
      timer?.();
      timer = undefined;
    },
  };
}

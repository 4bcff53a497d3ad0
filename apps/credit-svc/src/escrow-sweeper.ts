/**
 * Refunds escrows that nobody closed before their expiry (say a router killed between reserve and
 * settle), so each escrow is closed exactly once even when its caller dies: by the caller, or
 * else here. The ledger decides what is due and refunds it atomically; this only sets the pace.
 */
import type { LedgerEntry } from '@swarm/contracts';
import type { Ledger } from '@swarm/credit';
import type { CancelTimer, Scheduler, WallClock } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';
import { publishEntries } from './handlers';

/** Escrows refunded per ledger call; a full batch sweeps again at once instead of waiting. */
export const EXPIRE_BATCH = 1_000;

export interface EscrowSweeperDeps {
  ledger: Pick<Ledger, 'expireDue'>;
  /** Escrow expiries are wall-clock epoch ms, set by the router. */
  clock: WallClock;
  scheduler: Pick<Scheduler, 'setTimer'>;
  /** Pause between the end of one sweep and the start of the next. */
  intervalMs: number;
  log: Logger;
  /** Announces one committed entry (LedgerEntryEvents), as the handlers do. */
  publish: (entry: LedgerEntry) => void;
}

export interface EscrowSweeper {
  /** Starts no further sweep; resolves once the running one (if any) has finished. */
  stop(): Promise<void>;
}

export function startEscrowSweeper(deps: EscrowSweeperDeps): EscrowSweeper {
  const { ledger, clock, scheduler, log } = deps;
  let cancelTimer: CancelTimer | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  /** true when the batch was full, so more may be due already. Never throws. */
  async function sweep(): Promise<boolean> {
    try {
      const { result, entries } = await ledger.expireDue(clock.now(), EXPIRE_BATCH);
      for (const r of result) log.info({ escrowId: r.escrowId, refunded: r.refunded.toString() }, 'escrow expired; refunded to its payer');
      publishEntries(entries, deps.publish, log);
      return result.length === EXPIRE_BATCH;
    } catch (err) {
      log.error({ err }, 'escrow sweep failed; trying again after the interval');
      return false;
    }
  }

  // A chain of one-shot timers rather than an interval: the next sweep is scheduled only once this
  // one has ended, so a slow sweep (one fsync per refund) never overlaps the next. (The system
  // scheduler's timers do not keep the process alive; the bus connection does.)
  function schedule(delayMs: number): void {
    cancelTimer = scheduler.setTimer(delayMs, () => {
      cancelTimer = undefined;
      running = sweep().then((more) => {
        running = undefined;
        if (!stopped) schedule(more ? 0 : deps.intervalMs);
      });
    });
  }

  schedule(deps.intervalMs);
  return {
    async stop() {
      stopped = true;
      cancelTimer?.();
      cancelTimer = undefined;
      await running;
    },
  };
}

/**
 * Which accounts may take the folded path (run-task.ts: run first, charge once verified). A charge
 * the ledger refuses (no credit, an unknown or closed account) means a run nobody pays for; the
 * account is then held to the escrow path, where a reserve is refused before anything runs, for
 * `holdMs`. So an account without credit gets at most one unpaid run per hold, however many tasks
 * it sends. The table is bounded: past `maxAccounts` held, the one held longest is let go first.
 */
import type { Stopwatch } from '@swarm/determinism';

export interface ChargeGate {
  allows(account: string): boolean;
  refused(account: string): void;
}

export const CHARGE_HOLD_MS = 60_000;
export const CHARGE_GATE_MAX_ACCOUNTS = 10_000;

export function createChargeGate(stopwatch: Stopwatch, holdMs = CHARGE_HOLD_MS, maxAccounts = CHARGE_GATE_MAX_ACCOUNTS): ChargeGate {
  // Insertion order is hold order: a re-held account is deleted and set again.
  const heldUntil = new Map<string, number>();
  return {
    allows(account) {
      const until = heldUntil.get(account);
      if (until === undefined) return true;
      if (until > stopwatch.now()) return false;
      heldUntil.delete(account);
      return true;
    },
    refused(account) {
      heldUntil.delete(account);
      heldUntil.set(account, stopwatch.now() + holdMs);
      for (const oldest of heldUntil.keys()) {
        if (heldUntil.size <= maxAccounts) break;
        heldUntil.delete(oldest);
      }
    },
  };
}

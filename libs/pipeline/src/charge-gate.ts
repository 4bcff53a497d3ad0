/**
 * Which tasks may take the folded path (run-task.ts: run first, charge once verified). A folded run
 * that ends without a paid charge (refused for lack of credit, the ledger unreachable, the result
 * late or wrong, the deadline passed) may be a run nobody pays for, so each account gets a window
 * of folded runs in flight at once, as a sender gets a congestion window: 1 at first, one more
 * after each charge that pays (up to `maxWindow`); after any unpaid end, back to 1 and held to the
 * escrow path (where a reserve is refused before anything runs) for `holdMs`. A task past its
 * account's window is not refused: it takes the escrow path.
 *
 * The bound: an account's unpaid folded runs are at most its window when the first of them ends,
 * which is at most one more than the paid runs before (and at most `maxWindow`), then one per hold,
 * however many tasks it sends. The table is bounded: past `maxAccounts`, the account touched
 * longest ago with nothing in flight is forgotten (it starts again at a window of 1).
 */
import type { Stopwatch } from '@swarm/determinism';

export interface ChargeGate {
  /** Whether a folded run for `account` may start now; when true, `end` must follow. */
  begin(account: string): boolean;
  /** How that run ended: its charge paid; unpaid (it ran, or may have, and was not paid); or it was never dispatched. */
  end(account: string, outcome: 'paid' | 'unpaid' | 'not-run'): void;
}

export const CHARGE_HOLD_MS = 60_000;
export const CHARGE_WINDOW_MAX = 32;
export const CHARGE_GATE_MAX_ACCOUNTS = 10_000;

interface AccountState {
  inFlight: number;
  window: number;
  heldUntil: number;
}

export function createChargeGate(stopwatch: Stopwatch, opts: { holdMs?: number; maxWindow?: number; maxAccounts?: number } = {}): ChargeGate {
  const holdMs = opts.holdMs ?? CHARGE_HOLD_MS;
  const maxWindow = opts.maxWindow ?? CHARGE_WINDOW_MAX;
  const maxAccounts = opts.maxAccounts ?? CHARGE_GATE_MAX_ACCOUNTS;
  // Insertion order is the order last touched: a touched account is deleted and set again.
  const accounts = new Map<string, AccountState>();
  const touch = (account: string): AccountState => {
    const state = accounts.get(account) ?? { inFlight: 0, window: 1, heldUntil: 0 };
    accounts.delete(account);
    accounts.set(account, state);
    if (accounts.size > maxAccounts) {
      for (const [id, s] of accounts) {
        if (accounts.size <= maxAccounts) break;
        if (s.inFlight === 0 && id !== account) accounts.delete(id);
      }
    }
    return state;
  };
  return {
    begin(account) {
      const state = touch(account);
      if (state.heldUntil > stopwatch.now() || state.inFlight >= state.window) return false;
      state.inFlight += 1;
      return true;
    },
    end(account, outcome) {
      const state = touch(account);
      state.inFlight = Math.max(0, state.inFlight - 1);
      if (outcome === 'paid') state.window = Math.min(maxWindow, state.window + 1);
      else if (outcome === 'unpaid') {
        state.window = 1;
        state.heldUntil = stopwatch.now() + holdMs;
      }
    },
  };
}

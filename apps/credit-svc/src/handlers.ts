import type { Handler } from '@swarm/bus';
import type {
  BalanceRequest,
  BalanceResponse,
  LedgerEntry,
  RefundRequest,
  RefundResponse,
  ReserveRequest,
  ReserveResponse,
  SettleRequest,
  SettleResponse,
} from '@swarm/contracts';
import type { Committed, Ledger } from '@swarm/credit';
import type { Logger } from '@swarm/telemetry';

export interface CreditHandlerDeps {
  ledger: Ledger;
  /** This node's account: what an empty `account` in a BalanceRequest means. */
  nodeAccount: string;
  /** Announces one committed entry (LedgerEntryEvents). */
  publish(entry: LedgerEntry): void;
  log: Logger;
}

export interface CreditHandlers {
  reserve: Handler<ReserveRequest, ReserveResponse>;
  settle: Handler<SettleRequest, SettleResponse>;
  refund: Handler<RefundRequest, RefundResponse>;
  balance: Handler<BalanceRequest, BalanceResponse>;
}

/**
 * Announces committed entries. Events are announcements after the commit, not the record: the
 * log is. A failed publish (bus going away) must not turn a committed operation into an error.
 */
export function publishEntries(entries: readonly LedgerEntry[], publish: (entry: LedgerEntry) => void, log: Logger): void {
  for (const entry of entries) {
    try {
      publish(entry);
    } catch (err) {
      log.warn({ err, seq: entry.seq.toString() }, 'could not publish a committed ledger entry');
    }
  }
}

/**
 * Per subject: validate -> ledger -> reply. The bus has already refused oversized and malformed
 * bytes; the ledger validates ids and amounts before queueing, so a bad request never waits
 * behind real work and never reaches the store.
 */
export function createCreditHandlers(deps: CreditHandlerDeps): CreditHandlers {
  const { ledger, log } = deps;

  function announce<R>(committed: Committed<R>): R {
    publishEntries(committed.entries, deps.publish, log);
    return committed.result;
  }

  return {
    reserve: async (req) => announce(await ledger.reserve(req)),
    settle: async (req) => announce(await ledger.settle(req)),
    refund: async (req) => announce(await ledger.refund(req)),
    balance: (req) => ledger.balance(req.account === '' ? deps.nodeAccount : req.account),
  };
}

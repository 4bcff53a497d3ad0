/**
 * The ledger over any LedgerStore: it loads the records an operation touches, asks the pure rules
 * what to write, and commits the answer as ONE batch (records + log entries + expiry index +
 * next seq), so a crash at any instant leaves either all of an operation or none of it.
 * Operations run through a serial queue so read-modify-write never interleaves.
 *
 * The expiry index holds exactly the open escrows that have an expiry: commit() derives its put
 * or delete from each escrow record it writes, in the same batch.
 */
import type { BalanceResponse, LedgerEntry, RefundRequest, RefundResponse, ReserveRequest, SettleRequest } from '@swarm/contracts';
import {
  ErrorCode,
  SwarmError,
} from '@swarm/contracts';
import type { Clock } from '@swarm/determinism';
import type { Committed, Ledger } from './ledger';
import type { AuditReport } from './ledger-audit';
import { createAuditor } from './ledger-audit';
import type { Account, Escrow } from './ledger-records';
import type { Change, EscrowLifetime, Stamp } from './ledger-rules';
import {
  balanceRule,
  genesisRule,
  refundRule,
  reserveRule,
  settlePayouts,
  settleRule,
  validateId,
  validateLifetime,
  validateRefund,
  validateReserve,
  validateSettle,
} from './ledger-rules';
import type { ExpiryRef, LedgerStore } from './ledger-store';
import { createSerialQueue } from './serial-queue';

/**
 * Largest page `entries()` returns, and most escrows one `expireDue` handles, so one call cannot
 * pull a whole store into memory.
 */
export const MAX_ENTRIES_PAGE = 10_000;
/**
 * Lifetimes when the options name none. An escrow lives for its task: the router asks for the
 * task deadline (at most 120 s) plus its settle grace (30 s); the maximum adds 30 s of slack and
 * no more, so nobody can lock credit up for long (an hour-long escrow was an attack).
 */
export const DEFAULT_ESCROW_LIFETIME: EscrowLifetime = Object.freeze({ defaultMs: 150_000, maxMs: 180_000 });

export interface LedgerComponents {
  /** Closed store; the ledger opens it, and closes it on `close`. */
  readonly store: LedgerStore;
  readonly clock: Clock;
}

export interface LedgerInit {
  /** This node's account; credited `genesisGrant` the first time the ledger sees it. */
  readonly nodeAccount: string;
  readonly genesisGrant: bigint;
  /** Default DEFAULT_ESCROW_LIFETIME. */
  readonly escrowLifetime?: EscrowLifetime;
}

type Batch = { expiryPuts: ExpiryRef[]; expiryDels: ExpiryRef[] };

export async function createLedger(components: LedgerComponents, init: LedgerInit): Promise<Ledger> {
  const lifetime = init.escrowLifetime ?? DEFAULT_ESCROW_LIFETIME;
  validateLifetime(lifetime);
  const { store, clock } = components;
  await store.open();
  try {
    return await startLedger(store, clock, init, lifetime);
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function startLedger(store: LedgerStore, clock: Clock, init: LedgerInit, lifetime: EscrowLifetime): Promise<Ledger> {
  const queue = createSerialQueue();
  let closing: Promise<void> | undefined;
  let nextSeq = store.nextSeq();
  // Counted once here (open escrows are few: each is a task in flight), then kept by commit().
  let openEscrows = 0;
  for await (const _ of store.scanExpiries()) openEscrows += 1;

  const stamp = (): Stamp => ({ nextSeq, atMs: clock.now() });

  /** An escrow record written open puts its expiry key; written closed, deletes it. */
  const indexOps = (escrows: readonly Escrow[], extraDels: readonly ExpiryRef[]): Batch => {
    const batch: Batch = { expiryPuts: [], expiryDels: [...extraDels] };
    for (const e of escrows) {
      if (e.expiresAtMs === undefined) continue;
      (e.state === 'open' ? batch.expiryPuts : batch.expiryDels).push({ expiresAtMs: e.expiresAtMs, escrowId: e.id });
    }
    return batch;
  };

  async function commit<R>(change: Change<R>, extraDels: readonly ExpiryRef[] = []): Promise<Committed<R>> {
    if (change.entries.length === 0 && extraDels.length === 0) return { result: change.result, entries: [] };
    const after = nextSeq + BigInt(change.entries.length);
    const { expiryPuts, expiryDels } = indexOps(change.escrows, extraDels);
    const opened = expiryPuts.filter((r) => !store.hasExpiry(r)).length - expiryDels.filter((r) => store.hasExpiry(r)).length;
    await store.commit({ accounts: change.accounts, escrows: change.escrows, entries: change.entries, expiryPuts, expiryDels, nextSeq: after });
    nextSeq = after;
    openEscrows += opened;
    return { result: change.result, entries: change.entries };
  }

  /**
   * One expiry index key, inside the queue: refund the escrow if it is still open with this
   * expiry; a key whose escrow is closed (or expires at another time) is stale and deleted.
   */
  async function expireOne(ref: ExpiryRef): Promise<Committed<RefundResponse | undefined>> {
    // Gone since the walk: a settle or refund queued in between closed the escrow.
    if (!store.hasExpiry(ref)) return { result: undefined, entries: [] };
    const escrow = store.escrow(ref.escrowId);
    if (escrow?.state !== 'open' || escrow.expiresAtMs !== ref.expiresAtMs) {
      const none: Change<undefined> = { result: undefined, accounts: [], escrows: [], entries: [] };
      return commit(none, [ref]);
    }
    return commit(refundRule({ escrowId: ref.escrowId }, { escrow, payer: store.account(escrow.payer) }, stamp()));
  }

  function mutate<R>(validate: () => void, apply: () => Change<R>): Promise<Committed<R>> {
    if (closing) return Promise.reject(closedError());
    try {
      // Refuse bad input before queueing, so it never waits behind real work.
      validate();
    } catch (err) {
      return Promise.reject(err);
    }
    return queue.run(async () => commit(apply()));
  }

  /** The accounts of a settle's payees other than the payer (undefined: never credited). */
  const payeeAccounts = (req: SettleRequest, payer: string | undefined): Map<string, Account | undefined> =>
    new Map(settlePayouts(req).filter((p) => p.payee !== payer).map((p) => [p.payee, store.account(p.payee)]));

  // A zero grant or an existing node account commits nothing here.
  await commit(genesisRule(init.nodeAccount, init.genesisGrant, store.account(init.nodeAccount), stamp()));

  return {
    reserve: (req: ReserveRequest) =>
      mutate(
        () => validateReserve(req),
        () => reserveRule(req, { escrow: store.escrow(req.escrowId), payer: store.account(req.account) }, stamp(), lifetime),
      ),
    settle: (req: SettleRequest) =>
      mutate(
        () => validateSettle(req),
        () => {
          const escrow = store.escrow(req.escrowId);
          const payer = escrow && store.account(escrow.payer);
          return settleRule(req, { escrow, payer, payees: payeeAccounts(req, escrow?.payer) }, stamp());
        },
      ),
    refund: (req: RefundRequest) =>
      mutate(
        () => validateRefund(req),
        () => {
          const escrow = store.escrow(req.escrowId);
          const payer = escrow && store.account(escrow.payer);
          return refundRule(req, { escrow, payer }, stamp());
        },
      ),
    async expireDue(nowMs: number, limit: number): Promise<Committed<readonly RefundResponse[]>> {
      if (closing) throw closedError();
      checkLimit(limit);
      // Expiries are whole ms below MAX_SAFE_INTEGER (LevelDB keys them as 16 digits).
      if (!(nowMs >= 0 && nowMs < Number.MAX_SAFE_INTEGER)) {
        throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `nowMs must be in [0, ${Number.MAX_SAFE_INTEGER}), got ${nowMs}`);
      }
      // The walk is queued so it sees no half-applied operation. Each refund then takes its own
      // turn in the queue, so a burst of expiries never holds reserves and settles back for long.
      const due = await queue.run(() => store.expiring(Math.floor(nowMs), limit));
      const result: RefundResponse[] = [];
      const entries: LedgerEntry[] = [];
      for (const ref of due) {
        // Closing: what is committed so far is answered (its entries still need publishing).
        if (closing) break;
        const done = await queue.run(() => expireOne(ref));
        if (done.result) result.push(done.result);
        entries.push(...done.entries);
      }
      return { result, entries };
    },
    async balance(account: string): Promise<BalanceResponse> {
      if (closing) throw closedError();
      validateId('account', account);
      // One record read sees a whole batch or none of it, so no queueing is needed.
      return balanceRule(account, store.account(account));
    },
    async escrow(id: string): Promise<Escrow | undefined> {
      if (closing) throw closedError();
      validateId('escrow_id', id);
      return store.escrow(id);
    },
    async entries(fromSeq: bigint, limit: number): Promise<LedgerEntry[]> {
      if (closing) throw closedError();
      checkLimit(limit);
      return store.entries(fromSeq < 1n ? 1n : fromSeq, limit);
    },
    lastSeq: () => nextSeq - 1n,
    openEscrows: () => openEscrows,
    audit(): Promise<AuditReport> {
      if (closing) return Promise.reject(closedError());
      // Queued, so it sees no half-applied operation between the log and the records.
      return queue.run(async () => {
        const auditor = createAuditor();
        for await (const entry of store.scanLog()) auditor.replay(entry);
        for await (const account of store.scanAccounts()) auditor.checkAccount(account);
        for await (const escrow of store.scanEscrows()) auditor.checkEscrow(escrow);
        for await (const ref of store.scanExpiries()) auditor.checkExpiry(ref.escrowId, ref.expiresAtMs);
        return auditor.finish(store.nextSeq());
      });
    },
    close() {
      closing ??= queue.drain().then(() => store.close());
      return closing;
    },
  };
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_ENTRIES_PAGE) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `limit must be an integer in [1, ${MAX_ENTRIES_PAGE}], got ${limit}`);
  }
}

function closedError(): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the ledger is closed', true);
}

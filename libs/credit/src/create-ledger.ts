/**
 * The ledger over any LedgerStore: it loads the records an operation touches, asks the pure rules
 * what to write, and commits the answer in ONE batch (records + log entries + expiry index +
 * next seq), so a crash at any instant leaves either all of an operation or none of it.
 * Operations are applied one at a time in order, so read-modify-write never interleaves; those
 * queued while a batch is being written share the next one (group-commit.ts), and none is
 * answered before its batch is durable.
 *
 * The expiry index holds exactly the open escrows that have an expiry: staged-batch.ts derives its
 * put or delete from each escrow record written, in the same batch.
 */
import type {
  BalanceResponse,
  ChargeRequest,
  DefundAgentRequest,
  FundAgentRequest,
  LedgerEntry,
  RefundRequest,
  RefundResponse,
  ReserveRequest,
  SettleRequest,
} from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import { upgradeAccountCounters } from './account-counters';
import { validateTransferId } from './agent-accounts';
import { chargeRule, settleOfCharge, validateCharge } from './charge-rule';
import type { Staged } from './group-commit';
import { createGroupCommitter, DEFAULT_MAX_GROUP_OPERATIONS } from './group-commit';
import type { Committed, Ledger } from './ledger';
import type { AuditReport } from './ledger-audit';
import { createAuditor } from './ledger-audit';
import type { Account, Escrow, Transfer } from './ledger-records';
import type { Change, EscrowLifetime, NamedAccount, Stamp } from './ledger-rules';
import {
  balanceRule,
  genesisRule,
  refundRule,
  reserveRule,
  settlePayouts,
  settleRule,
  validateAccount,
  validateId,
  validateLifetime,
  validateRefund,
  validateReserve,
  validateSettle,
} from './ledger-rules';
import type { ExpiryRef, LedgerStore, SideSpace, SideWrite } from './ledger-store';
import type { OperationView } from './staged-batch';
import type { TransferRecords } from './transfer-rules';
import { defundAgentRule, fundAgentRule, validateDefundAgent, validateFundAgent } from './transfer-rules';

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
  readonly clock: WallClock;
}

export interface LedgerInit {
  /** This node's account; credited `genesisGrant` the first time the ledger sees it. */
  readonly nodeAccount: string;
  readonly genesisGrant: bigint;
  /** Default DEFAULT_ESCROW_LIFETIME. */
  readonly escrowLifetime?: EscrowLifetime;
  /**
   * Most operations sharing one batch; default DEFAULT_MAX_GROUP_OPERATIONS. 1 writes each
   * operation alone (what the ledger did before group commit; the bench compares the two).
   */
  readonly maxGroupOperations?: number;
  /** The chain book's hook (chain-book.ts); none: side records are written only through `run`. */
  readonly hooks?: LedgerHooks;
}

/**
 * Called in an operation's turn, after its rule and before it is staged, with what it reads and
 * what it will write: side records to commit in the same batch (the chain book's pledges and
 * receipts), or a throw that refuses the operation, which then stages nothing. `settle` is the
 * request when the operation is a settle. Must be synchronous and pure apart from signing.
 */
export interface LedgerHooks {
  afterRule(view: OperationView, change: Change<unknown>, settle?: SettleRequest): readonly SideWrite[];
}

export async function createLedger(components: LedgerComponents, init: LedgerInit): Promise<Ledger> {
  const lifetime = init.escrowLifetime ?? DEFAULT_ESCROW_LIFETIME;
  validateLifetime(lifetime);
  const maxGroupOperations = init.maxGroupOperations ?? DEFAULT_MAX_GROUP_OPERATIONS;
  if (!Number.isSafeInteger(maxGroupOperations) || maxGroupOperations < 1) {
    throw new RangeError(`maxGroupOperations must be a whole number >= 1, got ${maxGroupOperations}`);
  }
  const { store, clock } = components;
  await store.open();
  try {
    return await startLedger(store, clock, init, lifetime, maxGroupOperations);
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function startLedger(store: LedgerStore, clock: WallClock, init: LedgerInit, lifetime: EscrowLifetime, maxOperations: number): Promise<Ledger> {
  let closing: Promise<void> | undefined;
  // Before anything else is committed: the first commit marks the store current.
  if (store.legacyAccounts()) await upgradeAccountCounters(store);
  // Counted once here (open escrows are few: each is a task in flight), then kept by the committer.
  let openEscrows = 0;
  for await (const _ of store.scanExpiries()) openEscrows += 1;
  const committer = createGroupCommitter(store, { nextSeq: store.nextSeq(), openEscrows, maxOperations });

  const hooked = <R>(view: OperationView, change: Change<R>, settle?: SettleRequest): Change<R> => {
    if (!init.hooks) return change;
    const side = init.hooks.afterRule(view, change, settle);
    return side.length === 0 ? change : { ...change, side: [...(change.side ?? []), ...side] };
  };

  const stamp = (view: OperationView): Stamp => ({ nextSeq: view.nextSeq, atMs: clock.now() });
  const nothing: Change<undefined> = { result: undefined, accounts: [], escrows: [], entries: [] };

  /**
   * One expiry index key, in its turn: refund the escrow if it is still open with this expiry; a
   * key whose escrow is closed (or expires at another time) is stale and deleted.
   */
  const expireOne =
    (ref: ExpiryRef) =>
    (view: OperationView): Staged<RefundResponse | undefined> => {
      // Gone since the walk: a settle or refund queued in between closed the escrow.
      if (!view.hasExpiry(ref)) return { change: nothing };
      const escrow = view.escrow(ref.escrowId);
      if (escrow?.state !== 'open' || escrow.expiresAtMs !== ref.expiresAtMs) return { change: nothing, extraDels: [ref] };
      const payer = view.account(escrow.payer);
      return { change: hooked(view, refundRule({ escrowId: ref.escrowId }, { escrow, payer, node: nodeIfClosed(view, payer) }, stamp(view))) };
    };

  function mutate<R>(validate: () => void, apply: (view: OperationView) => Change<R>, settle?: SettleRequest): Promise<Committed<R>> {
    if (closing) return Promise.reject(closedError());
    try {
      // Refuse bad input before queueing, so it never waits behind real work.
      validate();
    } catch (err) {
      return Promise.reject(err);
    }
    return committer.run((view) => ({ change: hooked(view, apply(view), settle) }));
  }

  /** The node's account, read only for a closed payer (whose refunds it takes): no extra read on the hot path. */
  const nodeIfClosed = (view: OperationView, payer: Account | undefined): NamedAccount | undefined =>
    payer?.closed ? { id: init.nodeAccount, account: view.account(init.nodeAccount) } : undefined;

  /** The accounts of a settle's payees other than the payer (undefined: never credited). */
  const payeeAccounts = (view: OperationView, req: SettleRequest, payer: string | undefined): Map<string, Account | undefined> =>
    new Map(
      settlePayouts(req)
        .filter((p) => p.payee !== payer)
        .map((p) => [p.payee, view.account(p.payee)]),
    );

  const transferRecords = (view: OperationView, transferId: string, agentAccount: string): TransferRecords => ({
    transfer: view.transfer(transferId),
    node: view.account(init.nodeAccount),
    agent: view.account(agentAccount),
  });

  // A zero grant or an existing node account commits nothing here.
  await committer.run((view) => ({ change: genesisRule(init.nodeAccount, init.genesisGrant, view.account(init.nodeAccount), stamp(view)) }));

  return {
    reserve: (req: ReserveRequest) =>
      mutate(
        () => validateReserve(req),
        (view) => reserveRule(req, { escrow: view.escrow(req.escrowId), payer: view.account(req.account) }, stamp(view), lifetime),
      ),
    settle: (req: SettleRequest) =>
      mutate(
        () => validateSettle(req),
        (view) => {
          const escrow = view.escrow(req.escrowId);
          const payer = escrow && view.account(escrow.payer);
          return settleRule(req, { escrow, payer, payees: payeeAccounts(view, req, escrow?.payer), node: nodeIfClosed(view, payer) }, stamp(view));
        },
        req,
      ),
    charge: (req: ChargeRequest) =>
      mutate(
        () => validateCharge(req),
        (view) => {
          const payees = payeeAccounts(view, settleOfCharge(req), req.account);
          return chargeRule(req, { escrow: view.escrow(req.escrowId), payer: view.account(req.account), payees }, stamp(view), lifetime);
        },
      ),
    refund: (req: RefundRequest) =>
      mutate(
        () => validateRefund(req),
        (view) => {
          const escrow = view.escrow(req.escrowId);
          const payer = escrow && view.account(escrow.payer);
          return refundRule(req, { escrow, payer, node: nodeIfClosed(view, payer) }, stamp(view));
        },
      ),
    fundAgent: (req: FundAgentRequest) =>
      mutate(
        () => validateFundAgent(req),
        (view) => fundAgentRule(req, init.nodeAccount, transferRecords(view, req.transferId, req.agentAccount), stamp(view)),
      ),
    defundAgent: (req: DefundAgentRequest) =>
      mutate(
        () => validateDefundAgent(req),
        (view) => defundAgentRule(req, init.nodeAccount, transferRecords(view, req.transferId, req.agentAccount), stamp(view)),
      ),
    async expireDue(nowMs: number, limit: number): Promise<Committed<readonly RefundResponse[]>> {
      if (closing) throw closedError();
      checkLimit(limit);
      // Expiries are whole ms below MAX_SAFE_INTEGER (LevelDB keys them as 16 digits).
      if (!(nowMs >= 0 && nowMs < Number.MAX_SAFE_INTEGER)) {
        throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `nowMs must be in [0, ${Number.MAX_SAFE_INTEGER}), got ${nowMs}`);
      }
      // The walk runs alone so it sees no staged operation. Each refund then takes its own turn,
      // so a burst of expiries never holds reserves and settles back for long.
      const due = await committer.exclusive(() => store.expiring(Math.floor(nowMs), limit));
      const result: RefundResponse[] = [];
      const entries: LedgerEntry[] = [];
      for (const ref of due) {
        // Closing: what is committed so far is answered (its entries still need publishing).
        if (closing) break;
        const done = await committer.run(expireOne(ref));
        if (done.result) result.push(done.result);
        entries.push(...done.entries);
      }
      return { result, entries };
    },
    run<R>(apply: (view: OperationView, at: Stamp) => Change<R>): Promise<Committed<R>> {
      if (closing) return Promise.reject(closedError());
      return committer.run((view) => ({ change: apply(view, stamp(view)) }));
    },
    side(space: SideSpace, key: string): Uint8Array | undefined {
      if (closing) throw closedError();
      return store.side(space, key);
    },
    sideRange(space: SideSpace, fromKey: string, limit: number) {
      if (closing) return Promise.reject(closedError());
      checkLimit(limit);
      return store.sideRange(space, fromKey, limit);
    },
    async balance(account: string): Promise<BalanceResponse> {
      if (closing) throw closedError();
      validateAccount('account', account);
      // The store holds only written batches, whole: a read sees no staged record and no half batch.
      return balanceRule(account, store.account(account));
    },
    async escrow(id: string, afterWrites = false): Promise<Escrow | undefined> {
      if (closing) throw closedError();
      validateId('escrow_id', id);
      if (!afterWrites) return store.escrow(id);
      // An operation that writes nothing: it reads through its group's staged records and is
      // answered once that group is durable.
      return (await committer.run((view) => ({ change: { result: view.escrow(id), accounts: [], escrows: [], entries: [] } }))).result;
    },
    async transfer(id: string): Promise<Transfer | undefined> {
      if (closing) throw closedError();
      validateTransferId(id);
      return store.transfer(id);
    },
    async entries(fromSeq: bigint, limit: number): Promise<LedgerEntry[]> {
      if (closing) throw closedError();
      checkLimit(limit);
      return store.entries(fromSeq < 1n ? 1n : fromSeq, limit);
    },
    lastSeq: () => committer.nextSeq - 1n,
    openEscrows: () => committer.openEscrows,
    audit(): Promise<AuditReport> {
      if (closing) return Promise.reject(closedError());
      // Alone, so it sees no half-applied operation between the log and the records.
      return committer.exclusive(async () => {
        const auditor = createAuditor();
        for await (const entry of store.scanLog()) auditor.replay(entry);
        for await (const account of store.scanAccounts()) auditor.checkAccount(account);
        for await (const escrow of store.scanEscrows()) auditor.checkEscrow(escrow);
        for await (const transfer of store.scanTransfers()) auditor.checkTransfer(transfer);
        for await (const ref of store.scanExpiries()) auditor.checkExpiry(ref.escrowId, ref.expiresAtMs);
        return auditor.finish(store.nextSeq());
      });
    },
    close() {
      closing ??= committer.drain().then(() => store.close());
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

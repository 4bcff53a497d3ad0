/**
 * The ledger on LevelDB. Adapter only: it loads the records an operation touches, asks the pure
 * rules what to write, and commits the answer as ONE atomic batch (records + log entries + next
 * seq), so a crash at any instant leaves either all of an operation or none of it. Operations run
 * through a serial queue so read-modify-write never interleaves.
 *
 * Layout (sublevels): acct!<account>, escrow!<escrow id>, log!<seq padded to 20 digits>,
 * expiry!<expiry padded to 16 digits>!<escrow id> (value empty), meta!format, meta!nextSeq.
 * Values: see record-codec.ts. The expiry index holds exactly the open escrows that have an
 * expiry: commit() derives its put or delete from each escrow record it writes, in the same batch.
 */
import {
  BalanceResponse,
  ErrorCode,
  LedgerEntry,
  RefundRequest,
  RefundResponse,
  ReserveRequest,
  SettleRequest,
  SwarmError,
} from '@swarm/contracts';
import type { Clock } from '@swarm/determinism';
import { Level } from 'level';
import { Committed, Ledger } from './ledger';
import { AuditReport, createAuditor } from './ledger-audit';
import { Account, Escrow } from './ledger-records';
import {
  balanceRule,
  Change,
  EscrowLifetime,
  genesisRule,
  refundRule,
  reserveRule,
  settleRule,
  Stamp,
  validateId,
  validateLifetime,
  validateRefund,
  validateReserve,
  validateSettle,
} from './ledger-rules';
import {
  decodeAccount,
  decodeEntry,
  decodeEscrow,
  decodeExpiryKey,
  decodeUint,
  encodeAccount,
  encodeEntry,
  encodeEscrow,
  expiryKey,
  expiryKeyBound,
  seqKey,
} from './record-codec';
import { createSerialQueue } from './serial-queue';

/** Bumped when the layout or codec changes incompatibly; a ledger of another format is refused. */
export const LEDGER_FORMAT = '1';
/**
 * Largest page `entries()` returns, and most escrows one `expireDue` handles, so one call cannot
 * pull a whole sublevel into memory.
 */
export const MAX_ENTRIES_PAGE = 10_000;
/**
 * Lifetimes when the options name none. An escrow lives for its task: the router asks for the
 * task deadline (at most 120 s) plus its settle grace (30 s); the maximum adds 30 s of slack and
 * no more, so nobody can lock credit up for long (an hour-long escrow was an attack).
 */
export const DEFAULT_ESCROW_LIFETIME: EscrowLifetime = Object.freeze({ defaultMs: 150_000, maxMs: 180_000 });

export interface LedgerOptions {
  /** Directory of the LevelDB store (created if missing). */
  path: string;
  clock: Clock;
  /** This node's account; credited `genesisGrant` the first time the ledger sees it. */
  nodeAccount: string;
  genesisGrant: bigint;
  /** fsync every batch: survives power loss, not only a process crash. */
  sync: boolean;
  /** Default DEFAULT_ESCROW_LIFETIME. */
  escrowLifetime?: EscrowLifetime;
}

type Db = Level<string, string>;
type Sub = ReturnType<typeof openSublevel>;
type BatchOp = { type: 'put'; sub: Sub; key: string; value: string } | { type: 'del'; sub: Sub; key: string };

function openSublevel(db: Db, name: string) {
  return db.sublevel<string, string>(name, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
}

export class LedgerOpenError extends Error {
  readonly code = 'SWARM_LEDGER_OPEN';
}

export async function openLedger(opts: LedgerOptions): Promise<Ledger> {
  validateLifetime(opts.escrowLifetime ?? DEFAULT_ESCROW_LIFETIME);
  const db: Db = new Level<string, string>(opts.path, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  try {
    await db.open();
  } catch (err) {
    const locked = (err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
    throw new LedgerOpenError(
      locked ? `ledger ${opts.path} is in use by another process` : `cannot open ledger ${opts.path}`,
      { cause: err },
    );
  }
  try {
    return await createLevelLedger(db, opts);
  } catch (err) {
    await db.close();
    throw err;
  }
}

async function createLevelLedger(db: Db, opts: LedgerOptions): Promise<Ledger> {
  const accounts = openSublevel(db, 'acct');
  const escrows = openSublevel(db, 'escrow');
  const log = openSublevel(db, 'log');
  const meta = openSublevel(db, 'meta');
  const expiry = openSublevel(db, 'expiry');
  // A sublevel finishes opening a tick after its parent; getSync() refuses until then.
  await Promise.all([accounts, escrows, log, meta, expiry].map((s) => s.open()));
  const lifetime = opts.escrowLifetime ?? DEFAULT_ESCROW_LIFETIME;
  const queue = createSerialQueue();
  let closing: Promise<void> | undefined;

  // Point reads are synchronous (classic-level getSync): a LevelDB get is served from the
  // memtable or block cache in microseconds, and a threadpool round trip per record would be
  // most of an operation's time inside the serial queue (measured 1.3-2.5x more ops/s).
  const read = (s: Sub, key: string): string | undefined => s.getSync(key);
  const loadAccount = (id: string): Account | undefined => {
    const raw = read(accounts, id);
    return raw === undefined ? undefined : decodeAccount(id, raw);
  };
  const loadEscrow = (id: string): Escrow | undefined => {
    const raw = read(escrows, id);
    return raw === undefined ? undefined : decodeEscrow(id, raw);
  };
  const readNextSeq = () => {
    const raw = read(meta, 'nextSeq');
    return raw === undefined ? 1n : decodeUint('nextSeq', raw);
  };

  const format = read(meta, 'format');
  if (format !== undefined && format !== LEDGER_FORMAT) {
    throw new LedgerOpenError(`ledger ${opts.path} has format ${format}, this build reads format ${LEDGER_FORMAT}`);
  }
  let nextSeq = readNextSeq();
  const [lastKey] = await log.keys({ reverse: true, limit: 1 }).all();
  if ((lastKey === undefined ? 0n : decodeUint('log key', lastKey)) !== nextSeq - 1n) {
    throw new LedgerOpenError(`ledger ${opts.path} is damaged: next seq ${nextSeq} but the log ends at ${lastKey ?? 'nothing'}`);
  }

  // Counted once here (open escrows are few: each is a task in flight), then kept by commit().
  let openEscrows = 0;
  for await (const _ of expiry.keys()) openEscrows += 1;

  const stamp = (): Stamp => ({ nextSeq, atMs: opts.clock.now() });

  /** An escrow record written open puts its expiry key; written closed, deletes it. */
  const expiryOps = (e: Escrow): BatchOp[] => {
    if (e.expiresAtMs === undefined) return [];
    const key = expiryKey(e.expiresAtMs, e.id);
    return [e.state === 'open' ? { type: 'put', sub: expiry, key, value: '' } : { type: 'del', sub: expiry, key }];
  };

  async function commit<R>(change: Change<R>, extra: BatchOp[] = []): Promise<Committed<R>> {
    if (change.entries.length === 0 && extra.length === 0) return { result: change.result, entries: [] };
    const after = nextSeq + BigInt(change.entries.length);
    const ops: BatchOp[] = [
      ...change.accounts.map((a) => put(accounts, a.id, encodeAccount(a))),
      ...change.escrows.map((e) => put(escrows, e.id, encodeEscrow(e))),
      ...change.escrows.flatMap(expiryOps),
      ...change.entries.map((e) => put(log, seqKey(e.seq), encodeEntry(e))),
      put(meta, 'nextSeq', after.toString()),
      ...extra,
    ];
    let opened = 0;
    for (const op of ops) {
      if (op.sub !== expiry) continue;
      const present = read(expiry, op.key) !== undefined;
      if (op.type === 'put' && !present) opened += 1;
      if (op.type === 'del' && present) opened -= 1;
    }
    await db.batch(
      ops.map((o) =>
        o.type === 'put' ? { type: 'put' as const, sublevel: o.sub, key: o.key, value: o.value } : { type: 'del' as const, sublevel: o.sub, key: o.key },
      ),
      { sync: opts.sync },
    );
    nextSeq = after;
    openEscrows += opened;
    return { result: change.result, entries: change.entries };
  }

  /**
   * One expiry index key, inside the queue: refund the escrow if it is still open with this
   * expiry; a key whose escrow is closed (or expires at another time) is stale and deleted.
   */
  async function expireOne(key: string): Promise<Committed<RefundResponse | undefined>> {
    // Gone since the walk: a settle or refund queued in between closed the escrow.
    if (read(expiry, key) === undefined) return { result: undefined, entries: [] };
    const { expiresAtMs, escrowId } = decodeExpiryKey(key);
    const escrow = loadEscrow(escrowId);
    if (escrow?.state !== 'open' || escrow.expiresAtMs !== expiresAtMs) {
      const none: Change<undefined> = { result: undefined, accounts: [], escrows: [], entries: [] };
      return commit(none, [{ type: 'del', sub: expiry, key }]);
    }
    return commit(refundRule({ escrowId }, { escrow, payer: loadAccount(escrow.payer) }, stamp()));
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

  // Genesis and the format marker go in one batch with the first entry, so a crash during the
  // first open leaves an empty store that the next open initialises again.
  const genesis = genesisRule(opts.nodeAccount, opts.genesisGrant, loadAccount(opts.nodeAccount), stamp());
  await commit(genesis, format === undefined ? [put(meta, 'format', LEDGER_FORMAT)] : []);

  return {
    reserve: (req: ReserveRequest) =>
      mutate(
        () => validateReserve(req),
        () => reserveRule(req, { escrow: loadEscrow(req.escrowId), payer: loadAccount(req.account) }, stamp(), lifetime),
      ),
    settle: (req: SettleRequest) =>
      mutate(
        () => validateSettle(req),
        () => {
          const escrow = loadEscrow(req.escrowId);
          const payer = escrow && loadAccount(escrow.payer);
          const payee = req.payee === escrow?.payer ? payer : loadAccount(req.payee);
          return settleRule(req, { escrow, payer, payee }, stamp());
        },
      ),
    refund: (req: RefundRequest) =>
      mutate(
        () => validateRefund(req),
        () => {
          const escrow = loadEscrow(req.escrowId);
          const payer = escrow && loadAccount(escrow.payer);
          return refundRule(req, { escrow, payer }, stamp());
        },
      ),
    async expireDue(nowMs: number, limit: number): Promise<Committed<readonly RefundResponse[]>> {
      if (closing) throw closedError();
      checkLimit(limit);
      // Index keys hold 16-digit times; a bound outside them would compare wrongly as text.
      if (!(nowMs >= 0 && nowMs < Number.MAX_SAFE_INTEGER)) {
        throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `nowMs must be in [0, ${Number.MAX_SAFE_INTEGER}), got ${nowMs}`);
      }
      // The walk is queued so it sees no half-applied operation. Each refund then takes its own
      // turn in the queue, so a burst of expiries never holds reserves and settles back for long.
      const due = await queue.run(() => expiry.keys({ lt: expiryKeyBound(Math.floor(nowMs) + 1), limit }).all());
      const result: RefundResponse[] = [];
      const entries: LedgerEntry[] = [];
      for (const key of due) {
        // Closing: what is committed so far is answered (its entries still need publishing).
        if (closing) break;
        const done = await queue.run(() => expireOne(key));
        if (done.result) result.push(done.result);
        entries.push(...done.entries);
      }
      return { result, entries };
    },
    async balance(account: string): Promise<BalanceResponse> {
      if (closing) throw closedError();
      validateId('account', account);
      // One key read sees a whole batch or none of it, so no queueing is needed.
      return balanceRule(account, loadAccount(account));
    },
    async escrow(id: string): Promise<Escrow | undefined> {
      if (closing) throw closedError();
      validateId('escrow_id', id);
      return loadEscrow(id);
    },
    async entries(fromSeq: bigint, limit: number): Promise<LedgerEntry[]> {
      if (closing) throw closedError();
      checkLimit(limit);
      const values = await log.values({ gte: seqKey(fromSeq < 1n ? 1n : fromSeq), limit }).all();
      return values.map(decodeEntry);
    },
    lastSeq: () => nextSeq - 1n,
    openEscrows: () => openEscrows,
    audit(): Promise<AuditReport> {
      if (closing) return Promise.reject(closedError());
      // Queued, so it sees no half-applied operation between the log and the records.
      return queue.run(async () => {
        const auditor = createAuditor();
        for await (const raw of log.values()) auditor.replay(decodeEntry(raw));
        for await (const [id, raw] of accounts.iterator()) auditor.checkAccount(decodeAccount(id, raw));
        for await (const [id, raw] of escrows.iterator()) auditor.checkEscrow(decodeEscrow(id, raw));
        for await (const key of expiry.keys()) {
          const { escrowId, expiresAtMs } = decodeExpiryKey(key);
          auditor.checkExpiry(escrowId, expiresAtMs);
        }
        return auditor.finish(readNextSeq());
      });
    },
    close() {
      closing ??= queue.drain().then(() => db.close());
      return closing;
    },
  };
}

function put(sub: Sub, key: string, value: string): BatchOp {
  return { type: 'put', sub, key, value };
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_ENTRIES_PAGE) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `limit must be an integer in [1, ${MAX_ENTRIES_PAGE}], got ${limit}`);
  }
}

function closedError(): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the ledger is closed', true);
}

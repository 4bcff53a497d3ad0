/**
 * credit-svc as a real child process, SIGKILLed under concurrent load at several moments. What
 * must hold afterwards: the store audits clean (every operation landed whole or not at all), and
 * each escrow was closed at most once, so callers retrying after lost replies are safe; escrows
 * that callers left open are refunded by the service itself once their (short) expiry passes.
 * The kills run once (beforeAll); each test then works on its own copy of the killed node's data
 * dir, so the tests do not depend on each other's order or outcome.
 */
import type { BusClient } from '@swarm/bus';
import { createBusClient } from '@swarm/bus';
import type { ChargeRequest, LedgerEntry, RefundRequest, ReserveRequest, SettleRequest } from '@swarm/contracts';
import {
  CreditBalance,
  CreditCharge,
  CreditHealth,
  CreditRefund,
  CreditReserve,
  CreditSettle,
  EntryKind,
  ErrorCode,
  isSwarmError,
  LedgerEntryEvents,
  SwarmError,
} from '@swarm/contracts';
import type { Ledger } from '@swarm/credit';
import { openLedger } from '@swarm/credit-level';
import { manualClock, seededRandom } from '@swarm/determinism';
import { loadOrCreateIdentity } from '@swarm/identity';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, ServiceProcess, TempDir } from '@swarm/testing';
import { spawnService, startNatsServer, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { LEDGER_DIR } from './config';

/** Committed entries seen on the bus before each SIGKILL: right at the start, then deeper in. */
const KILL_AFTER_ENTRIES = [1, 20, 60, 120];
const WORKERS = 8;
const REQUEST_TIMEOUT_MS = 750;
/** Retries run on a live service; a generous deadline keeps a slow CI box from failing them. */
const RETRY_TIMEOUT_MS = 5_000;
const START_TIMEOUT_MS = 15_000;
const PAYEES = ['peer-a', 'peer-b', 'peer-c'];
/**
 * Escrow lifetime in the service: longer than the last round takes (so escrows are still open
 * when it is killed), short enough that waiting for the left-over ones to expire stays cheap.
 */
const ESCROW_TTL_MS = 3_000;
/** Replies that mean "the service went away; the request may or may not have committed". */
const LOST = new Set([ErrorCode.ERROR_CODE_UNAVAILABLE, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED]);

type Op =
  | { rpc: typeof CreditReserve; req: ReserveRequest }
  | { rpc: typeof CreditSettle; req: SettleRequest }
  | { rpc: typeof CreditRefund; req: RefundRequest }
  | { rpc: typeof CreditCharge; req: ChargeRequest };
/** An op whose reply was lost, and when it was sent. */
type LostOp = Op & { sentAtMs: number };

describe('credit-svc process - crash recovery', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let bus: BusClient;
  let entriesSeen = 0;
  const copies: TempDir[] = [];
  const running = new Set<ServiceProcess>();
  const escrowIds = new Set<string>();
  /** Escrows made by a charge (reserve and settle in one write): never seen open. */
  const charged = new Set<string>();
  /** Requests whose reply was lost during the kills; a caller would retry them, and so do the tests. */
  let uncertain: LostOp[] = [];
  const refused: string[] = [];
  const random = seededRandom(42);

  beforeAll(async () => {
    [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-credit-crash-')]);
    nc = await connect({ servers: server.url });
    bus = createBusClient(nc, silentLogger());
    bus.subscribe(LedgerEntryEvents, () => (entriesSeen += 1));
    await killUnderLoad();
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...running].map((p) => p.kill('SIGKILL')));
    await nc.drain();
    await Promise.all([server.stop(), dir.remove(), ...copies.map((c) => c.remove())]);
  });

  /** A fresh copy of the killed node's data dir (node key and ledger), for one test alone. */
  async function copyOfKilledNode(): Promise<string> {
    const copy = await tempDir('swarm-credit-crash-copy-');
    copies.push(copy);
    await cp(dir.path, copy.path, { recursive: true });
    return copy.path;
  }

  async function startService(dataDir: string): Promise<{ proc: ServiceProcess; nodeId: string }> {
    const proc = spawnService('credit-svc', {
      SWARM_NATS_URL: server.url,
      SWARM_DATA_DIR: dataDir,
      SWARM_LOG_LEVEL: 'warn',
      SWARM_GENESIS_GRANT: '1000000',
      SWARM_ESCROW_DEFAULT_TTL_MS: String(ESCROW_TTL_MS),
      SWARM_ESCROW_SWEEP_MS: '50',
    });
    running.add(proc);
    void proc.exited.then(() => running.delete(proc));
    const health = await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`credit-svc exited: ${proc.output()}`);
        return bus.request(CreditHealth, {}, { timeoutMs: 500 });
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 50, what: 'credit-svc health' },
    );
    return { proc, nodeId: health.nodeId };
  }

  const call = (op: Op, timeoutMs: number) => bus.request<unknown, unknown>(op.rpc, op.req, { timeoutMs });

  /** false when the reply was lost (recorded for retry) or refused (recorded as a failure). */
  async function send(op: Op, timeoutMs = REQUEST_TIMEOUT_MS): Promise<boolean> {
    const sentAtMs = Date.now();
    try {
      await call(op, timeoutMs);
      return true;
    } catch (err) {
      if (err instanceof SwarmError && LOST.has(err.code)) uncertain.push({ ...op, sentAtMs });
      else refused.push(`${op.rpc.subject} ${JSON.stringify(op.req, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}: ${String(err)}`);
      return false;
    }
  }

  async function worker(nodeId: string, round: number, w: number, stop: { now: boolean }): Promise<void> {
    for (let n = 0; !stop.now; n += 1) {
      const escrowId = `r${round}-w${w}-${n}`;
      const amount = BigInt(1 + Math.floor(random() * 20));
      escrowIds.add(escrowId);
      if (random() < 0.2) {
        charged.add(escrowId);
        const paid = 1n + BigInt(Math.floor(random() * Number(amount)));
        const notAfterMs = BigInt(Date.now() + 3_600_000);
        await send({ rpc: CreditCharge, req: { escrowId, account: nodeId, amount, payouts: [{ payee: PAYEES[w % PAYEES.length], amount: paid }], notAfterMs } });
        continue;
      }
      // The service's default lifetime: a retry of a reserve that never landed gets a fresh expiry.
      if (!(await send({ rpc: CreditReserve, req: { escrowId, account: nodeId, amount, expiresAtMs: 0n, payees: PAYEES } }))) continue;
      // Each worker leaves its first escrow of a round open, so the last kill surely leaves some
      // open (earlier rounds' leftovers expire during the next round).
      const dice = n === 0 ? 1 : random();
      if (dice < 0.45) {
        const payee = PAYEES[w % PAYEES.length];
        await send({ rpc: CreditSettle, req: { escrowId, payee, amount: 1n + BigInt(Math.floor(random() * Number(amount))), payouts: [] } });
      } else if (dice < 0.9) {
        await send({ rpc: CreditRefund, req: { escrowId } });
      } // else: left open, for the service to refund once it expires
    }
  }

  /** Retries, in order per escrow as a caller would (a settle never overtakes its own reserve). */
  async function retry(ops: readonly LostOp[]): Promise<void> {
    for (const op of ops) {
      // A reserve's escrow expires no sooner than its lifetime after it was sent: refunded before
      // then would be a refund too early.
      const mayHaveExpired = () => Date.now() >= op.sentAtMs + ESCROW_TTL_MS;
      const outcome = await call(op, RETRY_TIMEOUT_MS).then(
        () => 'ok',
        // A settle retried after its escrow expired is too late: the credit went back to the payer.
        // So is a reserve whose reply was lost, retried once its escrow expired and was refunded (on
        // a busy machine the recovered service's sweeper can get there first): that reserve landed.
        (err: unknown) =>
          isSwarmError(err, ErrorCode.ERROR_CODE_ESCROW_CLOSED) &&
          (op.rpc === CreditSettle || (op.rpc === CreditReserve && /already refunded/.test(err.message) && mayHaveExpired()))
            ? 'ok'
            : String(err),
      );
      expect(outcome).toBe('ok');
    }
  }

  /** SIGKILLs credit-svc at several moments under concurrent load; each round first retries the lost requests of the last. */
  async function killUnderLoad(): Promise<void> {
    for (const [round, killAfter] of KILL_AFTER_ENTRIES.entries()) {
      const { proc, nodeId } = await startService(dir.path);
      const lost = uncertain;
      uncertain = [];
      await retry(lost);
      const stop = { now: false };
      const target = entriesSeen + killAfter;
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(nodeId, round, w, stop));
      await waitFor(() => entriesSeen >= target, { timeoutMs: 10_000, what: `${killAfter} entries in round ${round}` });
      await proc.kill('SIGKILL');
      stop.now = true;
      await Promise.all(workers);
    }
  }

  async function readStore<T>(dataDir: string, fn: (ledger: Ledger, nodeId: string) => Promise<T>): Promise<T> {
    const { nodeId } = await loadOrCreateIdentity(dataDir);
    const ledger = await openLedger({ path: join(dataDir, LEDGER_DIR), clock: manualClock(), nodeAccount: nodeId, genesisGrant: 0n, sync: false });
    try {
      return await fn(ledger, nodeId);
    } finally {
      await ledger.close();
    }
  }

  async function allEntries(ledger: Ledger): Promise<LedgerEntry[]> {
    const out: LedgerEntry[] = [];
    for (let page = await ledger.entries(1n, 1000); page.length > 0; page = await ledger.entries(out.length ? out[out.length - 1].seq + 1n : 1n, 1000)) {
      out.push(...page);
    }
    return out;
  }

  /** Audit clean, credit conserved, and each escrow reserved once and closed at most once. */
  async function expectConsistentStore(dataDir: string): Promise<{ open: number }> {
    return readStore(dataDir, async (ledger) => {
      const report = await ledger.audit();
      expect(report.problems).toEqual([]);
      expect(report.totals.available + report.totals.escrowed).toBe(1_000_000n);
      const byEscrow = new Map<string, EntryKind[]>();
      for (const e of await allEntries(ledger)) if (e.escrowId) byEscrow.set(e.escrowId, [...(byEscrow.get(e.escrowId) ?? []), e.kind]);
      for (const [id, kinds] of byEscrow) {
        expect(escrowIds.has(id)).toBe(true);
        const closes = kinds.slice(1);
        expect([[], [EntryKind.ENTRY_KIND_REFUND], [EntryKind.ENTRY_KIND_SETTLE], [EntryKind.ENTRY_KIND_SETTLE, EntryKind.ENTRY_KIND_REFUND]]).toContainEqual(closes);
        expect(kinds[0]).toBe(EntryKind.ENTRY_KIND_RESERVE);
        // A charge landed whole or not at all.
        if (charged.has(id)) expect(closes[0]).toBe(EntryKind.ENTRY_KIND_SETTLE);
      }
      return { open: report.totals.openEscrows };
    });
  }

  /** A service on a copy of the killed node, after the callers' retries, once every left-open escrow expired. */
  async function recoveredService(): Promise<{ proc: ServiceProcess; dataDir: string }> {
    const dataDir = await copyOfKilledNode();
    const { proc, nodeId } = await startService(dataDir);
    await retry(uncertain);
    await waitFor(async () => (await bus.request(CreditBalance, { account: nodeId }, { timeoutMs: 500 })).escrowed === 0n, {
      timeoutMs: ESCROW_TTL_MS + START_TIMEOUT_MS,
      what: 'every escrow left open to expire',
    });
    return { proc, dataDir };
  }

  it('survives SIGKILL at several moments under concurrent load', async () => {
    expect(refused).toEqual([]);
    expect(uncertain.length).toBeGreaterThan(0); // the last kill cut requests off; callers would retry them
    expect(charged.size).toBeGreaterThan(0);
    const { open } = await expectConsistentStore(await copyOfKilledNode());
    expect(open).toBeGreaterThan(0);
  });

  it('refunds the escrows left open after the kills once their expiry passes', async () => {
    const { proc } = await recoveredService();
    try {
      const health = await bus.request(CreditHealth, {}, { timeoutMs: RETRY_TIMEOUT_MS });
      expect(health.details['openEscrows']).toBe('0');
    } finally {
      await proc.kill('SIGKILL');
    }
  });

  it('answers each escrow with its one recorded close afterwards, and retries stay safe', async () => {
    const { proc } = await recoveredService();
    try {
      const outcome = async (op: Op) =>
        call(op, RETRY_TIMEOUT_MS).then(
          (reply) => reply,
          (err: SwarmError) => err.code,
        );
      for (const escrowId of escrowIds) {
        const first = await outcome({ rpc: CreditRefund, req: { escrowId } });
        // Refunded now or earlier -> the refund; settled earlier -> CLOSED; reserve never landed -> NOT_FOUND.
        if (typeof first === 'number') expect([ErrorCode.ERROR_CODE_ESCROW_CLOSED, ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND]).toContain(first);
        expect(await outcome({ rpc: CreditRefund, req: { escrowId } })).toEqual(first);
        const settle = await outcome({ rpc: CreditSettle, req: { escrowId, payee: 'peer-z', amount: 1n, payouts: [] } });
        expect([ErrorCode.ERROR_CODE_ESCROW_CLOSED, ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND]).toContain(settle);
      }
    } finally {
      await proc.kill('SIGKILL');
    }
  });

  it('exits 0 on SIGTERM and releases LevelDB, which then audits clean with nothing left open', async () => {
    const { proc, dataDir } = await recoveredService();
    expect(await proc.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await expectConsistentStore(dataDir)).toEqual({ open: 0 });
  });
});

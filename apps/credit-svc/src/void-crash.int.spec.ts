/**
 * Voids under kill -9 (docs/chain.md "Voids"): credit-svc as a real child process pays a payee
 * whose gateway (a stand-in on the bus) refuses every receipt for good and countersigns every void,
 * so each receipt is voided. credit-svc is SIGKILLed at random moments (0-60 ms after a settle's
 * answer, when its receipt, the refusal, the void and its completion are usually under way; a kill
 * may also land between them) and started again on its data dir each time. Afterwards every receipt has
 * left the outbox by its void exactly once (one VOID entry each, for its amount), nothing is
 * pledged, the payee's account in this ledger holds nothing, and the ledger audits clean.
 */
import type { BusClient, BusService } from '@swarm/bus';
import { createBusClient, startBusService, toWire } from '@swarm/bus';
import { countersignVoid, verifyVoid } from '@swarm/chain';
import type { LedgerEntry, SettleRequest } from '@swarm/contracts';
import {
  CreditBalance,
  CreditHealth,
  CreditReserve,
  CreditSettle,
  EntryKind,
  ErrorCode,
  GatewayDeliverReceipts,
  GatewayVoidReceipts,
  isSwarmError,
  SwarmError,
} from '@swarm/contracts';
import type { Ledger } from '@swarm/credit';
import { openLedger } from '@swarm/credit-level';
import { manualClock, seededRandom } from '@swarm/determinism';
import type { NodeIdentity } from '@swarm/identity';
import { loadOrCreateIdentity } from '@swarm/identity';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, ServiceProcess, TempDir } from '@swarm/testing';
import { spawnService, startNatsServer, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { join } from 'node:path';
import { LEDGER_DIR } from './config';

/** Tasks paid to the payee, one credit each (the starter allowance, 100, bounds what may be pledged at once). */
const TASKS = 40;
/** Kill credit-svc once the settle of these tasks has been answered (then after a random few ms). */
const KILL_AFTER = [4, 13, 22, 31];
const START_TIMEOUT_MS = 15_000;
const HASH = new Uint8Array(32).fill(3);

describe('credit-svc process - voids survive kill -9', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let payeeDir: TempDir;
  let payee: NodeIdentity;
  let nc: NatsConnection;
  let bus: BusClient;
  let gateway: BusService;
  let proc: ServiceProcess | undefined;
  let voidsAnswered = 0;
  const random = seededRandom(14);

  beforeAll(async () => {
    [server, dir, payeeDir] = await Promise.all([startNatsServer(), tempDir('swarm-void-crash-'), tempDir('swarm-void-crash-payee-')]);
    payee = await loadOrCreateIdentity(payeeDir.path);
    nc = await connect({ servers: server.url });
    bus = createBusClient(nc, silentLogger());
    gateway = await startBusService({ nc, log: silentLogger(), name: 'gateway-svc', version: '0.0.0', description: 'gateway stand-in', nodeId: payee.nodeId });
    // The payee refuses every receipt for good (as its gateway does one without its ticket)...
    gateway.serve(GatewayDeliverReceipts, async (req) => ({
      outcomes: req.receipts.map(() => ({ receipt: undefined, error: toWire(new SwarmError(ErrorCode.ERROR_CODE_INVALID_RECEIPT, 'not a ticket this node gave (test)', false)) })),
    }));
    // ...and countersigns every void of them (it keeps nothing, as for a receipt it never served).
    gateway.serve(GatewayVoidReceipts, async (req) => ({
      outcomes: req.voids.map((v) => {
        voidsAnswered += 1;
        verifyVoid(v, { countersigned: false, expectedPayee: payee.nodeId });
        return { signedVoid: countersignVoid(v, payee), receipt: undefined, error: undefined };
      }),
    }));
  });

  afterAll(async () => {
    await proc?.kill('SIGKILL');
    await gateway?.stop(1_000);
    await nc?.drain();
    await Promise.all([server?.stop(), dir?.remove(), payeeDir?.remove()]);
  });

  async function start(): Promise<string> {
    proc = spawnService('credit-svc', { SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_LOG_LEVEL: 'warn', SWARM_RECEIPT_PASS_MS: '50' });
    const running = proc;
    const health = await waitFor(
      async () => {
        if (running.child.exitCode !== null) throw new Error(`credit-svc exited: ${running.output()}`);
        return bus.request(CreditHealth, {}, { timeoutMs: 500 });
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 50, what: 'credit-svc health' },
    );
    return health.nodeId;
  }

  /** Sends until answered: a reply lost to a kill is asked again of the restarted service (reserve and settle are idempotent). */
  async function until(send: () => Promise<unknown>): Promise<void> {
    await waitFor(
      () =>
        send().then(
          () => true,
          (err: unknown) => (isSwarmError(err, ErrorCode.ERROR_CODE_UNAVAILABLE) || isSwarmError(err, ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED) ? false : Promise.reject(err)),
        ),
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 50, what: 'an answer' },
    );
  }

  const settlePaying = (escrowId: string): SettleRequest => ({
    escrowId,
    payee: '',
    amount: 0n,
    payouts: [{ payee: payee.nodeId, amount: 1n }],
    task: {
      taskId: escrowId,
      taskHash: HASH,
      resultHash: HASH,
      shares: [],
      payeeKeys: [{ nodeId: payee.nodeId, publicKey: payee.publicKey, serveTicket: new Uint8Array(32).fill(9) }],
    },
  });

  async function allEntries(ledger: Ledger): Promise<LedgerEntry[]> {
    const out: LedgerEntry[] = [];
    for (let page = await ledger.entries(1n, 1000); page.length > 0; page = await ledger.entries(out[out.length - 1].seq + 1n, 1000)) out.push(...page);
    return out;
  }

  it('voids every refused receipt exactly once, releases every pledge and keeps the ledger clean', async () => {
    const nodeId = await start();
    let kills = 0;
    for (let i = 0; i < TASKS; i += 1) {
      const escrowId = `void-crash-${i}`;
      await until(() => bus.request(CreditReserve, { escrowId, account: nodeId, amount: 2n, expiresAtMs: 0n, payees: [payee.nodeId] }, { timeoutMs: 1_000 }));
      await until(() => bus.request(CreditSettle, settlePaying(escrowId), { timeoutMs: 1_000 }));
      if (KILL_AFTER.includes(i)) {
        // Receipts and voids of the tasks before are in flight now: kill at a random moment among them.
        await new Promise((r) => setTimeout(r, Math.floor(random() * 60)));
        await proc?.kill('SIGKILL');
        kills += 1;
        await start();
      }
    }
    await waitFor(
      async () => {
        const d = (await bus.request(CreditHealth, {}, { timeoutMs: 1_000 })).details;
        return d['chainPledged'] === '0' && d['receiptsFailing'] === '0' && d['openEscrows'] === '0';
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'every receipt voided and every pledge released' },
    );
    expect((await bus.request(CreditBalance, { account: payee.nodeId })).available).toBe(0n);
    await proc?.kill('SIGTERM');
    proc = undefined;

    const ledger = await openLedger({ path: join(dir.path, LEDGER_DIR), clock: manualClock(), nodeAccount: nodeId, genesisGrant: 0n, sync: false });
    try {
      expect((await ledger.audit()).problems).toEqual([]);
      const voids = (await allEntries(ledger)).filter((e) => e.kind === EntryKind.ENTRY_KIND_VOID);
      const ids = voids.map((e) => e.escrowId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(Array.from({ length: TASKS }, (_, i) => `void-crash-${i}:${nodeId}:${payee.nodeId}`).sort());
      expect(voids.every((e) => e.amount === 1n && e.fromAccount === payee.nodeId && e.toAccount === nodeId)).toBe(true);
    } finally {
      await ledger.close();
    }
    expect({ kills, voidsAskedAtLeast: voidsAnswered >= TASKS }).toEqual({ kills: KILL_AFTER.length, voidsAskedAtLeast: true });
  });
});

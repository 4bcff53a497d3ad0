/**
 * Faults under load, from outside, as issue 10 §4 asks: a real node (`swarm up`), clients
 * submitting with idempotency keys, and kill -9 of router-svc, credit-svc, executor-svc and
 * nats-server at random moments. The supervisor brings each back; afterwards every outcome a
 * client saw must match the ledger exactly — a result means a settled escrow of that cost, an
 * error from the router means nothing was paid, and a lost reply is resolved by the status request
 * to exactly what the ledger holds — and the ledger audits clean. Bounded: one kill per target,
 * a few seconds of load around each.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { busConnectOptions, createBusClient } from '@swarm/bus';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import { CreditAudit, CreditEscrow, CreditHealth, EscrowState, fromTensor, isSwarmError, TaskState } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { busKeyFile } from '@swarm/identity';
import { demoInputs, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { SwarmNodeProcess, TempDir } from '@swarm/testing';
import { spawnSwarmNode, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';

jest.setTimeout(240_000);

const TASK_TIMEOUT_MS = 4_000;
const WORKERS = 3;
const TARGETS = ['router-svc', 'credit-svc', 'executor-svc', 'nats-server'] as const;

type Seen = { key: string; target: string } & ({ kind: 'paid'; cost: bigint; taskId: string } | { kind: 'error'; code: number; message: string; lost: boolean });

/** The client could not tell what happened: no reply came (a killed router, a restarting bus). */
function lostReply(message: string): boolean {
  return /did not answer within|is serving|connection unavailable|request aborted/.test(message);
}

describe('fault loop - kill -9 under load, then compare what clients saw with the ledger', () => {
  let home: TempDir;
  let node: SwarmNodeProcess;
  let client: SwarmClient;
  let observer: NatsConnection;

  beforeAll(async () => {
    home = await tempDir('swarm-faults-');
    node = await spawnSwarmNode(home.path, { env: { SWARM_GENESIS_GRANT: '1000000', SWARM_LOG_LEVEL: 'warn', SWARM_TASK_TIMEOUT_MS: String(TASK_TIMEOUT_MS) } });
    client = await connectSwarm(node.natsUrl, { nkeyFile: node.clientKeyFile });
    observer = await connect({
      servers: node.natsUrl,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      ...(await busConnectOptions('observer', busKeyFile(home.path, 'observer'))),
    });
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await observer?.close().catch(() => undefined);
    await node?.stop();
    await home?.remove();
  });

  const pidOf = (target: string): number => {
    const file = JSON.parse(readFileSync(join(home.path, 'node.json'), 'utf8')) as { natsPid: number; supervision: Record<string, { pid?: number }> };
    const pid = target === 'nats-server' ? file.natsPid : file.supervision[target]?.pid;
    if (!pid) throw new Error(`no pid for ${target} in node.json`);
    return pid;
  };

  async function healthy(): Promise<boolean> {
    for (const service of ['router', 'credit', 'executor', 'registry', 'gateway'] as const) {
      if ((await client.health(service, 1_000)).status !== 'ok') return false;
    }
    return true;
  }

  it('keeps every client-observed outcome equal to the ledger through kills of each process', async () => {
    const random = seededRandom(77);
    const inputs = demoInputs('vecadd', 256, random);
    const budget = priceOf('vecadd', inputs.map(fromTensor)) * 2n;
    const seen: Seen[] = [];
    let n = 0;

    for (const target of TARGETS) {
      let stop = false;
      const worker = async (w: number) => {
        while (!stop) {
          const key = `k-${target}-${w}-${n++}`;
          try {
            const r = await client.submit({ skill: 'vecadd', inputs, budget, timeoutMs: TASK_TIMEOUT_MS, idempotencyKey: key });
            seen.push({ key, target, kind: 'paid', cost: r.cost, taskId: r.taskId });
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            seen.push({ key, target, kind: 'error', code: isSwarmError(err) ? err.code : -1, message, lost: lostReply(message) });
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      };
      const load = Array.from({ length: WORKERS }, (_, w) => worker(w));
      await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 1_200)));
      process.kill(pidOf(target), 'SIGKILL');
      await waitFor(healthy, { timeoutMs: 60_000, intervalMs: 200, what: `node healthy again after killing ${target}` });
      await new Promise((r) => setTimeout(r, 500)); // a little load on the recovered node
      stop = true;
      await Promise.all(load);
    }
    expect(seen.filter((s) => s.kind === 'paid').length).toBeGreaterThan(0);

    // Escrows of tasks whose router died stay open until their expiry; let them all close.
    const credit = createBusClient(observer, silentLogger());
    await waitFor(async () => (await credit.request(CreditHealth, {})).details['openEscrows'] === '0', { timeoutMs: 60_000, intervalMs: 500, what: 'every escrow closed' });

    const mismatches: string[] = [];
    for (const s of seen) {
      const status = await client.task({ idempotencyKey: s.key });
      const escrow = status.taskId ? await credit.request(CreditEscrow, { escrowId: status.taskId }) : undefined;
      const ledger = escrow?.state ?? EscrowState.ESCROW_STATE_NONE;
      const ledgerPaid = ledger === EscrowState.ESCROW_STATE_SETTLED ? escrow?.paid : undefined;
      // The status request always tells the ledger's truth.
      const statusAgrees =
        (status.state === TaskState.TASK_STATE_PAID && ledgerPaid === status.cost) ||
        (status.state === TaskState.TASK_STATE_REFUNDED && ledger === EscrowState.ESCROW_STATE_REFUNDED) ||
        ((status.state === TaskState.TASK_STATE_REJECTED || status.state === TaskState.TASK_STATE_UNKNOWN) && ledger === EscrowState.ESCROW_STATE_NONE);
      if (!statusAgrees) mismatches.push(`${s.key}: status ${TaskState[status.state]} cost ${status.cost}, ledger ${EscrowState[ledger]} paid ${ledgerPaid ?? '-'}`);
      // What the client was told directly must be true too.
      if (s.kind === 'paid' && !(ledgerPaid === s.cost && s.taskId === status.taskId))
        mismatches.push(`${s.key}: told paid ${s.cost}, ledger ${EscrowState[ledger]} ${ledgerPaid ?? '-'}`);
      if (s.kind === 'error' && !s.lost && ledger === EscrowState.ESCROW_STATE_SETTLED) mismatches.push(`${s.key}: told ${s.message}, but the ledger paid ${ledgerPaid}`);
    }
    expect(mismatches).toEqual([]);

    const audit = await credit.request(CreditAudit, {}, { timeoutMs: 30_000 });
    expect({ ok: audit.ok, problems: audit.problems }).toEqual({ ok: true, problems: [] });
    const byTarget = Object.fromEntries(
      TARGETS.map((t) => [t, { paid: seen.filter((s) => s.target === t && s.kind === 'paid').length, errors: seen.filter((s) => s.target === t && s.kind === 'error').length }]),
    );
    process.stderr.write(`fault loop: ${JSON.stringify(byTarget)}\n`);
  });
});

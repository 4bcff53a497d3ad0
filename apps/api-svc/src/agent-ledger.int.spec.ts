/**
 * Agents' spend as the ledger counts it, end to end: a real credit-svc and api-svc as child
 * processes (api-svc killed with SIGKILL mid-task, as a crash would), the router's part played by
 * a stand-in that pays through the real ledger (test-fixtures/ledger-router.ts). What `swarm agent
 * list` and GET /v1/balance show comes from the ledger, so it stays true across the crash; and a
 * revoked agent's escrows that close after the revoke end in the node's account.
 */
import type { BusClient } from '@swarm/bus';
import { createBusClient } from '@swarm/bus';
import { ApiAddAgent, ApiHealth, ApiListAgents, ApiRevokeAgent, CreditAudit, CreditBalance, CreditEscrow, CreditHealth, EscrowState } from '@swarm/contracts';
import { keyedTaskId } from '@swarm/pipeline';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, ServiceProcess, TempDir } from '@swarm/testing';
import { spawnService, startNatsServer, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import type { LedgerRouter } from './test-fixtures/ledger-router';
import { DROPPED_ESCROW_MS, PAID_COST, startLedgerRouter } from './test-fixtures/ledger-router';

jest.setTimeout(60_000);

const GRANT = 1_000n;
const START_TIMEOUT_MS = 20_000;

describe('api-svc - agents spend what the ledger says, across a crash and a revoke', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let bus: BusClient;
  let router: LedgerRouter;
  let nodeAccount: string;
  let api: { proc: ServiceProcess; base: string };
  const running = new Set<ServiceProcess>();

  const env = () => ({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_LOG_LEVEL: 'warn', SWARM_GRACE_MS: '2000' });

  function spawn(app: string, extra: Record<string, string> = {}): ServiceProcess {
    const proc = spawnService(app, { ...env(), ...extra });
    running.add(proc);
    void proc.exited.then(() => running.delete(proc));
    return proc;
  }

  async function healthy<T>(proc: ServiceProcess, ask: () => Promise<T>, what: string): Promise<T> {
    return waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`${what} exited: ${proc.output()}`);
        return ask().catch(() => undefined);
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, what },
    );
  }

  async function startApi(): Promise<{ proc: ServiceProcess; base: string }> {
    const proc = spawn('api-svc', { SWARM_HTTP_LISTEN: '127.0.0.1:0' });
    const health = await healthy(proc, () => bus.request(ApiHealth, {}, { timeoutMs: 500 }), 'api-svc health');
    return { proc, base: `http://${health.details['http']}` };
  }

  beforeAll(async () => {
    [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-api-ledger-')]);
    nc = await connect({ servers: server.url });
    bus = createBusClient(nc, silentLogger());
    // credit-svc first: it creates the node's identity, which api-svc then shares.
    const credit = spawn('credit-svc', { SWARM_GENESIS_GRANT: String(GRANT), SWARM_ESCROW_SWEEP_MS: '100' });
    nodeAccount = (await healthy(credit, () => bus.request(CreditHealth, {}, { timeoutMs: 500 }), 'credit-svc health')).nodeId;
    router = await startLedgerRouter(nc, nodeAccount);
    api = await startApi();
  }, 60_000);

  afterAll(async () => {
    await router?.stop();
    await Promise.all([...running].map((p) => p.kill('SIGTERM')));
    await nc?.drain();
    await Promise.all([server?.stop(), dir?.remove()]);
  });

  const addAgent = (name: string, budget: bigint) => bus.request(ApiAddAgent, { name, budget, ttlMs: 0n });
  const listed = async (name: string) => (await bus.request(ApiListAgents, {})).agents.find((a) => a.name === name);
  const balance = (account: string) => bus.request(CreditBalance, { account });
  const escrowState = async (account: string, key: string) => (await bus.request(CreditEscrow, { escrowId: keyedTaskId(account, key) })).state;
  const submitAsync = async (token: string, key: string, budget: number) => {
    const res = await fetch(`${api.base}/v1/tasks?async=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        skill: 'vecadd',
        budget,
        idempotencyKey: key,
        inputs: [
          { name: 'a', shape: [3], data: [1, 2, 3] },
          { name: 'b', shape: [3], data: [10, 20, 30] },
        ],
      }),
    });
    expect(res.status).toBe(202);
  };
  const reservedFor = (account: string, keys: string[]) =>
    waitFor(() => keys.every((k) => router.reserved.has(keyedTaskId(account, k))), { timeoutMs: 10_000, what: `escrows of ${keys.join(', ')}` });

  it('shows the spend and tasks of a task that ended while api-svc was dead (killed with SIGKILL)', async () => {
    const { token, agent } = await addAgent('worker', 100n);
    expect(agent).toMatchObject({ available: 100n, spent: 0n, tasks: 0n });
    router.hold = true;
    await submitAsync(token, 'pay-crash', 10);
    await reservedFor('agent/worker', ['pay-crash']);

    await api.proc.kill('SIGKILL');
    router.hold = false;
    router.release();
    // The task ends without api-svc: the router settles, the ledger counts.
    await waitFor(async () => (await escrowState('agent/worker', 'pay-crash')) === EscrowState.ESCROW_STATE_SETTLED, { what: 'the settle' });

    api = await startApi();
    expect(await listed('worker')).toMatchObject({ available: 100n - PAID_COST, spent: PAID_COST, tasks: 1n, revoked: false });
    const res = await fetch(`${api.base}/v1/balance`, { headers: { authorization: `Bearer ${token}` } });
    expect(await res.json()).toEqual({ account: 'agent/worker', available: String(100n - PAID_COST), escrowed: '0', budget: '100', spent: String(PAID_COST), tasks: '1' });
    expect(await bus.request(CreditAudit, {})).toMatchObject({ ok: true, problems: [] });
  });

  it("returns a revoked agent's escrows that close after the revoke to the node, in one revoke", async () => {
    const nodeBefore = (await balance(nodeAccount)).available;
    const { token } = await addAgent('leaver', 60n);
    router.hold = true;
    // One task fails after the revoke, one is paid (for less than its budget), one is dropped and expires.
    await submitAsync(token, 'fail-1', 20);
    await submitAsync(token, 'pay-1', 10);
    await submitAsync(token, 'drop-1', 5);
    await reservedFor('agent/leaver', ['fail-1', 'pay-1', 'drop-1']);

    const revoked = await bus.request(ApiRevokeAgent, { name: 'leaver' });
    expect(revoked).toMatchObject({ returned: 25n, agent: { revoked: true, available: 0n, tasks: 3n } });
    // Still open at the revoke (the dropped one expires DROPPED_ESCROW_MS after its reserve).
    expect(await escrowState('agent/leaver', 'drop-1')).toBe(EscrowState.ESCROW_STATE_OPEN);
    expect(await balance('agent/leaver')).toMatchObject({ available: 0n, escrowed: 35n, closed: true });

    router.hold = false;
    router.release();
    await waitFor(async () => (await balance('agent/leaver')).escrowed === 0n, { timeoutMs: DROPPED_ESCROW_MS + 10_000, what: 'every escrow of leaver closed' });
    expect(await balance('agent/leaver')).toEqual({ account: 'agent/leaver', available: 0n, escrowed: 0n, spent: PAID_COST, reserves: 3n, closed: true });
    // Everything came back to the node: what the agent did not spend, and what it paid the node for its work.
    expect((await balance(nodeAccount)).available).toBe(nodeBefore);
    expect(await listed('leaver')).toMatchObject({ available: 0n, spent: PAID_COST, tasks: 3n, revoked: true });
    const res = await fetch(`${api.base}/v1/balance`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(await bus.request(CreditAudit, {})).toMatchObject({ ok: true, problems: [] });
  });
});

import { join } from 'node:path';
import { createBusClient, startBusService } from '@swarm/bus';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import type { LedgerEntry } from '@swarm/contracts';
import { CreditSettle, EntryKind, fromTensor, LedgerEntryEvents, RouterSubmit, SubmitTaskResponse, TaskState } from '@swarm/contracts';
import { loadServiceConfig } from '@swarm/config';
import { loadCreditConfig, startCreditService } from '@swarm/credit-svc';
import { seededRandom, systemTime } from '@swarm/determinism';
import { loadOrCreateIdentity } from '@swarm/identity';
import { startRegistryService } from '@swarm/registry-svc';
import { loadRouterConfig, startRouterService } from '@swarm/router-svc';
import { demoInputs, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import { startFakeExecutor, startNatsServer, tempDir, waitFor } from '@swarm/testing';
import { connect } from 'nats';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';
import { runCli } from './run-cli';

describe('task status - a whole node on a closed bus', () => {
  let node: InProcessNode;
  let client: SwarmClient;

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_GENESIS_GRANT: '1000' }, { closedBus: true });
    client = await connectSwarm(node.natsUrl, { nkeyFile: join(node.dataDir, 'bus', 'client.nk') });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await node?.stop();
  });

  it('charges a keyed task once however often it is submitted, and says it was paid', async () => {
    const inputs = demoInputs('vecadd', 64, seededRandom(4));
    const req = { skill: 'vecadd', inputs, budget: priceOf('vecadd', inputs.map(fromTensor)), timeoutMs: 10_000, idempotencyKey: 'e2e-once' };
    // The node pays itself, so its balance cannot show a charge: count the ledger's entries.
    const observerNc = await node.connectAs('observer');
    const entries: LedgerEntry[] = [];
    const sub = createBusClient(observerNc, silentLogger()).subscribe(LedgerEntryEvents, (e) => entries.push(e));
    await observerNc.flush();
    const first = await client.submit(req);
    const again = await client.submit(req);
    const concurrent = await Promise.all([client.submit(req), client.submit(req)]);
    // The same answer each time, the retries' marked as replayed (not run or charged again).
    expect(first.replayed).toBe(false);
    const replayed = { ...first, replayed: true };
    expect(again).toEqual(replayed);
    expect(concurrent).toEqual([replayed, replayed]);
    const ofTask = (kind: EntryKind) => entries.filter((e) => e.escrowId === first.taskId && e.kind === kind);
    await waitFor(() => ofTask(EntryKind.ENTRY_KIND_SETTLE).length > 0, { what: 'the settle entry' });
    sub.unsubscribe();
    // One reserve and one settle of this task's escrow, however many submits.
    expect(ofTask(EntryKind.ENTRY_KIND_RESERVE)).toHaveLength(1);
    expect(ofTask(EntryKind.ENTRY_KIND_SETTLE)).toHaveLength(1);
    expect(ofTask(EntryKind.ENTRY_KIND_SETTLE)[0]?.amount).toBe(first.cost);
    expect(await client.task({ idempotencyKey: 'e2e-once' })).toMatchObject({
      taskId: first.taskId,
      state: TaskState.TASK_STATE_PAID,
      cost: first.cost,
      source: 'router',
      resultAvailable: true,
    });
    expect(await client.task({ taskId: 'task-00000000000000000000000000000000' })).toMatchObject({ state: TaskState.TASK_STATE_UNKNOWN });
  });

  it('swarm task shows a task by key and by id, as JSON and as a table; an unknown task exits 1', async () => {
    const dir = ['--nats', node.natsUrl, '--data-dir', node.dataDir];
    const submitted = await runCli(['submit', '--skill', 'vecadd', '--size', '16', '--key', 'cli-e2e', '--json', ...dir]);
    expect(submitted.code).toBe(0);
    const res = JSON.parse(submitted.stdout) as { taskId: string; cost: string };

    // The same command again, key and all (no --seed): the same task, answered again, not run or charged twice.
    const again = await runCli(['submit', '--skill', 'vecadd', '--size', '16', '--key', 'cli-e2e', '--json', ...dir]);
    expect({ code: again.code, error: /^error .*/m.exec(again.stderr)?.[0] }).toEqual({ code: 0, error: undefined });
    expect(JSON.parse(again.stdout)).toMatchObject({ taskId: res.taskId, cost: res.cost });

    const byKey = await runCli(['task', '--key', 'cli-e2e', '--json', ...dir]);
    expect(byKey.code).toBe(0);
    expect(JSON.parse(byKey.stdout)).toMatchObject({ taskId: res.taskId, state: 'TASK_STATE_PAID', cost: res.cost, source: 'router' });

    const table = await runCli(['task', res.taskId, ...dir]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/state\s.*paid/);

    const unknown = await runCli(['task', '--key', 'never-submitted', ...dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error SWARM_TASK_UNKNOWN: /);
    // A rejected task never reaches the ledger: once the router forgets it, the answer says that may be why.
    expect(unknown.stderr).toMatch(/rejected before any credit moved, whose record the router has forgotten/);

    const bad = await runCli(['task', ...dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error SWARM_BAD_ARGS: /);
  }, 60_000);
});

describe('swarm submit - a lost reply', () => {
  it('is retried once with the same key, and prints the one outcome', async () => {
    const server = await startNatsServer();
    const home = await tempDir('swarm-lost-reply-');
    const nc = await connect({ servers: server.url });
    const keys: string[] = [];
    let release = () => undefined as void;
    const held = new Promise<void>((r) => (release = r));
    // A router whose first reply is lost (it never answers); the retry gets the task's outcome.
    const svc = await startBusService({ nc, log: silentLogger(), name: 'router-svc', version: '0.0.0', description: 'fake router', nodeId: 'fake' });
    svc.serve(RouterSubmit, async (req): Promise<SubmitTaskResponse> => {
      keys.push(req.idempotencyKey);
      if (keys.length === 1) await held;
      return SubmitTaskResponse.fromPartial({
        taskId: 'task-0123456789abcdef0123456789abcdef',
        outputs: req.inputs.slice(0, 1),
        cost: 1n,
        settlement: TaskState.TASK_STATE_PAID,
        attempts: 1,
      });
    });
    try {
      const r = await runCli(['submit', '--skill', 'vecadd', '--size', '4', '--timeout', '300', '--json', '--nats', server.url], { SWARM_HOME: home.path });
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ taskId: 'task-0123456789abcdef0123456789abcdef', cost: '1' });
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/^cli-[0-9a-f-]{36}$/);
      expect(keys[1]).toBe(keys[0]);
    } finally {
      release();
      await svc.stop(500);
      await nc.drain();
      await server.stop();
      await home.remove();
    }
  }, 30_000);

  it('is not retried for an answer that is not a lost reply', async () => {
    const server = await startNatsServer();
    const home = await tempDir('swarm-no-retry-');
    const nc = await connect({ servers: server.url });
    let calls = 0;
    const svc = await startBusService({ nc, log: silentLogger(), name: 'router-svc', version: '0.0.0', description: 'fake router', nodeId: 'fake' });
    svc.serve(RouterSubmit, () => {
      calls += 1;
      throw new Error('an internal fault');
    });
    try {
      const r = await runCli(['submit', '--skill', 'vecadd', '--size', '4', '--nats', server.url], { SWARM_HOME: home.path });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error SWARM_INTERNAL/);
      expect(calls).toBe(1);
    } finally {
      await svc.stop(500);
      await nc.drain();
      await server.stop();
      await home.remove();
    }
  }, 30_000);
});

describe('task status - credit-svc restarts while a verified result is being settled', () => {
  it('keeps the result, pays it once credit-svc is back, and says so in the reply and the status', async () => {
    const server = await startNatsServer();
    const dir = await tempDir('swarm-settle-restart-');
    const env = { SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path, SWARM_GRACE_MS: '2000', SWARM_EXECUTOR_THREADS: '1', SWARM_GENESIS_GRANT: '1000' };
    const { nodeId } = await loadOrCreateIdentity(dir.path);
    const log = silentLogger();
    const [creditNc, nc, observerNc] = await Promise.all([1, 2, 3].map(() => connect({ servers: server.url })));
    let credit: { stop(): Promise<void> } | undefined = await startCreditService({ config: loadCreditConfig(env), log, nc: creditNc, nodeId, ...systemTime });
    const registry = await startRegistryService({ config: loadServiceConfig(env), log, nc, nodeId });
    // credit-svc goes away right after it commits this task's escrow, and comes back once the
    // router has tried to settle. The executor answers only once credit-svc is down, and the
    // restart waits for the first settle request (seen here, with nobody to answer it), so that
    // settle surely fails however fast or slowly this host runs the kernel and the verification.
    let creditDown: () => void = () => undefined;
    const whenCreditDown = new Promise<void>((resolve) => {
      creditDown = resolve;
    });
    const executor = await startFakeExecutor({ nc, nodeId, log, gate: () => whenCreditDown });
    const router = await startRouterService({ config: loadRouterConfig(env), log, nc, nodeId, ...systemTime, random: seededRandom(5) });
    const client = await connectSwarm(server.url);
    try {
      const settleTried = new Promise<void>((resolve) => {
        observerNc.subscribe(CreditSettle.subject, { max: 1, callback: () => resolve() });
      });
      let restarted: Promise<void> | undefined;
      createBusClient(observerNc, log).subscribe(LedgerEntryEvents, (e) => {
        if (e.kind !== EntryKind.ENTRY_KIND_RESERVE || restarted) return;
        restarted = (async () => {
          await credit?.stop();
          credit = undefined;
          creditDown();
          await settleTried;
          credit = await startCreditService({ config: loadCreditConfig(env), log, nc: creditNc, nodeId, ...systemTime });
        })();
      });
      await observerNc.flush();
      const inputs = demoInputs('vecadd', 64, seededRandom(6));
      const res = await client.submit({ skill: 'vecadd', inputs, budget: priceOf('vecadd', inputs.map(fromTensor)), timeoutMs: 30_000, idempotencyKey: 'credit-restart' });
      await restarted;
      expect(res).toMatchObject({ cost: 1n, settlement: TaskState.TASK_STATE_PAID, settlementNote: expect.stringMatching(/^settled after \d+ failed attempt/) });
      expect(res.outputs).toHaveLength(1);
      expect(await client.task({ idempotencyKey: 'credit-restart' })).toMatchObject({ state: TaskState.TASK_STATE_PAID, cost: 1n, source: 'router' });
      const audit = await client.audit();
      expect(audit.problems).toEqual([]);
    } finally {
      await client.close();
      await router.stop();
      await executor.stop();
      await registry.stop();
      await credit?.stop();
      await Promise.all([creditNc, nc, observerNc].map((c) => c.drain()));
      await server.stop();
      await dir.remove();
    }
  }, 60_000);
});

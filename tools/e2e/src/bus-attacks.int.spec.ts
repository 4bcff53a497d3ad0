/**
 * The closed bus, attacked from outside the services: each attack that moved credit or faked a
 * service on an open bus (issue 10 §1) is run here as a separate connection — with no key, or with
 * the client key a CLI or agent holds — and must be refused with a clear permissions error while
 * no credit moves. Allowed client operations still work.
 */
import { createBusClient } from '@swarm/bus';
import { connectSwarm } from '@swarm/client';
import type { HealthResponse } from '@swarm/contracts';
import {
  CreditBalance,
  CreditCharge,
  CreditHealth,
  CreditRefund,
  CreditReserve,
  CreditSettle,
  ErrorCode,
  EXECUTOR_QUEUE,
  ExecutorExecute,
  LedgerEntryEvents,
  RegistryFindProviders,
  RouterSubmit,
  SubmitTaskRequest,
  SwarmError,
  TaskFinishedEvents,
  TaskState,
  fromTensor,
} from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { busKeyFile } from '@swarm/identity';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import { waitFor } from '@swarm/testing';
import type { NatsConnection, Status } from 'nats';
import { Events } from 'nats';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';
import { runCli } from './run-cli';

jest.setTimeout(60_000);

const log = silentLogger();

/** An async error's status carries the server's error code as text (a servers update, an object). */
const statusText = (s: Status): string => (typeof s.data === 'object' ? JSON.stringify(s.data) : String(s.data));

function vecaddTask(seed: number): SubmitTaskRequest {
  const skill = getSkill('vecadd');
  const inputs = demoInputs(skill, 64, seededRandom(seed));
  return SubmitTaskRequest.fromPartial({ skill: 'vecadd', inputs, budget: priceOf(skill, inputs.map(fromTensor)) });
}

/** What the ledger holds right now, as an observer sees it. */
async function ledgerState(observer: NatsConnection, nodeId: string) {
  const bus = createBusClient(observer, log);
  const balance = await bus.request(CreditBalance, { account: nodeId });
  const health: HealthResponse = await bus.request(CreditHealth, {});
  return { available: balance.available, escrowed: balance.escrowed, entries: health.details['entries'] };
}

async function expectDenied(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_PERMISSION_DENIED });
  await expect(p).rejects.toBeInstanceOf(SwarmError);
}

/** Subscribes and resolves with the permissions error nats-server closes the subscription with. */
async function subscriptionRefusal(nc: NatsConnection, subject: string, queue?: string): Promise<{ error: string; received: number }> {
  let received = 0;
  const refused = new Promise<string>((resolve) => {
    nc.subscribe(subject, {
      ...(queue ? { queue } : {}),
      callback: (err) => {
        if (err) resolve(err.message);
        else received += 1;
      },
    });
  });
  await nc.flush();
  const error = await Promise.race([refused, new Promise<string>((r) => setTimeout(() => r('not refused'), 2_000))]);
  return { error, received };
}

describe('closed bus - attacks from a local process', () => {
  let node: InProcessNode;
  let observer: NatsConnection;
  let attacker: NatsConnection;

  beforeAll(async () => {
    node = await startInProcessNode({}, { closedBus: true });
    observer = await node.connectAs('observer');
    attacker = await node.connectAs('client');
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('refuses a connection without a key, and one with an unknown key', async () => {
    await expect(node.connectAnonymous()).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    const other = await startInProcessNode({}, { closedBus: true });
    try {
      // The client key of another node is an unknown key here.
      await expect(connectSwarm(node.natsUrl, { nkeyFile: busKeyFile(other.dataDir, 'client') })).rejects.toMatchObject({ code: 'SWARM_BUS_DENIED' });
    } finally {
      await other.stop();
    }
  });

  it('lets the client identity submit, read its balance, skills and health', async () => {
    const client = await connectSwarm(node.natsUrl, { nkeyFile: busKeyFile(node.dataDir, 'client') });
    try {
      const r = await client.submit(vecaddTask(1));
      expect(r.cost).toBeGreaterThan(0n);
      expect((await client.balance()).account).toBe(node.nodeId);
      expect((await client.skills()).skills.map((s) => s.name)).toContain('matmul');
      expect((await client.health('credit')).status).toBe('ok');
      expect((await client.task({ taskId: r.taskId })).state).toBe(TaskState.TASK_STATE_PAID);
    } finally {
      await client.close();
    }
  });

  it('swarm health with the client key: every service answers, and the unknown instance counts are explained', async () => {
    const r = await runCli(['health', '--nats', node.natsUrl], { SWARM_NATS_NKEY_FILE: busKeyFile(node.dataDir, 'client') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/│ credit +│ ok +│ \? +│/);
    expect(r.stdout).toContain("instances ?: counting a service's instances needs the node's observer key ($SRV discovery)");
  });

  it('refuses reserve, settle, refund and charge from a client, and moves no credit', async () => {
    const before = await ledgerState(observer, node.nodeId);
    const bus = createBusClient(attacker, log);
    await expectDenied(bus.request(CreditReserve, { escrowId: 'steal-1', account: node.nodeId, amount: 900n, expiresAtMs: BigInt(Date.now() + 3_600_000), payees: ['thief'] }));
    await expectDenied(bus.request(CreditSettle, { escrowId: 'steal-1', payee: 'thief', amount: 900n, payouts: [] }));
    await expectDenied(bus.request(CreditRefund, { escrowId: 'steal-1' }));
    await expectDenied(
      bus.request(CreditCharge, { escrowId: 'steal-2', account: node.nodeId, amount: 900n, payouts: [{ payee: 'thief', amount: 900n }], notAfterMs: BigInt(Date.now() + 60_000) }),
    );
    expect(await ledgerState(observer, node.nodeId)).toEqual(before);
  });

  it('refuses a client watching ledger and task events, and one reading the router inbox', async () => {
    for (const subject of [LedgerEntryEvents.subject, TaskFinishedEvents.subject, 'swarm.v1.events.>', '_INBOX_router.>', '_INBOX.>', '>']) {
      const sub = await subscriptionRefusal(attacker, subject);
      expect(sub.error).toMatch(/Permissions Violation for Subscription/);
    }
  });

  it('refuses a client posing as executor, registry or router, and tasks still run on the real ones', async () => {
    const attempts = [
      await subscriptionRefusal(attacker, ExecutorExecute.subject, EXECUTOR_QUEUE),
      await subscriptionRefusal(attacker, ExecutorExecute.subject),
      await subscriptionRefusal(attacker, RegistryFindProviders.subject),
      await subscriptionRefusal(attacker, RouterSubmit.subject),
      await subscriptionRefusal(attacker, RouterSubmit.subject, 'q'),
      await subscriptionRefusal(attacker, 'swarm.v1.credit.settle'),
    ];
    for (const a of attempts) {
      expect(a.error).toMatch(/Permissions Violation for Subscription/);
      expect(a.received).toBe(0);
    }
    const client = await connectSwarm(node.natsUrl, { nkeyFile: busKeyFile(node.dataDir, 'client') });
    try {
      for (let i = 0; i < 5; i++) {
        const r = await client.submit(vecaddTask(10 + i));
        expect(r.providerId).toBe(node.nodeId);
        expect(r.attempts).toBe(1);
      }
    } finally {
      await client.close();
    }
  });

  it('refuses a client publishing onto service subjects or replying for a service', async () => {
    const bus = createBusClient(attacker, log);
    await expectDenied(bus.request(ExecutorExecute, { taskId: 't', skill: 'vecadd', inputs: [], timeoutMs: 1_000 }));
    await expectDenied(bus.request(RegistryFindProviders, { skill: 'vecadd' }));
    // A forged reply into the router's inbox is a publish the client may not make.
    const errors: string[] = [];
    void (async () => {
      for await (const s of attacker.status()) if (s.type === Events.Error) errors.push(statusText(s));
    })();
    attacker.publish('_INBOX_router.forged.reply', new Uint8Array([1, 2, 3]));
    await attacker.flush();
    await waitFor(() => errors.some((e) => /PERMISSIONS_VIOLATION|Permissions Violation/.test(e)), { what: 'permissions error on the forged reply' });
  });

  it('does not run a request whose reply subject the router may not answer: a service subject (no reply injection), an inbox of a role that may not ask it, or none of any role', async () => {
    const before = await ledgerState(observer, node.nodeId);
    const watched: string[] = [];
    const spy = observer.subscribe(LedgerEntryEvents.subject, { callback: (_e, m) => watched.push(m.subject) });
    // The router would answer onto swarm.v1.credit.* with its own rights if it ran this request; it
    // would run the task and have its answer refused into the inboxes (gateway and executor never ask
    // it; `_INBOX.` is an open bus's, `_INBOX_zzz.` no role's).
    for (const reply of [
      'swarm.v1.credit.refund',
      'swarm.v1.credit.settle',
      'swarm.v1.events.ledger.entry',
      '_INBOX_zzz.x',
      '_INBOX.x',
      '_INBOX_gateway.x',
      '_INBOX_executor.x.y',
    ]) {
      attacker.publish(RouterSubmit.subject, SubmitTaskRequest.encode(vecaddTask(30)).finish(), { reply });
    }
    await attacker.flush();
    // Submitting an honest task afterwards shows the router kept serving and orders the check.
    const client = await connectSwarm(node.natsUrl, { nkeyFile: busKeyFile(node.dataDir, 'client') });
    try {
      await client.submit(vecaddTask(31));
    } finally {
      await client.close();
    }
    // Had the router run the injected requests, their escrows would show here once they close.
    const observed = createBusClient(observer, log);
    await waitFor(async () => (await observed.request(CreditHealth, {})).details['openEscrows'] === '0', { what: 'no escrow open' });
    const after = await ledgerState(observer, node.nodeId);
    // Exactly the honest task's RESERVE + SETTLE (+ REFUND of the unused rest, if any) were written.
    const honest = Number(after.entries) - Number(before.entries);
    expect(honest).toBeGreaterThanOrEqual(2);
    expect(honest).toBeLessThanOrEqual(3);
    spy.unsubscribe();
  });

  it('refuses service discovery ($SRV) to a client: its responders would answer onto any subject', async () => {
    const errors: string[] = [];
    void (async () => {
      for await (const st of attacker.status()) if (st.type === Events.Error) errors.push(statusText(st));
    })();
    const seen: string[] = [];
    const spy = observer.subscribe(LedgerEntryEvents.subject, { callback: (_e, m) => seen.push(new TextDecoder().decode(m.data).slice(0, 20)) });
    attacker.publish('$SRV.PING.credit-svc', new Uint8Array(), { reply: LedgerEntryEvents.subject });
    await attacker.flush();
    await waitFor(() => errors.some((e) => /PERMISSIONS_VIOLATION|Permissions Violation/.test(e)), { what: 'permissions error on $SRV' });
    await observer.flush();
    expect(seen.filter((d) => d.startsWith('{'))).toEqual([]);
    spy.unsubscribe();
  });

  it('lets only the observer see ledger events', async () => {
    const seen: string[] = [];
    const sub = observer.subscribe(LedgerEntryEvents.subject, { callback: (_e, m) => seen.push(m.subject) });
    const client = await connectSwarm(node.natsUrl, { nkeyFile: busKeyFile(node.dataDir, 'client') });
    try {
      await client.submit(vecaddTask(40));
    } finally {
      await client.close();
    }
    await waitFor(() => seen.length >= 2, { what: 'ledger events at the observer' });
    sub.unsubscribe();
    // The observer may read but not move credit either.
    await expectDenied(createBusClient(observer, log).request(CreditSettle, { escrowId: 'x', payee: 'y', amount: 1n, payouts: [] }));
  });

  it('keeps each service to its role: an executor key cannot settle or reserve', async () => {
    const executorKey = await node.connectAs('executor');
    const bus = createBusClient(executorKey, log);
    await expectDenied(bus.request(CreditSettle, { escrowId: 'x', payee: 'y', amount: 1n, payouts: [] }));
    await expectDenied(bus.request(CreditReserve, { escrowId: 'x', account: node.nodeId, amount: 1n, expiresAtMs: 0n, payees: ['y'] }));
  });
});

import type { BusClient, BusService } from '@swarm/bus';
import { createBusClient, startBusService } from '@swarm/bus';
import type { TaskStatusResponse } from '@swarm/contracts';
import {
  CreditCharge,
  CreditEscrow,
  CreditRefund,
  CreditReserve,
  CreditSettle,
  ErrorCode,
  ExecutorExecute,
  fromTensor,
  Provider,
  RegistryFindProviders,
  RouterSubmit,
  RouterSubmitAgent,
  RouterTask,
  RouterTaskAgent,
  SubmitTaskRequest,
  TaskState,
  toTensor,
} from '@swarm/contracts';
import type { Ledger } from '@swarm/credit';
import { createLedger, createMemoryStore, escrowStatus } from '@swarm/credit';
import { seededRandom, systemTime } from '@swarm/determinism';
import { keyedTaskId } from '@swarm/pipeline';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer, swarmErrorOf } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadRouterConfig } from './config';
import type { RouterService } from './service';
import { startRouterService } from './service';

const NODE_ID = 'c1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
const ALICE = 'agent/alice';
const BOB = 'agent/bob';
const GRANT = 1_000n;

/**
 * credit-svc's subjects over the real ledger rules (an in-memory store), with two funded agents;
 * registry and executor fakes that run every task locally.
 */
async function startNode(nc: NatsConnection) {
  const ledger: Ledger = await createLedger({ store: createMemoryStore(), clock: systemTime.clock }, { nodeAccount: NODE_ID, genesisGrant: GRANT });
  await ledger.fundAgent({ transferId: 'fund-alice', agentAccount: ALICE, amount: 300n });
  await ledger.fundAgent({ transferId: 'fund-bob', agentAccount: BOB, amount: 5n });
  const svc: BusService = await startBusService({ nc, log: silentLogger(), name: 'fakes', version: '0.0.0', description: 'fakes', nodeId: NODE_ID });
  svc.serve(CreditReserve, async (r) => (await ledger.reserve(r)).result);
  svc.serve(CreditSettle, async (r) => (await ledger.settle(r)).result);
  svc.serve(CreditRefund, async (r) => (await ledger.refund(r)).result);
  svc.serve(CreditCharge, async (r) => (await ledger.charge(r)).result);
  svc.serve(CreditEscrow, async (r) => escrowStatus(r.escrowId, await ledger.escrow(r.escrowId)));
  svc.serve(RegistryFindProviders, () => ({ providers: [Provider.fromPartial({ nodeId: NODE_ID, local: true, skills: ['vecadd'] })] }));
  svc.serve(ExecutorExecute, (req) => {
    const outputs = getSkill(req.skill)
      .reference(req.inputs.map(fromTensor))
      .map((t) => toTensor(t.name, t.shape, t.data));
    return { taskId: req.taskId, outputs, executorId: 'exec-fake', providerId: NODE_ID, backend: 'cpu', executeMs: 1 };
  });
  return {
    ledger,
    available: async (account: string) => (await ledger.balance(account)).available,
    stop: async () => {
      await svc.stop(200);
      await ledger.close();
    },
  };
}

function vecadd(account: string, opts: { key?: string; budget?: bigint; seed?: number } = {}): SubmitTaskRequest {
  const inputs = demoInputs('vecadd', 8, seededRandom(opts.seed ?? 3));
  const budget = opts.budget ?? priceOf('vecadd', inputs.map(fromTensor));
  return SubmitTaskRequest.fromPartial({ skill: 'vecadd', inputs, budget, timeoutMs: 10_000, account, idempotencyKey: opts.key ?? '' });
}

/** What an unknown task answers: everything empty but the id asked about. */
const unknown = (taskId: string): TaskStatusResponse => ({
  taskId,
  state: TaskState.TASK_STATE_UNKNOWN,
  cost: 0n,
  refunded: 0n,
  error: undefined,
  providerId: '',
  source: '',
  resultAvailable: false,
  attempts: 0,
  note: '',
  paidTo: [],
  placementNote: '',
  account: '',
});

describe('router-svc - agent tasks paid from agent accounts', () => {
  let server: NatsServerHandle;
  let routerNc: NatsConnection;
  let fakesNc: NatsConnection;
  let clientNc: NatsConnection;
  let client: BusClient;
  let node: Awaited<ReturnType<typeof startNode>>;
  let router: RouterService | undefined;
  // A restarted router must not draw the task ids of the one before (those escrows exist).
  let starts = 0;

  const startRouter = async () => {
    starts += 1;
    const config = loadRouterConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: '/tmp/unused', SWARM_GRACE_MS: '1000' });
    router = await startRouterService({ config, log: silentLogger(), nc: routerNc, nodeId: NODE_ID, ...systemTime, random: seededRandom(starts) });
    await routerNc.flush();
  };
  const submitAgent = (req: SubmitTaskRequest) => client.request(RouterSubmitAgent, req, { timeoutMs: 12_000 });
  const agentStatus = (account: string, q: { taskId?: string; idempotencyKey?: string }) =>
    client.request(RouterTaskAgent, { taskId: q.taskId ?? '', idempotencyKey: q.idempotencyKey ?? '', account });
  const nodeStatus = (taskId: string) => client.request(RouterTask, { taskId, idempotencyKey: '', account: '' });

  beforeAll(async () => {
    server = await startNatsServer();
    [routerNc, fakesNc, clientNc] = await Promise.all([1, 2, 3].map(() => connect({ servers: server.url })));
    client = createBusClient(clientNc, silentLogger());
    node = await startNode(fakesNc);
    await startRouter();
  });

  afterAll(async () => {
    await router?.stop();
    await node.stop();
    await Promise.all([routerNc, fakesNc, clientNc].map((c) => c.drain()));
    await server.stop();
  });

  it("pays an agent's task from the agent's account, and the node (its provider) gets the cost", async () => {
    const [alice, nodeBefore] = [await node.available(ALICE), await node.available(NODE_ID)];
    const res = await submitAgent(vecadd(ALICE, { budget: 40n }));
    expect(res.account).toBe(ALICE);
    expect(res.settlement).toBe(TaskState.TASK_STATE_PAID);
    expect(res.cost).toBeGreaterThan(0n);
    expect(await node.available(ALICE)).toBe(alice - res.cost);
    expect(await node.available(NODE_ID)).toBe(nodeBefore + res.cost);
    expect(await node.ledger.escrow(res.taskId)).toMatchObject({ payer: ALICE, state: 'settled' });
    expect(await agentStatus(ALICE, { taskId: res.taskId })).toMatchObject({ state: TaskState.TASK_STATE_PAID, cost: res.cost, account: ALICE, source: 'router' });
    // The operator's view names the paying account.
    expect(await nodeStatus(res.taskId)).toMatchObject({ state: TaskState.TASK_STATE_PAID, account: ALICE });
    expect((await node.ledger.audit()).problems).toEqual([]);
  });

  it('refuses a task beyond the agent account with INSUFFICIENT_CREDIT and moves nothing', async () => {
    const [bob, nodeBefore] = [await node.available(BOB), await node.available(NODE_ID)];
    const err = await swarmErrorOf(submitAgent(vecadd(BOB, { budget: bob + 1n, key: 'too-big' })));
    expect(err.code).toBe(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
    expect(await node.available(BOB)).toBe(bob);
    expect(await node.available(NODE_ID)).toBe(nodeBefore);
    expect(await agentStatus(BOB, { idempotencyKey: 'too-big' })).toMatchObject({ state: TaskState.TASK_STATE_REJECTED, account: BOB });
  });

  it("never lets an agent read another agent's task, by id or by key, from the router or the ledger", async () => {
    const res = await submitAgent(vecadd(ALICE, { key: 'job-1' }));
    expect(res.taskId).toBe(keyedTaskId(ALICE, 'job-1'));
    expect(await agentStatus(ALICE, { idempotencyKey: 'job-1' })).toMatchObject({ taskId: res.taskId, state: TaskState.TASK_STATE_PAID, account: ALICE });
    // Exactly what a task that never existed answers.
    expect(await agentStatus(BOB, { taskId: res.taskId })).toEqual(unknown(res.taskId));
    expect(await agentStatus(BOB, { idempotencyKey: 'job-1' })).toEqual(unknown(keyedTaskId(BOB, 'job-1')));
    const never = keyedTaskId(ALICE, 'never-submitted');
    expect(await agentStatus(ALICE, { taskId: never })).toEqual(unknown(never));

    // A restarted router remembers nothing: the ledger answers, for the escrow's payer only.
    await router?.stop();
    await startRouter();
    expect(await agentStatus(ALICE, { taskId: res.taskId })).toMatchObject({ state: TaskState.TASK_STATE_PAID, source: 'ledger', account: ALICE, cost: res.cost });
    expect(await agentStatus(BOB, { taskId: res.taskId })).toEqual(unknown(res.taskId));
    expect(await nodeStatus(res.taskId)).toMatchObject({ state: TaskState.TASK_STATE_PAID, source: 'ledger', account: ALICE });
  });

  it("derives keyed task ids from the paying account, so two agents' keys never collide", async () => {
    const a = await submitAgent(vecadd(ALICE, { key: 'same-key', budget: 3n, seed: 5 }));
    const b = await submitAgent(vecadd(BOB, { key: 'same-key', budget: 3n, seed: 6 }));
    expect(a.taskId).not.toBe(b.taskId);
    expect([a.account, b.account]).toEqual([ALICE, BOB]);
    // A retry by key joins the agent's own task: same answer, nothing charged twice.
    const bobLeft = await node.available(BOB);
    expect((await submitAgent(vecadd(BOB, { key: 'same-key', budget: 3n, seed: 6 }))).taskId).toBe(b.taskId);
    expect(await node.available(BOB)).toBe(bobLeft);
  });

  it("keeps router.submit to the node's account and the node's own tasks' account filled", async () => {
    expect((await swarmErrorOf(client.request(RouterSubmit, vecadd(ALICE), { timeoutMs: 12_000 }))).code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    const own = await client.request(RouterSubmit, vecadd(''), { timeoutMs: 12_000 });
    expect(own.account).toBe(NODE_ID);
    expect(await nodeStatus(own.taskId)).toMatchObject({ state: TaskState.TASK_STATE_PAID, account: NODE_ID });
    // An agent cannot see the node's tasks either.
    expect(await agentStatus(ALICE, { taskId: own.taskId })).toEqual(unknown(own.taskId));
  });

  it.each([
    ['an empty account', ''],
    ["the node's account", NODE_ID],
    ['a peer account', 'peer-1'],
    ['a malformed agent account', 'agent/Alice'],
    ['a 33-character agent name', `agent/${'a'.repeat(33)}`],
  ])('refuses an agent submit and an agent status naming %s with INVALID_ARGUMENT', async (_, account) => {
    const submitted = await swarmErrorOf(submitAgent(vecadd(account)));
    expect(submitted.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(submitted.message.length).toBeLessThan(200);
    expect((await swarmErrorOf(agentStatus(account, { idempotencyKey: 'k' }))).code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
  });
});

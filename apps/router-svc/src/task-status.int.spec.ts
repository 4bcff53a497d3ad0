import type { BusClient, BusService } from '@swarm/bus';
import { createBusClient, startBusService } from '@swarm/bus';
import {
  CreditEscrow,
  CreditRefund,
  CreditReserve,
  CreditSettle,
  ErrorCode,
  EscrowState,
  ExecutorExecute,
  fromTensor,
  Provider,
  RegistryFindProviders,
  RouterSubmit,
  RouterTask,
  SubmitTaskRequest,
  SwarmError,
  TaskState,
  toTensor,
} from '@swarm/contracts';
import { seededRandom, systemTime } from '@swarm/determinism';
import { keyedTaskId } from '@swarm/pipeline';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadRouterConfig } from './config';
import type { RouterService } from './service';
import { startRouterService } from './service';

/** The tests here follow the escrow path (reserve first): their fake ledger scripts its escrow states. */
const ESCROW_PATH = { SWARM_ROUTER_FOLD_MAX_WORK: '0' };

const NODE_ID = 'b1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';

interface FakeEscrow {
  state: EscrowState;
  amount: bigint;
  paid: bigint;
  refunded: bigint;
  payee: string;
  expiresAtMs: bigint;
  /** Set by a test for an escrow settled to several nodes. */
  payouts?: Array<{ payee: string; amount: bigint }>;
}

/**
 * credit-svc as an in-memory ledger with credit-svc's escrow rules (a closed escrow is never
 * re-reserved, settle and refund are idempotent), which can be "down" (UNAVAILABLE, as while it
 * restarts); registry and executor fakes, the executor able to play dead.
 */
async function startFakes(nc: NatsConnection) {
  const escrows = new Map<string, FakeEscrow>();
  const state = {
    creditDown: false,
    deadExecutes: 0,
    executeCalls: 0,
    settles: 0,
    holdExecute: undefined as Promise<void> | undefined,
    holdReserve: undefined as Promise<void> | undefined,
    /** The reserve alone refuses (UNAVAILABLE), after holdReserve. */
    reserveDown: false,
  };
  const down = () => {
    if (state.creditDown) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'credit-svc is restarting', true);
  };
  const svc: BusService = await startBusService({ nc, log: silentLogger(), name: 'fakes', version: '0.0.0', description: 'fakes', nodeId: NODE_ID });
  svc.serve(CreditReserve, async (r) => {
    if (state.holdReserve) await state.holdReserve;
    down();
    if (state.reserveDown) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'credit-svc is restarting', true);
    const e = escrows.get(r.escrowId);
    if (e && e.state !== EscrowState.ESCROW_STATE_OPEN) throw new SwarmError(ErrorCode.ERROR_CODE_ESCROW_CLOSED, `escrow ${r.escrowId} is closed`);
    escrows.set(r.escrowId, { state: EscrowState.ESCROW_STATE_OPEN, amount: r.amount, paid: 0n, refunded: 0n, payee: '', expiresAtMs: r.expiresAtMs });
    return { escrowId: r.escrowId, available: 1_000_000n };
  });
  svc.serve(CreditSettle, (r) => {
    down();
    const e = escrows.get(r.escrowId);
    if (!e) throw new SwarmError(ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND, 'no such escrow');
    if (e.state === EscrowState.ESCROW_STATE_OPEN) {
      state.settles += 1;
      // The router settles with one payout (SettleRequest.payouts).
      const { payee, amount } = r.payouts[0] ?? r;
      Object.assign(e, { state: EscrowState.ESCROW_STATE_SETTLED, paid: amount, refunded: e.amount - amount, payee });
    } else if (e.state !== EscrowState.ESCROW_STATE_SETTLED) {
      throw new SwarmError(ErrorCode.ERROR_CODE_ESCROW_CLOSED, 'refunded');
    }
    return { escrowId: r.escrowId, paid: e.paid, refunded: e.refunded };
  });
  svc.serve(CreditRefund, (r) => {
    down();
    const e = escrows.get(r.escrowId);
    if (!e) throw new SwarmError(ErrorCode.ERROR_CODE_ESCROW_NOT_FOUND, 'no such escrow');
    if (e.state === EscrowState.ESCROW_STATE_SETTLED) throw new SwarmError(ErrorCode.ERROR_CODE_ESCROW_CLOSED, 'settled');
    Object.assign(e, { state: EscrowState.ESCROW_STATE_REFUNDED, refunded: e.amount });
    return { escrowId: r.escrowId, refunded: e.amount };
  });
  svc.serve(CreditEscrow, (r) => {
    down();
    const e = escrows.get(r.escrowId);
    if (!e) return { escrowId: r.escrowId, state: EscrowState.ESCROW_STATE_NONE, payer: '', amount: 0n, paid: 0n, refunded: 0n, payee: '', expiresAtMs: 0n, payouts: [] };
    return { escrowId: r.escrowId, payer: NODE_ID, payouts: [], ...e };
  });
  svc.serve(RegistryFindProviders, () => ({ providers: [Provider.fromPartial({ nodeId: NODE_ID, local: true, skills: ['vecadd'] })] }));
  svc.serve(ExecutorExecute, async (req) => {
    state.executeCalls += 1;
    // A dead executor: it took the request and will never answer.
    if (state.deadExecutes > 0) {
      state.deadExecutes -= 1;
      await new Promise<void>(() => undefined);
    }
    if (state.holdExecute) await state.holdExecute;
    const outputs = getSkill(req.skill)
      .reference(req.inputs.map(fromTensor))
      .map((t) => toTensor(t.name, t.shape, t.data));
    return { taskId: req.taskId, outputs, executorId: 'exec-fake', providerId: NODE_ID, backend: 'cpu', executeMs: 1 };
  });
  return { escrows, state, stop: () => svc.stop(200) };
}

function vecadd(key: string, timeoutMs = 10_000): SubmitTaskRequest {
  const inputs = demoInputs('vecadd', 8, seededRandom(3));
  return SubmitTaskRequest.fromPartial({ skill: 'vecadd', inputs, budget: priceOf('vecadd', inputs.map(fromTensor)), timeoutMs, idempotencyKey: key });
}

describe('router-svc - idempotent submits and task status', () => {
  let server: NatsServerHandle;
  let routerNc: NatsConnection;
  let fakesNc: NatsConnection;
  let clientNc: NatsConnection;
  let client: BusClient;
  let fakes: Awaited<ReturnType<typeof startFakes>>;
  let router: RouterService | undefined;

  const startRouter = async (env: Record<string, string> = {}) => {
    const config = loadRouterConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: '/tmp/unused', SWARM_GRACE_MS: '1000', ...ESCROW_PATH, ...env });
    router = await startRouterService({ config, log: silentLogger(), nc: routerNc, nodeId: NODE_ID, ...systemTime, random: seededRandom(1) });
    // The server has the router's subscriptions once this round trip is back.
    await routerNc.flush();
  };
  const submit = (req: SubmitTaskRequest) => client.request(RouterSubmit, req, { timeoutMs: req.timeoutMs + 2_000 });
  const status = (q: { taskId?: string; idempotencyKey?: string }) => client.request(RouterTask, { taskId: q.taskId ?? '', idempotencyKey: q.idempotencyKey ?? '', account: '' });

  beforeAll(async () => {
    server = await startNatsServer();
    [routerNc, fakesNc, clientNc] = await Promise.all([1, 2, 3].map(() => connect({ servers: server.url })));
    client = createBusClient(clientNc, silentLogger());
    fakes = await startFakes(fakesNc);
  });

  beforeEach(() => startRouter());

  afterEach(async () => {
    await router?.stop();
    router = undefined;
    fakes.escrows.clear();
    Object.assign(fakes.state, { creditDown: false, deadExecutes: 0, executeCalls: 0, settles: 0, holdExecute: undefined, holdReserve: undefined, reserveDown: false });
  });

  afterAll(async () => {
    await fakes.stop();
    await Promise.all([routerNc, fakesNc, clientNc].map((c) => c.drain()));
    await server.stop();
  });

  it('runs and charges a task once for the same key, and answers the retry with the same result, marked replayed', async () => {
    const first = await submit(vecadd('same-key'));
    const again = await submit(vecadd('same-key'));
    expect(first.taskId).toBe(keyedTaskId(NODE_ID, 'same-key'));
    expect(first.replayed).toBe(false);
    // The key comes back with the answer, the replay's too.
    expect(first.idempotencyKey).toBe('same-key');
    expect(again).toEqual({ ...first, replayed: true });
    expect(first.settlement).toBe(TaskState.TASK_STATE_PAID);
    expect(fakes.escrows.size).toBe(1);
    expect(fakes.state.settles).toBe(1);
    expect(fakes.state.executeCalls).toBe(1);
    // The same key for another task is a mistake, not a retry: refused, nothing run.
    const other = vecadd('same-key');
    await expect(submit({ ...other, budget: other.budget + 1n })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringMatching(/already used for a different task/),
    });
    // Same skill, budget and shapes, other data: a squatted key must not hand back another task's result.
    const [a, b] = other.inputs;
    const flipped = { ...a, data: Buffer.alloc(a.data.byteLength, 7) };
    await expect(submit({ ...other, inputs: [flipped, b] })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringMatching(/already used for a different task/),
    });
    expect(fakes.state.executeCalls).toBe(1);
  });

  it('runs concurrent submits with one key once; every one of them gets its reply', async () => {
    let release = () => undefined as void;
    fakes.state.holdExecute = new Promise<void>((r) => (release = r));
    const pending = [1, 2, 3, 4].map(() => submit(vecadd('together')));
    await waitFor(() => fakes.state.executeCalls === 1, { what: 'the one dispatch' });
    release();
    const replies = await Promise.all(pending);
    expect(new Set(replies.map((r) => r.taskId)).size).toBe(1);
    expect(replies.every((r) => r.cost === 1n)).toBe(true);
    expect(fakes.state.executeCalls).toBe(1);
    expect(fakes.state.settles).toBe(1);
  });

  it('answers the status of a running, paid, refunded, rejected and unknown task', async () => {
    let release = () => undefined as void;
    fakes.state.holdExecute = new Promise<void>((r) => (release = r));
    const running = submit(vecadd('k-running'));
    await waitFor(() => fakes.state.executeCalls === 1, { what: 'the dispatch' });
    expect(await status({ idempotencyKey: 'k-running' })).toMatchObject({ state: TaskState.TASK_STATE_RUNNING, source: 'router' });
    release();
    const paid = await running;
    expect(await status({ taskId: paid.taskId })).toMatchObject({
      state: TaskState.TASK_STATE_PAID,
      cost: 1n,
      providerId: NODE_ID,
      source: 'router',
      resultAvailable: true,
      attempts: 1,
    });

    // Refunded: the result came after a 300 ms deadline.
    fakes.state.holdExecute = new Promise<void>((r) => setTimeout(r, 600));
    const late = await submit(vecadd('k-late', 300)).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED });
    expect(await status({ idempotencyKey: 'k-late' })).toMatchObject({
      state: TaskState.TASK_STATE_REFUNDED,
      cost: 0n,
      source: 'router',
      // The one dispatch it made, as its error says ("after 1 attempt(s)"), not 0.
      attempts: 1,
      error: { code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED },
    });
    fakes.state.holdExecute = undefined;
    // The key again names a task that ended refunded: said so, not retryable with this key, with the
    // error it ended with (retryable itself: replayed as it was, a client would loop on the key).
    const again = await submit(vecadd('k-late', 300)).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: ErrorCode.ERROR_CODE_TASK_REFUNDED, retryable: false, message: expect.stringMatching(/SWARM_DEADLINE_EXCEEDED: .*new key/) });
    expect(fakes.state.executeCalls).toBe(2);

    // Rejected before anything was reserved: the budget is below the price.
    const low = await submit({ ...vecadd('k-low'), budget: 0n }).catch((e: unknown) => e);
    expect(low).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(await status({ idempotencyKey: 'k-low' })).toMatchObject({ state: TaskState.TASK_STATE_REJECTED, error: { code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT } });
    expect(fakes.escrows.has(keyedTaskId(NODE_ID, 'k-low'))).toBe(false);

    expect(await status({ idempotencyKey: 'never-sent' })).toMatchObject({ state: TaskState.TASK_STATE_UNKNOWN });
    expect(await status({ taskId: 'not-a-task-id' })).toMatchObject({ state: TaskState.TASK_STATE_UNKNOWN });
    await expect(status({})).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
  });

  it('answers from the ledger after a router restart, and never runs a paid key again', async () => {
    const first = await submit(vecadd('restart-key'));
    await router?.stop();
    await startRouter();
    expect(await status({ idempotencyKey: 'restart-key' })).toMatchObject({
      taskId: first.taskId,
      state: TaskState.TASK_STATE_PAID,
      cost: 1n,
      source: 'ledger',
      resultAvailable: false,
    });
    await expect(submit(vecadd('restart-key'))).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_TASK_RESULT_GONE, message: expect.stringMatching(/paid 1 credit/) });
    expect(fakes.state.executeCalls).toBe(1);
    expect(fakes.state.settles).toBe(1);
  });

  it('answers a submit that joined a task refused before anything was reserved with that refusal, and admits the key again', async () => {
    let release = () => undefined as void;
    fakes.state.holdReserve = new Promise<void>((r) => (release = r));
    fakes.state.reserveDown = true;
    const first = submit(vecadd('k-refused')).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 150));
    const joiner = submit(vecadd('k-refused')).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 150));
    release();
    // Both get the ledger's refusal as it was (retryable), not "refunded: use a new key".
    for (const answer of [await first, await joiner]) expect(answer).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true });
    fakes.state.holdReserve = undefined;
    fakes.state.reserveDown = false;
    expect((await submit(vecadd('k-refused'))).settlement).toBe(TaskState.TASK_STATE_PAID);
  });

  it('names every node a task paid, and the most paid as its provider, from the ledger alone', async () => {
    const taskId = keyedTaskId(NODE_ID, 'sharded-key');
    const [n1, n2] = ['a'.repeat(64), 'b'.repeat(64)];
    fakes.escrows.set(taskId, {
      state: EscrowState.ESCROW_STATE_SETTLED,
      amount: 60n,
      paid: 54n,
      refunded: 6n,
      payee: '',
      expiresAtMs: 0n,
      payouts: [
        { payee: n2, amount: 18n },
        { payee: n1, amount: 36n },
      ],
    });
    expect(await status({ idempotencyKey: 'sharded-key' })).toMatchObject({
      state: TaskState.TASK_STATE_PAID,
      cost: 54n,
      source: 'ledger',
      providerId: n1,
      paidTo: [expect.objectContaining({ providerId: n2, paid: 18n, counted: true }), expect.objectContaining({ providerId: n1, paid: 36n, counted: true })],
    });
  });

  it('keeps a verified result while settle fails during a credit-svc restart, and pays once credit-svc is back', async () => {
    // credit-svc goes down as soon as the result is dispatched and comes back 1.5 s later.
    let release = () => undefined as void;
    fakes.state.holdExecute = new Promise<void>((r) => (release = r));
    const pending = submit(vecadd('settle-late', 5_000));
    await waitFor(() => fakes.state.executeCalls === 1, { what: 'the dispatch' });
    fakes.state.creditDown = true;
    release();
    setTimeout(() => (fakes.state.creditDown = false), 1_500);
    const res = await pending;
    expect(res).toMatchObject({ cost: 1n, settlement: TaskState.TASK_STATE_PAID, settlementNote: expect.stringMatching(/settled after/) });
    expect(res.outputs).toHaveLength(1);
    expect(fakes.state.settles).toBe(1);
    expect(await status({ idempotencyKey: 'settle-late' })).toMatchObject({ state: TaskState.TASK_STATE_PAID, cost: 1n, note: expect.stringMatching(/settled after/) });
  });

  it('costs one attempt timeout, not the deadline, when the executor that took the task dies', async () => {
    await router?.stop();
    await startRouter({ SWARM_ROUTER_ATTEMPT_MIN_MS: '400' });
    fakes.state.deadExecutes = 1;
    const t0 = Date.now();
    const res = await submit(vecadd('dead-executor', 20_000));
    expect(res).toMatchObject({ cost: 1n, attempts: 2 });
    expect(fakes.state.executeCalls).toBe(2);
    // One 400 ms attempt plus the second, far inside the 20 s deadline.
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});

import { Writable } from 'node:stream';
import type { BusClient, BusService } from '@swarm/bus';
import { createBusClient, DEADLINE_HEADER, startBusService } from '@swarm/bus';
import {
  CreditCharge,
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
  RouterHealth,
  RouterSubmit,
  SubmitTaskRequest,
  SwarmError,
  SwarmErrorMessage,
  toTensor,
} from '@swarm/contracts';
import { seededRandom, systemTime } from '@swarm/determinism';
import { DEFAULT_ROUTER_LIMITS } from '@swarm/pipeline';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import type { Logger } from '@swarm/telemetry';
import { createLogger, silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer, waitFor, swarmErrorOf } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect, headers } from 'nats';
import { loadRouterConfig } from './config';
import type { RouterService } from './service';
import { startRouterService } from './service';

/** The tests here follow the escrow path (reserve first) unless they say otherwise. */
const ESCROW_PATH = { SWARM_ROUTER_FOLD_MAX_WORK: '0' };

const NODE_ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';

type ExecutorMode = 'honest' | 'hold' | 'overloaded';

/**
 * credit-svc, registry-svc and the executor queue as scripted fakes on a real bus: each records
 * what the router asked, so a test sees what was reserved, paid and refunded.
 */
async function startFakes(nc: NatsConnection) {
  const calls: string[] = [];
  const held: Array<() => void> = [];
  const state = { executor: 'honest' as ExecutorMode, registrySilent: false, executeCalls: 0 };
  const svc: BusService = await startBusService({ nc, log: silentLogger(), name: 'fakes', version: '0.0.0', description: 'fakes', nodeId: NODE_ID });
  svc.serve(CreditReserve, (r) => {
    calls.push(`reserve ${r.amount}`);
    return { escrowId: r.escrowId, available: 1_000_000n };
  });
  svc.serve(CreditSettle, (r) => {
    // The router settles with one payout (SettleRequest.payouts).
    const amount = r.payouts[0]?.amount ?? r.amount;
    calls.push(`settle ${amount}`);
    return { escrowId: r.escrowId, paid: amount, refunded: 0n };
  });
  svc.serve(CreditRefund, (r) => {
    calls.push('refund');
    return { escrowId: r.escrowId, refunded: 1n };
  });
  // Served apart, so a test can take it away (a credit-svc older than the charge).
  const serveCharge = async () => {
    const charger = await startBusService({ nc, log: silentLogger(), name: 'fake-charge', version: '0.0.0', description: 'fake charge', nodeId: NODE_ID });
    charger.serve(CreditCharge, (r) => {
      const paid = r.payouts[0]?.amount ?? 0n;
      calls.push(`charge ${r.amount} paying ${paid}`);
      return { escrowId: r.escrowId, paid, refunded: r.amount - paid };
    });
    await nc.flush();
    return charger;
  };
  let charger = await serveCharge();
  svc.serve(CreditEscrow, (r) => ({ escrowId: r.escrowId, state: EscrowState.ESCROW_STATE_NONE }));
  svc.serve(RegistryFindProviders, async () => {
    if (state.registrySilent) await new Promise<void>((release) => held.push(release));
    return { providers: [Provider.fromPartial({ nodeId: NODE_ID, local: true, skills: ['vecadd'] })] };
  });
  svc.serve(ExecutorExecute, async (req) => {
    state.executeCalls += 1;
    if (state.executor === 'overloaded') throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, 'executor busy: 2 running and 32 queued', true);
    if (state.executor === 'hold') await new Promise<void>((release) => held.push(release));
    const outputs = getSkill(req.skill)
      .reference(req.inputs.map(fromTensor))
      .map((t) => toTensor(t.name, t.shape, t.data));
    return { taskId: req.taskId, outputs, executorId: 'exec-fake', providerId: NODE_ID, backend: 'cpu', executeMs: 1 };
  });
  return {
    calls,
    state,
    releaseAll() {
      for (const release of held.splice(0)) release();
    },
    /** Serves no credit.charge until the function it returns is called. */
    async withoutCharge(): Promise<() => Promise<void>> {
      await charger.stop(1_000);
      await nc.flush();
      return async () => {
        charger = await serveCharge();
      };
    },
    stop: () => Promise.all([svc.stop(1_000), charger.stop(1_000)]),
  };
}

function vecadd(n: number): SubmitTaskRequest {
  const inputs = demoInputs('vecadd', n, seededRandom(n));
  return SubmitTaskRequest.fromPartial({ skill: 'vecadd', inputs, budget: priceOf('vecadd', inputs.map(fromTensor)), timeoutMs: 10_000 });
}

/** A pino destination that keeps each line's length and message (not 12 MB lines themselves). */
function lineSink() {
  const lines: Array<{ length: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push({ length: line.length, msg: /"msg":"([^"]*)"/.exec(line)?.[1] ?? '' });
      cb();
    },
  });
  return { stream, lines };
}

describe('router-svc - overload and failures get a clear answer', () => {
  let server: NatsServerHandle;
  let routerNc: NatsConnection;
  let fakesNc: NatsConnection;
  let clientNc: NatsConnection;
  let client: BusClient;
  let fakes: Awaited<ReturnType<typeof startFakes>>;
  let router: RouterService | undefined;

  const startRouter = async (env: Record<string, string> = {}, log: Logger = silentLogger()) => {
    const config = loadRouterConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: '/tmp/unused', SWARM_GRACE_MS: '1000', ...ESCROW_PATH, ...env });
    router = await startRouterService({ config, log, nc: routerNc, nodeId: NODE_ID, ...systemTime, random: seededRandom(1) });
    // The server has the router's subscriptions once a round trip after them returns: a request
    // from another connection cannot then find no responders (it did, under load).
    await routerNc.flush();
  };

  beforeAll(async () => {
    server = await startNatsServer();
    [routerNc, fakesNc, clientNc] = await Promise.all([1, 2, 3].map(() => connect({ servers: server.url })));
    client = createBusClient(clientNc, silentLogger());
    fakes = await startFakes(fakesNc);
  });

  afterEach(async () => {
    fakes.releaseAll();
    await router?.stop();
    router = undefined;
    fakes.calls.length = 0;
    Object.assign(fakes.state, { executor: 'honest', registrySilent: false, executeCalls: 0 });
  });

  afterAll(async () => {
    await fakes.stop();
    await Promise.all([routerNc, fakesNc, clientNc].map((c) => c.drain()));
    await server.stop();
  });

  it('refuses tasks beyond SWARM_ROUTER_MAX_INFLIGHT at once with OVERLOADED and a retry-after hint, reserving nothing for them', async () => {
    await startRouter({ SWARM_ROUTER_MAX_INFLIGHT: '2' });
    fakes.state.executor = 'hold';
    const running = [client.request(RouterSubmit, vecadd(8), { timeoutMs: 10_000 }), client.request(RouterSubmit, vecadd(8), { timeoutMs: 10_000 })];
    await waitFor(() => fakes.state.executeCalls === 2, { what: 'two tasks at the executor' });

    const t0 = Date.now();
    const refused = await swarmErrorOf(client.request(RouterSubmit, vecadd(8), { timeoutMs: 10_000 }));
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, message: expect.stringMatching(/2 tasks in flight \(limit 2\)/) });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(fakes.calls.filter((c) => c.startsWith('reserve'))).toHaveLength(2);
    const health = await client.request(RouterHealth, {});
    expect(health.details).toMatchObject({ inFlight: '2', maxInFlight: '2', refusedOverloaded: '1' });

    fakes.state.executor = 'honest';
    fakes.releaseAll();
    await Promise.all(running);
    // Capacity is back once they finish.
    await expect(client.request(RouterSubmit, vecadd(8), { timeoutMs: 10_000 })).resolves.toMatchObject({ cost: 1n });
  });

  it('runs a small task on its own executors before reserving anything, then makes one charge (the folded path, on by default)', async () => {
    await startRouter({ SWARM_ROUTER_FOLD_MAX_WORK: String(DEFAULT_ROUTER_LIMITS.foldMaxWork) });
    const res = await client.request(RouterSubmit, { ...vecadd(8), budget: 3n }, { timeoutMs: 10_000 });
    expect(res).toMatchObject({ cost: 1n, refunded: 2n, timing: { escrowMs: 0 } });
    expect(fakes.calls).toEqual(['charge 3 paying 1']);
    expect(fakes.state.executeCalls).toBe(1);
  });

  it('pays a folded result through an escrow, at once, when credit-svc is older than the charge (serves no credit.charge)', async () => {
    const restore = await fakes.withoutCharge();
    try {
      await startRouter({ SWARM_ROUTER_FOLD_MAX_WORK: String(DEFAULT_ROUTER_LIMITS.foldMaxWork) });
      const t0 = Date.now();
      const res = await client.request(RouterSubmit, { ...vecadd(8), budget: 3n }, { timeoutMs: 10_000 });
      // Not after the 10 s deadline, as a charge retried until its not-after time would be.
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(res).toMatchObject({ cost: 1n, refunded: 0n });
      expect(fakes.calls).toEqual(['reserve 3', 'settle 1']);
      expect(fakes.state.executeCalls).toBe(1);
      // This account's next task takes the escrow path from the start (the charge gate's hold).
      fakes.calls.length = 0;
      await client.request(RouterSubmit, vecadd(8), { timeoutMs: 10_000 });
      expect(fakes.calls).toEqual(['reserve 1', 'settle 1']);
      expect(fakes.state.executeCalls).toBe(2);
    } finally {
      await restore();
    }
  });

  it('refuses a request whose bytes would pass SWARM_ROUTER_MAX_INFLIGHT_BYTES, while a small one still fits', async () => {
    await startRouter({ SWARM_MAX_REQUEST_BYTES: String(64 * 1024), SWARM_ROUTER_MAX_INFLIGHT_BYTES: String(64 * 1024) });
    fakes.state.executor = 'hold';
    // vecadd n=5000: two 20 kB tensors. The big task is held at the executor through the next three
    // steps: on a busy 2-core machine (load average 8) those took over 10 s, so its whole deadline
    // is the longest a task may have, not 10 s.
    const big = client.request(RouterSubmit, { ...vecadd(5_000), timeoutMs: 60_000 }, { timeoutMs: 62_000 });
    await waitFor(() => fakes.state.executeCalls === 1, { what: 'the big task at the executor' });
    const refused = await swarmErrorOf(client.request(RouterSubmit, vecadd(5_000), { timeoutMs: 10_000 }));
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, message: expect.stringMatching(/request bytes in flight/) });
    const small = client.request(RouterSubmit, vecadd(8), { timeoutMs: 10_000 });
    await waitFor(() => fakes.state.executeCalls === 2, { what: 'the small task admitted' });
    fakes.releaseAll();
    await Promise.all([big, small]);
    expect(fakes.calls.filter((c) => c.startsWith('reserve'))).toHaveLength(2);
  }, 90_000);

  it('answers OVERLOADED with a hint, not EXECUTION_FAILED, when the executors stay busy, and refunds', async () => {
    await startRouter();
    fakes.state.executor = 'overloaded';
    const err = await swarmErrorOf(client.request(RouterSubmit, vecadd(8), { timeoutMs: 10_000 }));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_OVERLOADED, retryable: true, message: expect.stringMatching(/executor busy/) });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(fakes.state.executeCalls).toBe(3);
    expect(fakes.calls).toEqual(['reserve 1', 'refund']);
  });

  it('answers UNAVAILABLE naming registry-svc, not NO_PROVIDER, when the registry does not answer', async () => {
    await startRouter();
    fakes.state.registrySilent = true;
    const t0 = Date.now();
    const err = await swarmErrorOf(client.request(RouterSubmit, vecadd(8), { timeoutMs: 15_000 }));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE, retryable: true, message: expect.stringMatching(/registry-svc did not answer within \d+ ms/) });
    // Within the registry's own time limit, not the task's 10 s.
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(fakes.calls).toEqual(['reserve 1', 'refund']);
  });

  it('never reserves a task whose client deadline passed before the router received it', async () => {
    await startRouter();
    const h = headers();
    h.set(DEADLINE_HEADER, String(Date.now() - 1));
    const reply = await clientNc.request(RouterSubmit.subject, SubmitTaskRequest.encode(vecadd(8)).finish(), { timeout: 5_000, headers: h });
    expect(SwarmErrorMessage.decode(reply.data)).toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      message: expect.stringMatching(/arrived \d+ ms after its deadline; nothing was reserved/),
    });
    expect(fakes.calls).toEqual([]);
    // Counted apart from refusals: a flood's silent requests are the ones that came too late.
    const health = await client.request(RouterHealth, {});
    expect(health.details).toMatchObject({ arrivedAfterDeadline: '1', refusedOverloaded: '0' });
  });

  it('refuses millions of empty inputs from their bytes, before decoding them, and serves on', async () => {
    await startRouter();
    // 8 MB of empty Tensors (2 bytes each on the wire): decoding them took the router 13 s and 1.2 GB.
    const flood = Buffer.concat([Buffer.from([0x0a, 6]), Buffer.from('vecadd'), Buffer.alloc(4_000_000 * 2, Buffer.from([0x12, 0]))]);
    const reply = await clientNc.request(RouterSubmit.subject, flood, { timeout: 10_000 });
    expect(SwarmErrorMessage.decode(reply.data)).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      message: expect.stringMatching(/holds at most 16 inputs/) as string,
    });
    await expect(client.request(RouterSubmit, vecadd(8))).resolves.toMatchObject({ cost: 1n, executorId: 'exec-fake' });
    expect(fakes.calls.filter((c) => c.startsWith('reserve'))).toHaveLength(1);
  });

  it('logs a bounded line, and answers a bounded reply, for a 4 MB skill name', async () => {
    const sink = lineSink();
    await startRouter({}, createLogger({ service: 'router-svc', destination: sink.stream }));
    const req = { ...vecadd(8), skill: 's'.repeat(4 * 1024 * 1024) };
    const err = await swarmErrorOf(client.request(RouterSubmit, req, { timeoutMs: 10_000 }));
    expect(err.code).toBe(ErrorCode.ERROR_CODE_UNKNOWN_SKILL);
    expect(err.message.length).toBeLessThan(600);
    await waitFor(() => sink.lines.some((l) => l.msg === 'task failed'), { what: 'the task-failed line' });
    expect(Math.max(...sink.lines.map((l) => l.length))).toBeLessThan(16 * 1024);
    expect(fakes.calls).toEqual([]);
  });
});

import { DEADLINE_HEADER } from '@swarm/bus';
import type { SubmitTaskRequest, SubmitTaskResponse } from '@swarm/contracts';
import { ErrorCode, fromTensor, SwarmError } from '@swarm/contracts';
import { randomUuid, seededRandom, virtualTime } from '@swarm/determinism';
import type { RouterLimits, TaskPorts } from '@swarm/pipeline';
import { createAdmission, createTaskTable, DEFAULT_ROUTER_LIMITS, SETTLE_GRACE_MS } from '@swarm/pipeline';
import { demoInputs, priceOf } from '@swarm/skills';
import { NO_TRACE, silentLogger } from '@swarm/telemetry';
import { headers } from 'nats';
import { loadRouterConfig } from './config';
import { REPLY_MARGIN_MS, submitHandler } from './handlers';
import { nodeTaskAccounts } from './task-accounts';

const START_MS = 1_700_000_000_000;
const TIMEOUT_MS = 2_000;
const NODE = 'node-a';
const config = loadRouterConfig({ SWARM_NATS_URL: 'nats://127.0.0.1:4222', SWARM_DATA_DIR: '/tmp/node' });

/** An executor that takes the task and never answers: only the router's deadline ends the attempt. */
function silentExecutorPorts(calls: string[]): TaskPorts {
  return {
    reserve: async (id, _account, amount, expiresAtMs) => void calls.push(`reserve ${id} ${amount} until ${expiresAtMs}`),
    settle: async () => {
      throw new Error('a task past its deadline must not be settled');
    },
    refund: async (id) => {
      calls.push(`refund ${id}`);
      return { refunded: 1n };
    },
    charge: async (id, _account, amount, payouts) => {
      calls.push(`charge ${id}`);
      const paid = payouts.reduce((sum, p) => sum + p.amount, 0n);
      return { paid, refunded: amount - paid };
    },
    escrow: async () => ({ state: 'none', payer: '', paid: 0n, refunded: 0n, payee: '', expiresAtMs: 0 }),
    findProviders: async () => [{ nodeId: NODE, local: true }],
    // As a bus request does: an abort ends it with a retryable DEADLINE_EXCEEDED.
    execute: (_candidate, _task, signal) =>
      new Promise((_resolve, reject) => {
        calls.push('execute');
        signal.addEventListener('abort', () => reject(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'request aborted: deadline passed', true)), { once: true });
      }),
  };
}

/** These tests follow the escrow path (reserve first) unless they say otherwise. */
const ESCROW_PATH = { ...DEFAULT_ROUTER_LIMITS, foldMaxWork: 0 };

/** The submit handler on virtual time: nothing happens until the test advances it. */
function routerOnVirtualTime(limits: RouterLimits = ESCROW_PATH) {
  const time = virtualTime(START_MS);
  const calls: string[] = [];
  const finished: string[] = [];
  const random = seededRandom(1);
  const taskId = `task-${randomUuid(seededRandom(2))}`;
  const tasks = createTaskTable<SubmitTaskResponse>(
    { retentionMs: config.taskRetentionMs, maxEntries: config.taskTableMax, maxResultBytes: config.taskResultBytes },
    time.stopwatch,
  );
  const handle = submitHandler({
    components: { ports: silentExecutorPorts(calls), clock: time.clock, stopwatch: time.stopwatch, random, sleep: (ms, signal) => time.scheduler.sleep(ms, signal) },
    limits,
    config,
    admission: createAdmission({ maxInFlight: config.maxInFlight, maxInFlightBytes: config.maxInFlightBytes }, random),
    accounts: nodeTaskAccounts(NODE),
    scheduler: time.scheduler,
    newTaskId: () => taskId,
    tasks,
    shutdown: new AbortController().signal,
    onRefused: () => undefined,
    onArrivedLate: () => undefined,
    onAnsweredLate: () => undefined,
    onFinished: (id, _skill, outcome) => finished.push(`${id} ${outcome.ok ? 'ok' : 'failed'}`),
  });
  return { time, calls, finished, tasks, taskId, handle };
}

function vecaddRequest(): SubmitTaskRequest {
  const inputs = demoInputs('vecadd', 8, seededRandom(7));
  return {
    skill: 'vecadd',
    inputs,
    budget: priceOf('vecadd', inputs.map(fromTensor)),
    timeoutMs: TIMEOUT_MS,
    account: '',
    taskId: '',
    idempotencyKey: '',
    redundancy: 0,
    shards: 0,
  };
}

describe('router submit - deadlines on virtual time', () => {
  it('ends a task whose executor never answers at its deadline and refunds its escrow, without real waiting', async () => {
    const r = routerOnVirtualTime();
    const req = vecaddRequest();
    const reply = r.handle(req, { log: silentLogger(), headers: undefined, trace: NO_TRACE });
    const failed = Promise.resolve(reply).catch((err: unknown) => err);
    await r.time.advance(TIMEOUT_MS - 1);
    expect(r.calls).toEqual([`reserve ${r.taskId} ${req.budget} until ${START_MS + TIMEOUT_MS + SETTLE_GRACE_MS}`, 'execute']);
    expect(r.tasks.get(r.taskId)?.state).toBe('running');

    await r.time.advance(1);
    expect(await failed).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED });
    expect(r.calls.slice(2)).toEqual([`refund ${r.taskId}`]);
    expect(r.tasks.get(r.taskId)).toMatchObject({ state: 'refunded', cost: 0n, refunded: req.budget });
    expect(r.finished).toEqual([`${r.taskId} failed`]);
    expect(r.time.pending()).toBe(0);
  });

  it("ends the task REPLY_MARGIN_MS before its client's wall-clock deadline when that comes first, so the answer is heard", async () => {
    const r = routerOnVirtualTime();
    const clientWaits = headers();
    clientWaits.set(DEADLINE_HEADER, String(START_MS + REPLY_MARGIN_MS + 500));
    const failed = Promise.resolve(r.handle(vecaddRequest(), { log: silentLogger(), headers: clientWaits, trace: NO_TRACE })).catch((err: unknown) => err);
    await r.time.advance(499);
    expect(r.calls).toHaveLength(2);
    await r.time.advance(1);
    expect(await failed).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED });
    expect(r.calls.at(-1)).toBe(`refund ${r.taskId}`);
  });

  it('ends a folded task (run before any reserve) whose executor never answers at its deadline, with nothing reserved or charged', async () => {
    const r = routerOnVirtualTime(DEFAULT_ROUTER_LIMITS);
    const failed = Promise.resolve(r.handle(vecaddRequest(), { log: silentLogger(), headers: undefined, trace: NO_TRACE })).catch((err: unknown) => err);
    await r.time.advance(TIMEOUT_MS - 1);
    expect(r.calls).toEqual(['execute']);
    await r.time.advance(1);
    expect(await failed).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED });
    expect(r.calls).toEqual(['execute']);
    expect(r.finished).toEqual([`${r.taskId} failed`]);
    expect(r.time.pending()).toBe(0);
  });

  it('answers at once, running nothing, a request that arrives with less than REPLY_MARGIN_MS of its wait left', async () => {
    const r = routerOnVirtualTime();
    const clientWaits = headers();
    clientWaits.set(DEADLINE_HEADER, String(START_MS + REPLY_MARGIN_MS - 1));
    const err = await Promise.resolve(r.handle(vecaddRequest(), { log: silentLogger(), headers: clientWaits, trace: NO_TRACE })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, message: expect.stringMatching(/too late to run; nothing was reserved/) });
    expect(r.calls).toEqual([]);
  });
});

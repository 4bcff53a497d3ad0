/**
 * Answers that disagree with the router and the ledger, on a real api-svc and bus (fake backends):
 * - a keyed task whose router answer comes after api-svc's own wait gave up (the router settles
 *   keyed tasks past their deadline): GET /v1/tasks/:id says it ended (TASK_STATE_UNKNOWN, an error)
 *   while the router still runs it, and the router then pays it;
 * - a synchronous retry (the same idempotency key, the same task) after api-svc dropped the task's
 *   outputs to stay under its result-bytes bound: answered 200, `replayed`, with no outputs at all,
 *   where the router answers SWARM_TASK_RESULT_GONE and GET answers the status without a result.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBusClient } from '@swarm/bus';
import { loadServiceConfig } from '@swarm/config';
import { ApiAddAgent } from '@swarm/contracts';
import { startNatsServer } from '@swarm/runtime';
import { silentLogger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import type { ApiService } from './service';
import { startApiService } from './service';
import type { FakeBackends } from './test-fixtures/fake-backends';
import { startFakeBackends, TASK_COST } from './test-fixtures/fake-backends';

jest.setTimeout(30_000);

const RESULT_BYTES_BOUND = 64 * 1024;

describe('api-svc - task answers agree with the router and the ledger (helper-178)', () => {
  let stopNats: () => Promise<void>;
  let dir: string;
  let nc: NatsConnection;
  let fake: FakeBackends;
  let api: ApiService;
  let base: string;
  let token: string;

  beforeAll(async () => {
    const server = await startNatsServer();
    stopNats = () => server.stop();
    dir = await mkdtemp(join(tmpdir(), 'swarm-api-routes-atk-'));
    nc = await connect({ servers: server.url });
    fake = await startFakeBackends(nc, 1_000_000n);
    api = await startApiService({
      config: {
        ...loadServiceConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir, SWARM_GRACE_MS: '2000' }),
        http: { listen: { host: '127.0.0.1', port: 0 }, jsonBodyBytes: 1024 * 1024, protobufBodyBytes: 1024 * 1024, ratePerSecond: 100, burst: 100 },
      },
      log: silentLogger(),
      nc,
      nodeId: 'node-test',
      // A small result-bytes bound, so two results of 40 KB go past it.
      taskLimits: { maxHeld: 2_000, maxRunningPerAgent: 64, retentionMs: 600_000, maxResultBytes: RESULT_BYTES_BOUND },
    });
    base = `http://${api.httpAddress}`;
    token = (await createBusClient(nc, silentLogger()).request(ApiAddAgent, { name: 'reader', budget: 100_000n, ttlMs: 0n })).token;
  });
  afterAll(async () => {
    await api?.stop();
    await fake?.stop();
    await nc?.drain();
    await stopNats?.();
    await rm(dir, { recursive: true, force: true });
  });

  const headers = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  const vecadd = (n: number, extra: Record<string, unknown>) =>
    JSON.stringify({
      skill: 'vecadd',
      inputs: [
        { name: 'a', shape: [n], data: Array(n).fill(1) },
        { name: 'b', shape: [n], data: Array(n).fill(2) },
      ],
      budget: '10',
      ...extra,
    });
  const statusOf = async (id: string) => (await (await fetch(`${base}/v1/tasks/${id}`, { headers: headers() })).json()) as { state: string; error?: { code: string } };

  it('does not call a task ended while the router still runs it (and then pays it); its event stream follows it to the end', async () => {
    fake.holdTasks = true;
    const before = fake.balances.get('agent/reader') ?? 0n;
    try {
      const accepted = await fetch(`${base}/v1/tasks?async=true`, { method: 'POST', headers: headers(), body: vecadd(4, { timeoutMs: 1_000, idempotencyKey: 'late-answer-1' }) });
      const { taskId } = (await accepted.json()) as { taskId: string };
      // api-svc waits the task's timeout and SUBMIT_REPLY_SLACK_MS (3 s in all) for the router.
      await new Promise((r) => setTimeout(r, 3_500));
      const duringRun = await statusOf(taskId);
      const events = fetch(`${base}/v1/tasks/${taskId}/events`, { headers: headers() }).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 1_500));
      fake.holdTasks = false;
      fake.release();
      const streamed = await events;
      const afterRun = await statusOf(taskId);
      // The router's word while it runs it: running, not a final state the agent gives up on.
      expect(duringRun.state).toBe('TASK_STATE_RUNNING');
      expect({ state: afterRun.state, charged: before - (fake.balances.get('agent/reader') ?? 0n) }).toEqual({ state: 'TASK_STATE_PAID', charged: TASK_COST });
      expect(streamed).toMatch(/event: done\ndata: \{[^\n]*"state":"TASK_STATE_PAID"/);
      expect(streamed).not.toContain('event: failed');
    } finally {
      fake.holdTasks = false;
      fake.release();
    }
  });

  it("follows a task whose answer api-svc's wait gave up on to its end however slow the router's status answers (helper-179)", async () => {
    fake.holdTasks = true;
    try {
      const accepted = await fetch(`${base}/v1/tasks?async=true`, { method: 'POST', headers: headers(), body: vecadd(4, { timeoutMs: 1_000, idempotencyKey: 'late-busy-1' }) });
      const { taskId } = (await accepted.json()) as { taskId: string };
      await new Promise((r) => setTimeout(r, 3_500));
      // A busy router: its status answers take 2.5 s, past FINAL_STATUS_WAIT_MS.
      fake.statusDelayMs = 2_500;
      const events = fetch(`${base}/v1/tasks/${taskId}/events`, { headers: headers() }).then((r) => r.text());
      const duringRun = await statusOf(taskId);
      await new Promise((r) => setTimeout(r, 3_000));
      fake.statusDelayMs = 0;
      fake.holdTasks = false;
      fake.release();
      const streamed = await events;
      expect(duringRun.state).toBe('TASK_STATE_RUNNING');
      expect((await statusOf(taskId)).state).toBe('TASK_STATE_PAID');
      expect(streamed).toMatch(/event: done\ndata: \{[^\n]*"state":"TASK_STATE_PAID"/);
      expect(streamed).not.toContain('event: failed');
    } finally {
      fake.statusDelayMs = 0;
      fake.holdTasks = false;
      fake.release();
    }
  });

  it('does not answer a retried sync task with an empty result once its outputs were dropped', async () => {
    const n = 10_000; // 40 KB of output: two of them pass the 64 KiB bound
    const first = await fetch(`${base}/v1/tasks`, { method: 'POST', headers: headers(), body: vecadd(n, { idempotencyKey: 'dropped-1' }) });
    const firstBody = (await first.json()) as { outputs: Array<{ data: number[] }> };
    expect([first.status, firstBody.outputs[0]?.data.length]).toEqual([200, n]);
    // A second result pushes the held bytes over the bound: the oldest result's outputs go.
    expect((await fetch(`${base}/v1/tasks`, { method: 'POST', headers: headers(), body: vecadd(n, { idempotencyKey: 'dropped-2' }) })).status).toBe(200);
    // The client lost the first answer and retries with its key: the same task.
    const retry = await fetch(`${base}/v1/tasks`, { method: 'POST', headers: headers(), body: vecadd(n, { idempotencyKey: 'dropped-1' }) });
    const answer = (await retry.json()) as { outputs?: unknown[]; replayed?: boolean; error?: { code: string } };
    // Either the result, or what the router says of a result it no longer holds; never a "verified" answer with no outputs.
    // (The router answers a key it ran by its record, replayed; the fake one here runs it again.)
    if (retry.status === 200) expect(answer.outputs?.length).toBe(1);
    else expect({ status: retry.status, code: answer.error?.code }).toEqual({ status: 409, code: 'SWARM_TASK_RESULT_GONE' });
  });
});

/**
 * Answers that disagree with the router and the ledger, on a real api-svc and bus (fake backends):
 * - a keyed task whose router answer comes after api-svc's own wait gave up (the router settles
 *   keyed tasks past their deadline): GET /v1/tasks/:id says it ended (TASK_STATE_UNKNOWN, an error)
 *   while the router still runs it, and the router then pays it;
 * - a synchronous retry (the same idempotency key, the same task) after api-svc dropped the task's
 *   outputs to stay under its result-bytes bound: answered 200, `replayed`, with no outputs at all,
 *   where the router answers SWARM_TASK_RESULT_GONE and GET answers the status without a result.
 */
import { createBusClient } from '@swarm/bus';
import { ApiAddAgent } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import type { ApiHarness } from './test-fixtures/api-harness';
import { startApiHarness } from './test-fixtures/api-harness';
import { TASK_COST } from './test-fixtures/fake-backends';

jest.setTimeout(30_000);

const RESULT_BYTES_BOUND = 64 * 1024;

describe('api-svc - task answers agree with the router and the ledger (helper-178)', () => {
  let h: ApiHarness;
  let token: string;

  beforeAll(async () => {
    h = await startApiHarness({
      dirPrefix: 'swarm-api-routes-atk-',
      nodeCredit: 1_000_000n,
      http: { jsonBodyBytes: 1024 * 1024, protobufBodyBytes: 1024 * 1024, ratePerSecond: 100, burst: 100 },
      // A small result-bytes bound, so two results of 40 KB go past it.
      taskLimits: { maxHeld: 2_000, maxRunningPerAgent: 64, retentionMs: 600_000, maxResultBytes: RESULT_BYTES_BOUND },
    });
    token = (await createBusClient(h.nc, silentLogger()).request(ApiAddAgent, { name: 'reader', budget: 100_000n, ttlMs: 0n })).token;
  });
  afterAll(() => h?.stop());

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
  const statusOf = async (id: string) => (await (await fetch(`${h.base}/v1/tasks/${id}`, { headers: headers() })).json()) as { state: string; error?: { code: string } };

  it('does not call a task ended while the router still runs it (and then pays it); its event stream follows it to the end', async () => {
    h.fake.holdTasks = true;
    const before = h.fake.balances.get('agent/reader') ?? 0n;
    try {
      const accepted = await fetch(`${h.base}/v1/tasks?async=true`, { method: 'POST', headers: headers(), body: vecadd(4, { timeoutMs: 1_000, idempotencyKey: 'late-answer-1' }) });
      const { taskId } = (await accepted.json()) as { taskId: string };
      // api-svc waits the task's timeout and SUBMIT_REPLY_SLACK_MS (3 s in all) for the router.
      await new Promise((r) => setTimeout(r, 3_500));
      const duringRun = await statusOf(taskId);
      const events = fetch(`${h.base}/v1/tasks/${taskId}/events`, { headers: headers() }).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 1_500));
      h.fake.holdTasks = false;
      h.fake.release();
      const streamed = await events;
      const afterRun = await statusOf(taskId);
      // The router's word while it runs it: running, not a final state the agent gives up on.
      expect(duringRun.state).toBe('TASK_STATE_RUNNING');
      expect({ state: afterRun.state, charged: before - (h.fake.balances.get('agent/reader') ?? 0n) }).toEqual({ state: 'TASK_STATE_PAID', charged: TASK_COST });
      expect(streamed).toMatch(/event: done\ndata: \{[^\n]*"state":"TASK_STATE_PAID"/);
      expect(streamed).not.toContain('event: failed');
    } finally {
      h.fake.holdTasks = false;
      h.fake.release();
    }
  });

  it("follows a task whose answer api-svc's wait gave up on to its end however slow the router's status answers (helper-179)", async () => {
    h.fake.holdTasks = true;
    try {
      const accepted = await fetch(`${h.base}/v1/tasks?async=true`, { method: 'POST', headers: headers(), body: vecadd(4, { timeoutMs: 1_000, idempotencyKey: 'late-busy-1' }) });
      const { taskId } = (await accepted.json()) as { taskId: string };
      await new Promise((r) => setTimeout(r, 3_500));
      // A busy router: its status answers take 2.5 s, past FINAL_STATUS_WAIT_MS.
      h.fake.statusDelayMs = 2_500;
      const events = fetch(`${h.base}/v1/tasks/${taskId}/events`, { headers: headers() }).then((r) => r.text());
      const duringRun = await statusOf(taskId);
      await new Promise((r) => setTimeout(r, 3_000));
      h.fake.statusDelayMs = 0;
      h.fake.holdTasks = false;
      h.fake.release();
      const streamed = await events;
      expect(duringRun.state).toBe('TASK_STATE_RUNNING');
      expect((await statusOf(taskId)).state).toBe('TASK_STATE_PAID');
      expect(streamed).toMatch(/event: done\ndata: \{[^\n]*"state":"TASK_STATE_PAID"/);
      expect(streamed).not.toContain('event: failed');
    } finally {
      h.fake.statusDelayMs = 0;
      h.fake.holdTasks = false;
      h.fake.release();
    }
  });

  it('does not answer a retried sync task with an empty result once its outputs were dropped', async () => {
    const n = 10_000; // 40 KB of output: two of them pass the 64 KiB bound
    const first = await fetch(`${h.base}/v1/tasks`, { method: 'POST', headers: headers(), body: vecadd(n, { idempotencyKey: 'dropped-1' }) });
    const firstBody = (await first.json()) as { outputs: Array<{ data: number[] }> };
    expect([first.status, firstBody.outputs[0]?.data.length]).toEqual([200, n]);
    // A second result pushes the held bytes over the bound: the oldest result's outputs go.
    expect((await fetch(`${h.base}/v1/tasks`, { method: 'POST', headers: headers(), body: vecadd(n, { idempotencyKey: 'dropped-2' }) })).status).toBe(200);
    // The client lost the first answer and retries with its key: the same task.
    const retry = await fetch(`${h.base}/v1/tasks`, { method: 'POST', headers: headers(), body: vecadd(n, { idempotencyKey: 'dropped-1' }) });
    const answer = (await retry.json()) as { outputs?: unknown[]; replayed?: boolean; error?: { code: string } };
    // Either the result, or what the router says of a result it no longer holds; never a "verified" answer with no outputs.
    // (The router answers a key it ran by its record, replayed; the fake one here runs it again.)
    if (retry.status === 200) expect(answer.outputs?.length).toBe(1);
    else expect({ status: retry.status, code: answer.error?.code }).toEqual({ status: 409, code: 'SWARM_TASK_RESULT_GONE' });
  });
});

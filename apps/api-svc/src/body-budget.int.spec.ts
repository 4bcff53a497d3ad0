/**
 * What api-svc holds at once, and when a task's deadline starts (fake backends, a real bus and
 * server): requests past the byte budget are refused at once with OVERLOADED and a retry hint, the
 * budget comes back when answers are sent, and a body that took the task's whole timeout to arrive
 * is answered DEADLINE_EXCEEDED without reaching the router.
 */
import { request as httpRequest } from 'node:http';
import { ApiAddAgent } from '@swarm/contracts';
import { createBusClient } from '@swarm/bus';
import { silentLogger } from '@swarm/telemetry';
import type { ApiHarness } from './test-fixtures/api-harness';
import { startApiHarness } from './test-fixtures/api-harness';

jest.setTimeout(30_000);

/** A vecadd JSON body of about `bytes` bytes (the numbers make up the size). */
function vecaddBody(bytes: number, extra: Record<string, unknown> = {}): string {
  const n = Math.max(1, Math.floor(bytes / 4));
  const ones = Array.from({ length: n }, () => 1);
  return JSON.stringify({
    skill: 'vecadd',
    inputs: [
      { name: 'a', shape: [n], data: ones },
      { name: 'b', shape: [n], data: ones },
    ],
    budget: '10',
    ...extra,
  });
}

describe('api-svc - request bytes held at once, and the deadline from arrival', () => {
  let h: ApiHarness;
  let token: string;

  beforeAll(async () => {
    h = await startApiHarness({
      dirPrefix: 'swarm-api-budget-',
      nodeCredit: 1_000_000n,
      http: { jsonBodyBytes: 256 * 1024, protobufBodyBytes: 256 * 1024, ratePerSecond: 100, burst: 100, bodyBudgetBytes: 64 * 1024 },
    });
    token = (await createBusClient(h.nc, silentLogger()).request(ApiAddAgent, { name: 'heavy', budget: 100_000n, ttlMs: 0n })).token;
  });
  afterAll(() => h?.stop());

  const post = (body: string) => fetch(`${h.base}/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });

  it('refuses a request past the budget at once with OVERLOADED and Retry-After, and takes one again once answers are sent', async () => {
    h.fake.holdTasks = true;
    const before = h.fake.submits.length;
    const body = vecaddBody(20_000);
    // Three bodies of ~20 KB are held while their tasks run; a fourth would pass 64 KiB.
    const held = [post(body), post(body), post(body)];
    const until = Date.now() + 10_000;
    while (h.fake.submits.length < before + 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(h.fake.submits.length).toBe(before + 3);
    const refused = await post(body);
    expect([refused.status, refused.headers.get('retry-after'), ((await refused.json()) as { error: { code: string; retryable: boolean } }).error]).toEqual([
      503,
      '1',
      expect.objectContaining({ code: 'SWARM_OVERLOADED', retryable: true }),
    ]);
    expect(h.fake.submits.length).toBe(before + 3);
    h.fake.holdTasks = false;
    h.fake.release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await post(body)).status).toBe(200);
  });

  it('answers DEADLINE_EXCEEDED, sending nothing, for a body that took the whole timeout to arrive', async () => {
    const before = h.fake.submits.length;
    const body = Buffer.from(vecaddBody(1_000, { timeoutMs: 500 }));
    const url = new URL(`${h.base}/v1/tasks`);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      // Half now, the rest after the task's whole 500 ms timeout.
      req.write(body.subarray(0, body.length / 2));
      setTimeout(() => req.end(body.subarray(body.length / 2)), 800);
    });
    expect([answer.status, (JSON.parse(answer.body) as { error: { code: string } }).error.code]).toEqual([504, 'SWARM_DEADLINE_EXCEEDED']);
    expect(h.fake.submits.length).toBe(before);
  });

  it('sends the router what is left of the timeout, not the whole of it', async () => {
    await post(vecaddBody(100, { timeoutMs: 60_000 }));
    const sent = h.fake.submits.at(-1)?.timeoutMs ?? 0;
    expect(sent).toBeLessThan(60_000);
    expect(sent).toBeGreaterThan(50_000);
  });
});

/**
 * What api-svc holds at once, and when a task's deadline starts (fake backends, a real bus and
 * server): requests past the byte budget are refused at once with OVERLOADED and a retry hint, the
 * budget comes back when answers are sent, and a body that took the task's whole timeout to arrive
 * is answered DEADLINE_EXCEEDED without reaching the router.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { ApiAddAgent } from '@swarm/contracts';
import { createBusClient } from '@swarm/bus';
import { silentLogger } from '@swarm/telemetry';
import type { ApiHarness } from './test-fixtures/api-harness';
import { startApiHarness } from './test-fixtures/api-harness';

jest.setTimeout(30_000);

/** A vecadd JSON body of about `bytes` bytes (the numbers make up the size: `1,` per value, two tensors). */
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
  let tokens: Record<'a' | 'b', string>;

  beforeAll(async () => {
    // Budget 64 KiB; each agent's share is two largest bodies, 32 KiB.
    h = await startApiHarness({
      dirPrefix: 'swarm-api-budget-',
      nodeCredit: 1_000_000n,
      http: { jsonBodyBytes: 16 * 1024, protobufBodyBytes: 16 * 1024, ratePerSecond: 100, burst: 100, bodyBudgetBytes: 64 * 1024 },
    });
    const bus = createBusClient(h.nc, silentLogger());
    tokens = {
      a: (await bus.request(ApiAddAgent, { name: 'heavy-a', budget: 100_000n, ttlMs: 0n })).token,
      b: (await bus.request(ApiAddAgent, { name: 'heavy-b', budget: 100_000n, ttlMs: 0n })).token,
    };
  });
  afterAll(() => h?.stop());

  const post = (agent: 'a' | 'b', body: string, path = '/v1/tasks', method = 'POST') =>
    fetch(`${h.base}${path}`, { method, headers: { authorization: `Bearer ${tokens[agent]}`, 'content-type': 'application/json' }, body });
  const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
  const submitsReach = async (n: number) => {
    const until = Date.now() + 10_000;
    while (h.fake.submits.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(h.fake.submits.length).toBe(n);
  };

  it("refuses past an agent's share and past the budget at once (OVERLOADED, Retry-After), and takes requests again once tasks end", async () => {
    h.fake.holdTasks = true;
    const before = h.fake.submits.length;
    const body = vecaddBody(14_000);
    const held = [post('a', body), post('a', body)];
    await submitsReach(before + 2);
    const overShare = await post('a', body);
    expect([overShare.status, overShare.headers.get('retry-after'), await codeOf(overShare)]).toEqual([
      503,
      '1',
      expect.objectContaining({ code: 'SWARM_OVERLOADED', message: expect.stringMatching(/this agent/) }),
    ]);
    held.push(post('b', body), post('b', body));
    await submitsReach(before + 4);
    const overBudget = await post('b', body);
    expect([overBudget.status, await codeOf(overBudget)]).toEqual([503, expect.objectContaining({ code: 'SWARM_OVERLOADED', message: expect.stringMatching(/this node's API/) })]);
    expect(h.fake.submits.length).toBe(before + 4);
    h.fake.holdTasks = false;
    h.fake.release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await post('a', body)).status).toBe(200);
  });

  it('gives the bytes back when clients leave after sending their bodies, as their tasks end', async () => {
    h.fake.holdTasks = true;
    const before = h.fake.submits.length;
    const body = Buffer.from(vecaddBody(14_000));
    const url = new URL(`${h.base}/v1/tasks`);
    const leaving = [0, 1].map(() => {
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.a}`, 'content-type': 'application/json', 'content-length': body.length },
      });
      req.on('error', () => undefined);
      req.end(body);
      return req;
    });
    await submitsReach(before + 2);
    for (const req of leaving) req.destroy();
    // Gone, but their tasks still run and hold their inputs: a's share is still taken.
    await new Promise((r) => setTimeout(r, 100));
    expect((await post('a', body.toString())).status).toBe(503);
    h.fake.holdTasks = false;
    h.fake.release();
    const until = Date.now() + 5_000;
    let status = 0;
    while (status !== 200 && Date.now() < until) status = (await post('a', body.toString())).status;
    expect(status).toBe(200);
  });

  it('gives back the bytes of a pipelined request whose turn never came when its connection closes', async () => {
    h.fake.holdTasks = true;
    const before = h.fake.submits.length;
    const task = vecaddBody(7_000);
    const quote = JSON.stringify({ skill: 'vecadd', shapes: [{ name: 'a', shape: [1] }], pad: 'x'.repeat(14_000) });
    const head = (path: string, body: string) =>
      `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${tokens.a}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const url = new URL(h.base);
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => undefined);
    // The task is held; the quote behind it on the same connection waits for its turn.
    socket.write(head('/v1/tasks', task) + head('/v1/quote', quote));
    await submitsReach(before + 1);
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    h.fake.holdTasks = false;
    h.fake.release();
    // The task's bytes go back as it ends, the quote's as the connection closed: a's whole share is free.
    const until = Date.now() + 5_000;
    let statuses: number[] = [];
    while (Date.now() < until) {
      statuses = (await Promise.all([post('a', vecaddBody(14_000)), post('a', vecaddBody(14_000))])).map((r) => r.status);
      if (statuses.every((st) => st === 200)) break;
    }
    expect(statuses).toEqual([200, 200]);
  });

  it('counts nothing for a request without a body', async () => {
    h.fake.holdTasks = true;
    const before = h.fake.submits.length;
    const held = [post('a', vecaddBody(14_000)), post('a', vecaddBody(14_000))];
    await submitsReach(before + 2);
    // a's share is taken; a DELETE without a body still gets its own answer (405), not OVERLOADED.
    const res = await fetch(`${h.base}/v1/balance`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens.a}` } });
    expect(res.status).toBe(405);
    h.fake.holdTasks = false;
    h.fake.release();
    await Promise.all(held);
  });

  it('answers a path without the method 405 before reading or counting the body', async () => {
    const res = await post('a', '{ not json', '/v1/tasks', 'PUT');
    expect([res.status, res.headers.get('allow'), (await codeOf(res)).code]).toEqual([405, 'POST', 'SWARM_METHOD_NOT_ALLOWED']);
    // An encoded slash stays inside its segment: /v1/tasks/a%2Fb is a task id there.
    const slash = await post('a', '', '/v1/tasks/a%2Fb', 'DELETE');
    expect([slash.status, slash.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
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
          headers: { authorization: `Bearer ${tokens.b}`, 'content-type': 'application/json', 'content-length': body.length },
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
    await post('b', vecaddBody(100, { timeoutMs: 60_000 }));
    const sent = h.fake.submits.at(-1)?.timeoutMs ?? 0;
    expect(sent).toBeLessThan(60_000);
    expect(sent).toBeGreaterThan(50_000);
  });
});

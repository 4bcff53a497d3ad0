import { connect as connectTcp } from 'node:net';
import { createBusClient } from '@swarm/bus';
import { ApiAddAgent } from '@swarm/contracts';
import { systemTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import { waitFor } from '@swarm/testing';
import type { ApiHarness } from './test-fixtures/api-harness';
import { startApiHarness } from './test-fixtures/api-harness';

jest.setTimeout(20_000);

const HTTP = { jsonBodyBytes: 256 * 1024, protobufBodyBytes: 1024 * 1024, ratePerSecond: 50, burst: 100 };
/** 2,000 floats: an answer of about 50 KiB as JSON, against a rate of 32 KiB/s in bursts of 64 KiB. */
const FLOATS = 2_000;
const LARGE_TASK = {
  skill: 'vecadd',
  inputs: [
    { name: 'a', shape: [FLOATS], data: Array.from({ length: FLOATS }, (_, i) => i / 7) },
    { name: 'b', shape: [FLOATS], data: Array.from({ length: FLOATS }, () => 1 / 3) },
  ],
};
const SMALL_TASK = {
  skill: 'vecadd',
  inputs: [
    { name: 'a', shape: [2], data: [1, 2] },
    { name: 'b', shape: [2], data: [3, 4] },
  ],
};
type ErrorBody = { error: { code: string; message: string; retryAfterMs?: number } };
type Status = { state: string; result?: { outputs: Array<{ data: number[] }> } };
type Status64 = { state: string; result?: { outputs: Array<{ dataBase64: string }> } };

function decodeF32(base64: string | undefined): Float32Array {
  const bytes = Buffer.from(base64 ?? '', 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

async function addAgent(h: ApiHarness, name: string, ttlMs = 0n): Promise<string> {
  return (await createBusClient(h.nc, silentLogger()).request(ApiAddAgent, { name, budget: 100n, ttlMs })).token;
}

describe("api-svc - handing results back costs the agent, not the node's other agents", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ dirPrefix: 'swarm-api-reads-', nodeCredit: 1_000n, http: HTTP, resultReadLimits: { ratePerSecond: 32 * 1024, burst: 64 * 1024 } });
  });
  afterAll(() => h?.stop());

  const call = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${h.base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });

  it('answers each large result once whatever the rate, refuses re-reading one at once (429, Retry-After) while other agents go on, and answers it once the rate allows', async () => {
    const [alice, bob] = [await addAgent(h, 'alice'), await addAgent(h, 'bob')];
    const tasks: Array<{ taskId: string; status: string; events: string }> = [];
    for (let i = 0; i < 4; i++)
      tasks.push((await (await call('/v1/tasks?async=true', alice, { method: 'POST', body: JSON.stringify(LARGE_TASK) })).json()) as (typeof tasks)[number]);
    await waitFor(async () => ((await (await call('/v1/balance', alice)).json()) as { tasks: string }).tasks === '4');
    // Four results of ~50 KiB each, read once each back to back: all answered (the rate's burst is 64 KiB).
    for (const t of tasks) {
      const first = await call(t.status, alice);
      expect(first.status).toBe(200);
      expect(((await first.json()) as Status).result?.outputs[0]?.data).toHaveLength(FLOATS);
    }
    const [task] = tasks;
    const again = await call(task.status, alice);
    const refused = (await again.json()) as ErrorBody;
    expect([again.status, refused.error.code]).toEqual([429, 'SWARM_RATE_LIMITED']);
    expect(refused.error.message).toMatch(/results handed back too often/);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // Another agent is not held back: its calls and its own results are served.
    expect((await call('/v1/balance', bob)).status).toBe(200);
    const small = (await (await call('/v1/tasks', bob, { method: 'POST', body: JSON.stringify(SMALL_TASK) })).json()) as { taskId: string };
    expect((await call(`/v1/tasks/${small.taskId}`, bob)).status).toBe(200);

    // An event stream's last event says it is done, without the result, with when to GET it.
    const events = await (await call(task.events, alice)).text();
    const done = JSON.parse(/^event: done\ndata: (.*)$/m.exec(events)?.[1] ?? '{}') as { result?: unknown; note: string; resultRetryAfterMs?: number };
    expect(done.result).toBeUndefined();
    expect(done.resultRetryAfterMs).toBeGreaterThan(0);
    expect(done.note).toMatch(/result not attached: this agent has its results handed back too often.*GET \/v1\/tasks\/task-/);

    await new Promise((r) => setTimeout(r, (done.resultRetryAfterMs ?? 0) + 200));
    const later = await call(task.status, alice);
    expect(later.status).toBe(200);
    expect(((await later.json()) as Status).result?.outputs[0]?.data).toHaveLength(FLOATS);
  });

  it('answers a status and its event stream with the result as base64 when asked (?encoding=base64), charged as bytes, not as JSON numbers', async () => {
    const erin = await addAgent(h, 'erin');
    const t = (await (await call('/v1/tasks?async=true', erin, { method: 'POST', body: JSON.stringify(LARGE_TASK) })).json()) as { status: string; events: string };
    const done = JSON.parse(/^event: done\ndata: (.*)$/m.exec(await (await call(`${t.events}?encoding=base64`, erin)).text())?.[1] ?? '{}') as Status64;
    const values = decodeF32(done.result?.outputs[0]?.dataBase64);
    expect(values).toHaveLength(FLOATS);
    values.forEach((v, i) => expect(v).toBeCloseTo(i / 7 + 1 / 3, 4));
    // About 11 KiB an answer as base64 against 50 KiB as numbers: four more fit the 64 KiB burst, where
    // one read as numbers would not.
    for (let i = 0; i < 4; i++) {
      const again = await call(`${t.status}?encoding=base64`, erin);
      expect(again.status).toBe(200);
      expect(decodeF32(((await again.json()) as Status64).result?.outputs[0]?.dataBase64)).toEqual(values);
    }
    // As numbers the bucket runs dry at once (the rate refills 32 KiB a second: a slow machine may let one through).
    const asNumbers = [];
    for (let i = 0; i < 3; i++) asNumbers.push((await call(t.status, erin)).status);
    expect(asNumbers).toContain(429);
    // A query the routes do not know is refused, not ignored.
    const odd = await call(`${t.status}?encoding=base64&cache=1`, erin);
    const refusal = ((await odd.json()) as ErrorBody).error;
    expect([odd.status, refusal.code, refusal.message]).toEqual([400, 'SWARM_INVALID_ARGUMENT', 'request does not match the schema: querystring has no property "cache"']);
  });

  it('answers HEAD of a status without building or charging its result, and refuses HEAD of an event stream (405, Allow: GET)', async () => {
    const frank = await addAgent(h, 'frank');
    // Base64: about 11 KiB charged of the 64 KiB burst; each HEAD charged as numbers (50 KiB) would run it dry.
    const done = (await (await call('/v1/tasks?encoding=base64', frank, { method: 'POST', body: JSON.stringify(LARGE_TASK) })).json()) as { taskId: string };
    const path = `/v1/tasks/${done.taskId}`;
    for (let i = 0; i < 3; i++) {
      const head = await call(path, frank, { method: 'HEAD' });
      expect([head.status, await head.text()]).toEqual([200, '']);
    }
    const get = await call(`${path}?encoding=base64`, frank);
    expect(get.status).toBe(200);
    expect(decodeF32(((await get.json()) as Status64).result?.outputs[0]?.dataBase64)).toHaveLength(FLOATS);
    const stream = await call(`${path}/events`, frank, { method: 'HEAD' });
    expect([stream.status, stream.headers.get('allow')]).toEqual([405, 'GET']);
  });

  it('refuses a query parameter on a route that takes none', async () => {
    const gina = await addAgent(h, 'gina');
    for (const [path, method] of [
      ['/v1/balance?x=1', 'GET'],
      ['/v1/skills?verbose', 'GET'],
      ['/v1/peers?x=1', 'GET'],
      ['/v1/quote?x=1', 'POST'],
    ] as const) {
      const res = await call(path, gina, {
        method,
        ...(method === 'POST'
          ? {
              body: JSON.stringify({
                skill: 'vecadd',
                shapes: [
                  { name: 'a', shape: [2] },
                  { name: 'b', shape: [2] },
                ],
              }),
            }
          : {}),
      });
      const refusal = ((await res.json()) as ErrorBody).error;
      expect([path, res.status, refusal.code, refusal.message]).toEqual([
        path,
        400,
        'SWARM_INVALID_ARGUMENT',
        expect.stringMatching(/^request does not match the schema: querystring has no property "(x|verbose)"$/),
      ]);
    }
    expect((await call('/v1/balance', gina)).status).toBe(200);
  });

  it("carries the result in an event stream's last event even when the router's status comes late (the node busy)", async () => {
    const dave = await addAgent(h, 'dave');
    h.fake.statusDelayMs = 2_500; // past the stream's wait for the router's word (FINAL_STATUS_WAIT_MS)
    try {
      const accepted = (await (await call('/v1/tasks?async=true', dave, { method: 'POST', body: JSON.stringify(SMALL_TASK) })).json()) as { events: string };
      const events = await (await call(accepted.events, dave)).text();
      const done = JSON.parse(/^event: done\ndata: (.*)$/m.exec(events)?.[1] ?? '{}') as Status;
      expect(done.result?.outputs[0]?.data).toEqual([4, 6]);
    } finally {
      h.fake.statusDelayMs = 0;
    }
  });

  it('answers a synchronous task, and refuses its retry with the same key at once past the rate (the result was handed over)', async () => {
    const carol = await addAgent(h, 'carol');
    const body = JSON.stringify({ ...LARGE_TASK, idempotencyKey: 'carol-once' });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await call('/v1/tasks', carol, { method: 'POST', body }));
    expect(results[0].status).toBe(200);
    expect(((await results[0].json()) as { outputs: unknown[] }).outputs).toHaveLength(1);
    // The second retry finds the bucket spent by the answer and the first retry.
    const codes = await Promise.all(results.slice(1).map(async (r) => [r.status, ((await r.json()) as Partial<ErrorBody>).error?.code ?? 'ok']));
    expect(codes).toContainEqual([429, 'SWARM_RATE_LIMITED']);
    expect(h.fake.submits.filter((s) => s.account === 'agent/carol')).toHaveLength(1);
  });
});

describe('api-svc - a token that expires while its request body is on the way', () => {
  let h: ApiHarness;
  /** How far api-svc's wall clock runs ahead of the real one. */
  let aheadMs = 0;
  beforeAll(async () => {
    const time = { ...systemTime, clock: { now: () => Date.now() + aheadMs } };
    h = await startApiHarness({ dirPrefix: 'swarm-api-expiry-', nodeCredit: 1_000n, http: HTTP, time });
  });
  afterAll(() => h?.stop());

  it('does not run the task: the token is checked again once the body is in (401), nothing submitted', async () => {
    const token = await addAgent(h, 'brief', 60_000n);
    const body = JSON.stringify({
      skill: 'vecadd',
      inputs: [
        { name: 'a', shape: [1], data: [1] },
        { name: 'b', shape: [1], data: [2] },
      ],
    });
    const submitted = h.fake.submits.length;
    const port = Number(new URL(h.base).port);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connectTcp(port, '127.0.0.1', () => {
        socket.write(
          `POST /v1/tasks HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`,
        );
        // The headers were checked with the token still valid; the body comes after its expiry.
        setTimeout(() => {
          aheadMs = 61_000;
          socket.end(body);
        }, 300);
      });
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toContain('SWARM_UNAUTHENTICATED');
    expect(answer).toContain('this agent token expired');
    expect(h.fake.submits.length).toBe(submitted);
  });
});

import { gzipSync } from 'node:zlib';
import { connect as connectTcp } from 'node:net';
import { createBusClient } from '@swarm/bus';
import { ApiAddAgent, ApiListAgents, ApiRevokeAgent, ErrorCode, SubmitTaskRequest, SubmitTaskResponse, SwarmErrorMessage, toTensor } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import { swarmErrorOf, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { keyedTaskId } from '@swarm/pipeline';
import { fundTransferId } from './agent-rules';
import type { FakeBackends } from './test-fixtures/fake-backends';
import type { ApiHarness } from './test-fixtures/api-harness';
import { startApiHarness } from './test-fixtures/api-harness';
import { NODE_ACCOUNT, TASK_COST } from './test-fixtures/fake-backends';

jest.setTimeout(20_000);

const NODE_CREDIT = 1_000n;
const RATE = { ratePerSecond: 20, burst: 40 };
const JSON_LIMIT = 64 * 1024;

describe('api-svc - agents over the bus and HTTP (fake backends)', () => {
  let h: ApiHarness;
  let nc: NatsConnection;
  let fake: FakeBackends;
  let base: string;
  const bus = () => createBusClient(nc, silentLogger());

  beforeAll(async () => {
    h = await startApiHarness({
      dirPrefix: 'swarm-api-',
      nodeCredit: NODE_CREDIT,
      http: { jsonBodyBytes: JSON_LIMIT, protobufBodyBytes: 8 * 1024 * 1024, ...RATE },
    });
    ({ nc, fake, base } = h);
  });
  afterAll(() => h?.stop());

  const addAgent = async (name: string, budget: bigint, ttlMs = 0n) => bus().request(ApiAddAgent, { name, budget, ttlMs });
  const get = (path: string, token: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  const post = (path: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const vecadd = {
    skill: 'vecadd',
    inputs: [
      { name: 'a', shape: [3], data: [1, 2, 3] },
      { name: 'b', shape: [3], data: [10, 20, 30] },
    ],
  };
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; retryable: boolean; retryAfterMs?: number } }).error;

  describe('operator commands on the bus', () => {
    it('adds an agent funded from the node, shows its token once, lists it', async () => {
      const res = await addAgent('alpha', 100n);
      expect(res.token).toMatch(/^swt_[A-Za-z0-9_-]{43}$/);
      expect(res.agent).toMatchObject({ name: 'alpha', account: 'agent/alpha', budget: 100n, available: 100n, revoked: false, expiresAtMs: 0n });
      expect(fake.balances.get(NODE_ACCOUNT)).toBe(NODE_CREDIT - 100n);
      const list = await bus().request(ApiListAgents, {});
      expect(list.agents.find((a) => a.name === 'alpha')).toMatchObject({ available: 100n, spent: 0n, tasks: 0n });
      expect(JSON.stringify(list, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(res.token);
    });

    it('refuses a taken name, a bad name and more than the node has, and keeps no record of a failed add', async () => {
      expect((await swarmErrorOf(addAgent('alpha', 1n))).message).toMatch(/exists/);
      expect((await swarmErrorOf(addAgent('Not OK', 1n))).code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
      expect((await swarmErrorOf(addAgent('greedy', 1_000_000n))).code).toBe(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT);
      expect((await bus().request(ApiListAgents, {})).agents.map((a) => a.name)).not.toContain('greedy');
    });

    it('funds an interrupted add once when it is retried', async () => {
      fake.hangFunds = true;
      const first = await swarmErrorOf(bus().request(ApiAddAgent, { name: 'retry', budget: 7n, ttlMs: 0n }, { timeoutMs: 300 }));
      expect(first.code).toBe(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
      fake.hangFunds = false;
      // The hung request holds the admin queue until api-svc's own fund call times out (the bus's
      // 5 s); the retry queues behind it and is served next. One retry, waited for long enough: a
      // retry given up on while queued would still fund the agent, and every later one would find
      // it funded ("exists"), as it did on a machine busy with the multi-node suites beside this one.
      // The wait is a bound for such a machine, not a speed.
      const second = await bus().request(ApiAddAgent, { name: 'retry', budget: 7n, ttlMs: 0n }, { timeoutMs: 45_000 });
      expect(second.agent?.available).toBe(7n);
      expect([...fake.transfers.keys()].filter((id) => id.startsWith('fund.retry.'))).toEqual([fundTransferId({ name: 'retry', createdAtMs: Number(second.agent?.createdAtMs) })]);
    }, 60_000);

    it('answers malformed requests with MALFORMED_MESSAGE', async () => {
      const reply = await nc.request(ApiAddAgent.subject, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), { timeout: 2_000 });
      expect(SwarmErrorMessage.decode(reply.data).code).toBe(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
    });
  });

  describe('HTTP API', () => {
    let token: string;
    beforeAll(async () => {
      token = (await addAgent('worker', 50n)).token;
    });

    it('lists skills with shapes, prices and verification bounds; quotes; peers', async () => {
      const skills = (await (await get('/v1/skills', token)).json()) as { skills: Array<{ name: string; inputs: unknown; verificationBound: string; pricePerMwork: string }> };
      expect(skills.skills.find((s) => s.name === 'matmul')).toMatchObject({
        inputs: [
          { name: 'a', shape: ['n', 'k'] },
          { name: 'b', shape: ['k', 'm'] },
        ],
        pricePerMwork: expect.stringMatching(/^\d+$/),
      });
      const quote = await post('/v1/quote', token, {
        skill: 'vecadd',
        shapes: [
          { name: 'a', shape: [3] },
          { name: 'b', shape: [3] },
        ],
      });
      expect(quote.status).toBe(200);
      expect(await quote.json()).toMatchObject({ skill: 'vecadd', price: '1' });
      expect(await (await get('/v1/peers', token)).json()).toEqual({ peers: [{ nodeId: 'ab'.repeat(32), address: '127.0.0.1:9', rttMs: 1.5, lastSeenMs: '42' }] });
    });

    it('runs a task synchronously from the agent account and counts it', async () => {
      const res = await post('/v1/tasks', token, { ...vecadd, budget: 5 });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { taskId: string; outputs: unknown; cost: string; account: string };
      expect(body).toMatchObject({ outputs: [{ name: 'c', shape: [3], data: [11, 22, 33] }], cost: String(TASK_COST), account: 'agent/worker' });
      expect(fake.submits.at(-1)).toMatchObject({ account: 'agent/worker', budget: 5n });
      const balance = await (await get('/v1/balance', token)).json();
      expect(balance).toEqual({ account: 'agent/worker', available: String(50n - TASK_COST), escrowed: '0', budget: '50', spent: String(TASK_COST), tasks: '1' });
    });

    it('takes a protobuf body and answers protobuf when asked, ignoring the account sent', async () => {
      const req = SubmitTaskRequest.fromPartial({
        skill: 'vecadd',
        inputs: [toTensor('a', [2], new Float32Array([1, 2])), toTensor('b', [2], new Float32Array([3, 4]))],
        budget: 4n,
        account: NODE_ACCOUNT,
      });
      const res = await fetch(`${base}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf', accept: 'application/x-protobuf' },
        body: SubmitTaskRequest.encode(req).finish(),
      });
      expect(res.status).toBe(200);
      const out = SubmitTaskResponse.decode(new Uint8Array(await res.arrayBuffer()));
      expect(out.account).toBe('agent/worker');
      expect(fake.submits.at(-1)?.account).toBe('agent/worker');
      const bad = await fetch(`${base}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' },
        body: new Uint8Array([0x0a, 0xff, 0xff]),
      });
      expect([bad.status, (await errorOf(bad)).code]).toEqual([400, 'SWARM_MALFORMED_MESSAGE']);
      // Millions of empty inputs (2 bytes each on the wire, ~100 of heap decoded): refused from the wire, before any decoding.
      const submitsBefore = fake.submits.length;
      const emptyInputs = Buffer.concat([Buffer.from([0x0a, 6]), Buffer.from('vecadd'), Buffer.alloc(2_000_000 * 2, Buffer.from([0x12, 0]))]);
      const flood = await fetch(`${base}/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' }, body: emptyInputs });
      expect([flood.status, (await errorOf(flood)).message]).toEqual([400, expect.stringMatching(/a swarm.v1.SubmitTaskRequest holds at most 16 inputs/)]);
      expect(fake.submits.length).toBe(submitsBefore);
      // Deep JSON (8 MB of it held V8's parse for seconds): refused before it is parsed, on the task route and on MCP.
      const deep = `${'['.repeat(JSON_LIMIT / 4)}${']'.repeat(JSON_LIMIT / 4)}`;
      for (const path of ['/v1/tasks', '/mcp']) {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: deep,
        });
        expect([path, res.status, (await errorOf(res)).code]).toEqual([path, 400, 'SWARM_MALFORMED_MESSAGE']);
      }
      expect(fake.submits.length).toBe(submitsBefore);
    });

    it('runs a task asynchronously: 202, status, events', async () => {
      fake.holdTasks = true;
      const res = await post('/v1/tasks?async=true', token, { ...vecadd, idempotencyKey: 'async-1' });
      expect(res.status).toBe(202);
      const accepted = (await res.json()) as { taskId: string; status: string; events: string };
      expect(accepted.status).toBe(`/v1/tasks/${accepted.taskId}`);
      const running = (await (await get(accepted.status, token)).json()) as { state: string };
      expect(running.state).toBe('TASK_STATE_RUNNING');
      const events = await get(accepted.events, token);
      expect(events.headers.get('content-type')).toMatch(/text\/event-stream/);
      fake.holdTasks = false;
      fake.release();
      const text = await events.text();
      expect([...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1])).toEqual(['accepted', 'running', 'done']);
      expect(text).toContain('"data":[11,22,33]');
      const done = (await (await get(accepted.status, token)).json()) as { state: string; result: { outputs: unknown } };
      expect(done).toMatchObject({ state: 'TASK_STATE_PAID', result: { outputs: [{ name: 'c', data: [11, 22, 33] }] } });
      // The same key again is the same task: its held result answers, nothing reaches the router.
      const submits = fake.submits.length;
      const again = await post('/v1/tasks', token, { ...vecadd, idempotencyKey: 'async-1' });
      expect(await again.json()).toMatchObject({ taskId: accepted.taskId, outputs: [{ data: [11, 22, 33] }], replayed: true });
      // The key again for another task is refused, as the router refuses it: never another task's result.
      const other = await post('/v1/tasks', token, { ...vecadd, inputs: [{ name: 'a', shape: [3], data: [9, 9, 9] }, vecadd.inputs[1]], idempotencyKey: 'async-1' });
      expect([other.status, (await errorOf(other)).message]).toEqual([400, expect.stringMatching(/already used for a different task/)]);
      expect(fake.submits.length).toBe(submits);
    });

    it("answers 404 for another agent's task", async () => {
      const other = (await addAgent('other', 5n)).token;
      const { taskId } = (await (await post('/v1/tasks', token, vecadd)).json()) as { taskId: string };
      const res = await get(`/v1/tasks/${taskId}`, other);
      expect([res.status, (await errorOf(res)).code]).toEqual([404, 'SWARM_TASK_UNKNOWN']);
    });

    it('refuses invalid JSON, a wrong schema and an oversized body with clear errors', async () => {
      const broken = await post('/v1/tasks', token, '{"skill": "vecadd", ');
      expect([broken.status, (await errorOf(broken)).code]).toEqual([400, 'SWARM_MALFORMED_MESSAGE']);
      // Valid JSON with a key no parser here takes is told so, not called invalid.
      for (const body of ['{"skill":"vecadd","__proto__":{"budget":1}}', '{"skill":"vecadd","constructor":{"prototype":{"budget":1}}}']) {
        const proto = await post('/v1/tasks', token, body);
        expect([proto.status, await errorOf(proto)]).toEqual([
          400,
          expect.objectContaining({ code: 'SWARM_INVALID_ARGUMENT', message: expect.stringContaining('"__proto__" key') }),
        ]);
      }
      const extra = await post('/v1/tasks', token, { ...vecadd, account: 'node' });
      expect([extra.status, await errorOf(extra)]).toEqual([400, expect.objectContaining({ code: 'SWARM_INVALID_ARGUMENT', message: expect.stringMatching(/schema/) })]);
      // The schema holds whatever the media type's parameters say.
      const charset = await post('/v1/tasks', token, { ...vecadd, account: 'node' }, { 'content-type': 'application/json; charset=utf-8' });
      expect([charset.status, (await errorOf(charset)).code]).toEqual([400, 'SWARM_INVALID_ARGUMENT']);
      const text = await post('/v1/tasks', token, vecadd, { 'content-type': 'text/plain' });
      expect([text.status, (await errorOf(text)).message]).toEqual([400, expect.stringMatching(/Content-Type/)]);
      // A compressed body is refused for what it is, not read as broken JSON; identity is no compression.
      const gzipped = await fetch(`${base}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(JSON.stringify(vecadd)),
      });
      expect([gzipped.status, await errorOf(gzipped)]).toEqual([
        400,
        expect.objectContaining({ code: 'SWARM_INVALID_ARGUMENT', message: expect.stringMatching(/Content-Encoding "gzip" is not taken/) }),
      ]);
      const identity = await post(
        '/v1/quote',
        token,
        {
          skill: 'vecadd',
          shapes: [
            { name: 'a', shape: [3] },
            { name: 'b', shape: [3] },
          ],
        },
        { 'content-encoding': 'identity' },
      );
      expect(identity.status).toBe(200);
      const wrongType = await post('/v1/quote', token, { skill: 'vecadd', shapes: 'a' });
      expect(wrongType.status).toBe(400);
      const shape = await post('/v1/tasks', token, { skill: 'vecadd', inputs: [{ name: 'a', shape: [4], data: [1] }] });
      expect((await errorOf(shape)).message).toMatch(/1 values but shape \[4\] needs 4/);
      const huge = await post('/v1/tasks', token, { ...vecadd, pad: 'x'.repeat(JSON_LIMIT) });
      const hugeError = await errorOf(huge);
      expect([huge.status, hugeError.code]).toEqual([413, 'SWARM_PAYLOAD_TOO_LARGE']);
      expect(JSON.stringify(hugeError)).not.toContain('xxxx');
      const nowhere = await get('/v2/nothing', token);
      expect([nowhere.status, (await errorOf(nowhere)).code]).toEqual([404, 'SWARM_NOT_FOUND']);
      // A path that exists, asked with a method it does not take: 405 with what it takes.
      for (const [method, path, allow] of [
        ['DELETE', '/v1/balance', 'GET, HEAD'],
        ['PUT', '/v1/tasks', 'POST'],
        ['POST', '/v1/tasks/t-1/events', 'GET'],
        ['DELETE', '/%761/balance', 'GET, HEAD'],
      ]) {
        const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
        expect({ method, path, status: res.status, allow: res.headers.get('allow'), code: (await errorOf(res)).code }).toEqual({
          method,
          path,
          status: 405,
          allow,
          code: 'SWARM_METHOD_NOT_ALLOWED',
        });
      }
      const anonymous = await fetch(`${base}/v1/balance`, { method: 'DELETE' });
      expect(anonymous.status).toBe(401);
    });

    it('refuses a wrong or missing token with 401 and never reads its body', async () => {
      for (const auth of [undefined, 'Bearer swt_wrong', `Bearer swt_${'A'.repeat(43)}`, `Basic ${token}`]) {
        const res = await fetch(`${base}/v1/balance`, { headers: auth ? { authorization: auth } : {} });
        expect([res.status, (await errorOf(res)).code]).toEqual([401, 'SWARM_UNAUTHENTICATED']);
      }
      const before = fake.submits.length;
      const res = await post('/v1/tasks', `swt_${'B'.repeat(43)}`, vecadd);
      expect(res.status).toBe(401);
      expect(fake.submits.length).toBe(before);
      // Two Authorization headers (fetch would join them; node's client sends both lines).
      const other = (await addAgent('second-token', 1n)).token;
      const twice = await new Promise<string>((resolve, reject) => {
        const socket = connectTcp(Number(new URL(base).port), '127.0.0.1', () =>
          socket.end(`GET /v1/balance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${other}\r\nConnection: close\r\n\r\n`),
        );
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(twice).toMatch(/^HTTP\/1\.1 401 [^]*SWARM_UNAUTHENTICATED.*more than one Authorization header/);
    });

    it('authenticates a percent-encoded path like the plain one, before its body is read', async () => {
      const before = fake.submits.length;
      // `%76` is `v`, `%6D` is `m`: the router decodes them, so they reach /v1/tasks and /mcp.
      const raw = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init);
      const unparsable = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"skill": ' };
      for (const path of ['/%761/tasks', '/v%31/tasks', '/%6Dcp', '/%6d%63%70']) {
        const res = await raw(path, unparsable);
        expect({ path, status: res.status, code: (await errorOf(res)).code }).toEqual({ path, status: 401, code: 'SWARM_UNAUTHENTICATED' });
      }
      const anonymous = await raw('/%761/balance');
      expect([anonymous.status, (await errorOf(anonymous)).code]).toEqual([401, 'SWARM_UNAUTHENTICATED']);
      // An unknown path is an agent's 404 only: anyone else learns nothing of the routes.
      expect((await raw('/v2/nothing')).status).toBe(401);
      expect((await get('/%761/balance', token)).status).toBe(200);
      expect(fake.submits.length).toBe(before);
    });

    it("answers the router's own refusals in the SWARM_ shape without echoing the URL", async () => {
      const long = 'x'.repeat(150);
      for (const path of [`/v1/tasks/${long}`, `/v1/tasks/${long}/events`, '/v1/tasks/%zz', `/%zz${long}`]) {
        for (const auth of [token, 'swt_wrong']) {
          const res = await get(path, auth);
          const text = await res.text();
          expect({ path, status: res.status, body: JSON.parse(text) as unknown }).toEqual({
            path,
            status: 400,
            body: { error: { code: 'SWARM_INVALID_ARGUMENT', message: expect.any(String) as string, retryable: false } },
          });
          expect(text).not.toContain('xxxxxxxxxx');
          expect(text).not.toContain('%zz');
        }
      }
    });

    it('answers malformed HTTP, and an HTTP/1.1 request without Host, in the SWARM_ shape', async () => {
      const raw = (request: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connectTcp(Number(new URL(base).port), '127.0.0.1', () => socket.end(request));
          let text = '';
          socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
          socket.on('close', () => resolve(text));
          socket.on('error', reject);
        });
      const answer = await raw('GARBAGE\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
        error: { code: 'SWARM_MALFORMED_MESSAGE', message: expect.any(String) as string, retryable: false },
      });
      const hostless = await raw(`GET /v1/balance HTTP/1.1\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
      expect(hostless).toMatch(/^HTTP\/1\.1 400 /);
      expect(hostless).toMatch(/"code":"SWARM_MALFORMED_MESSAGE","message":"an HTTP\/1\.1 request must carry a Host header/);
      // Bytes after a request that asked to close the connection (sent without closing its side): that request is answered, the rest ignored.
      const request = `GET /v1/balance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;
      const pipelined = await new Promise<string>((resolve, reject) => {
        const socket = connectTcp(Number(new URL(base).port), '127.0.0.1', () => socket.write(request + request));
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(pipelined).toMatch(/^HTTP\/1\.1 200 /);
      expect(pipelined.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    });

    it('answers GET and DELETE /mcp with 405 whatever the content type, and 401 without a token', async () => {
      for (const method of ['GET', 'DELETE']) {
        const contentTypes: Array<Record<string, string>> = [
          {},
          { 'content-type': 'application/json' },
          { 'content-type': 'text/plain' },
          { 'content-type': 'application/x-protobuf' },
        ];
        for (const headers of contentTypes) {
          const res = await get('/mcp', token, { method, headers });
          expect({ method, headers, status: res.status, allow: res.headers.get('allow') }).toEqual({ method, headers, status: 405, allow: 'POST' });
          expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
        }
        const anonymous = await fetch(`${base}/mcp`, { method, headers: { 'content-type': 'application/json' } });
        expect([method, anonymous.status]).toEqual([method, 401]);
      }
    });

    it('refuses a spent budget with the router’s INSUFFICIENT_CREDIT', async () => {
      // An agent of its own: the shared token's requests of the tests before may have spent its rate (a 429 then, not this).
      const poor = (await addAgent('poor', 5n)).token;
      const res = await post('/v1/tasks', poor, { ...vecadd, budget: 1_000 });
      expect([res.status, await errorOf(res)]).toEqual([400, expect.objectContaining({ code: 'SWARM_INSUFFICIENT_CREDIT', retryable: false })]);
    });

    it('rate-limits a flood from one token with 429 and Retry-After, and serves others meanwhile', async () => {
      const flooder = (await addAgent('flooder', 5n)).token;
      const started = performance.now();
      const statuses = await Promise.all(
        Array.from({ length: 300 }, () => get('/v1/balance', flooder).then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: await r.json() }))),
      );
      const floodSeconds = (performance.now() - started) / 1000;
      const limited = statuses.filter((s) => s.status === 429);
      // The burst, and what refills while the flood arrives (longer on a busy machine).
      expect(statuses.filter((s) => s.status === 200).length).toBeLessThanOrEqual(RATE.burst + Math.ceil(RATE.ratePerSecond * floodSeconds) + 1);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0]).toMatchObject({
        retry: expect.stringMatching(/^\d+$/),
        body: { error: { code: 'SWARM_RATE_LIMITED', retryable: true, retryAfterMs: expect.any(Number) } },
      });
      expect((await get('/v1/balance', token)).status).toBe(200);
    });

    it('revokes at once: the next request is 401 and the unspent credit returns', async () => {
      const doomed = await addAgent('doomed', 20n);
      expect((await get('/v1/balance', doomed.token)).status).toBe(200);
      const nodeBefore = fake.balances.get(NODE_ACCOUNT) ?? 0n;
      const revoked = await bus().request(ApiRevokeAgent, { name: 'doomed' });
      expect(revoked).toMatchObject({ returned: 20n, agent: { revoked: true, available: 0n } });
      expect(fake.balances.get(NODE_ACCOUNT)).toBe(nodeBefore + 20n);
      // The defund closed the account: what its escrows return later goes to the node.
      expect(fake.closed.has('agent/doomed')).toBe(true);
      const res = await get('/v1/balance', doomed.token);
      expect([res.status, (await errorOf(res)).message]).toEqual([401, 'this agent token was revoked']);
      expect((await swarmErrorOf(addAgent('doomed', 1n))).message).toMatch(/revoked/);
    });

    it('finishes a task whose client disconnected: counted, result kept, server still serving', async () => {
      const before = (await (await get('/v1/balance', token)).json()) as { tasks: string; spent: string };
      fake.holdTasks = true;
      const abort = new AbortController();
      const taskId = keyedTaskId('agent/worker', 'gone-1');
      const gone = fetch(`${base}/v1/tasks`, {
        signal: abort.signal,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...vecadd, budget: 5, idempotencyKey: 'gone-1' }),
      });
      await waitFor(() => fake.submits.some((s) => s.taskId === taskId));
      abort.abort();
      await expect(gone).rejects.toThrow();
      fake.holdTasks = false;
      fake.release();
      const after = await waitFor(async () => {
        const b = (await (await get('/v1/balance', token)).json()) as { tasks: string; spent: string };
        return Number(b.tasks) > Number(before.tasks) ? b : undefined;
      });
      expect(BigInt(after.spent)).toBe(BigInt(before.spent) + TASK_COST);
      expect(await (await get(`/v1/tasks/${taskId}`, token)).json()).toMatchObject({ state: 'TASK_STATE_PAID', result: { outputs: [{ data: [11, 22, 33] }] } });
    });

    it('serves the OpenAPI document without a token', async () => {
      const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
      expect(doc.openapi).toBe('3.0.3');
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/v1/skills', '/v1/quote', '/v1/tasks', '/v1/tasks/{id}', '/v1/tasks/{id}/events', '/v1/balance', '/v1/peers']),
      );
    });
  });

  it('keeps agents and counters across a restart', async () => {
    const list = await bus().request(ApiListAgents, {});
    await h.restart();
    base = h.base;
    expect((await bus().request(ApiListAgents, {})).agents).toEqual(list.agents);
  });
});

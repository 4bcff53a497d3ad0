import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, isSwarmError, SubmitTaskRequest } from '@swarm/contracts';
import type { SilentServer } from '@swarm/testing';
import { startSilentServer, swarmErrorOf } from '@swarm/testing';
import type { TaskEvent } from './agent-api-types';
import { createAgentClient, JSON_BODY_MAX_VALUES, SUBMIT_ANSWER_SLACK_MS } from './agent-client';
import { AgentApiError } from './api-error';

const TOKEN = `swt_${'a'.repeat(43)}`;
const f32 = (values: number[]) => Buffer.from(Float32Array.from(values).buffer).toString('base64');
const RESULT = {
  taskId: 'task-1',
  outputs: [{ name: 'c', shape: [2], dataBase64: f32([4, 6]) }],
  cost: '3',
  refunded: '0',
  account: 'agent/a',
  providerId: 'node-1',
  executorId: 'ex-1',
  backend: 'cpu',
  verification: 'recompute: exact',
  attempts: 1,
  settlement: 'TASK_STATE_PAID',
  settlementNote: '',
  timing: { escrowMs: 1, executeMs: 2, verifyMs: 1, settleMs: 1, totalMs: 5 },
};
const status = (over: Record<string, unknown>) => ({
  taskId: 'task-1',
  state: 'TASK_STATE_PAID',
  cost: '3',
  refunded: '0',
  providerId: 'node-1',
  source: 'api',
  attempts: 1,
  note: '',
  ...over,
});

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

/** A stand-in for api-svc on loopback: each test sets the routes it needs. */
describe('agent client - the SDK over HTTP', () => {
  let server: Server;
  let base: string;
  let routes: Record<string, Handler>;
  const seen: Array<{ method: string; url: string; auth: string; type: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization ?? '', type: req.headers['content-type'] ?? '' });
        const handler = routes[`${req.method} ${req.url}`];
        if (handler) return handler(req, Buffer.concat(chunks), res);
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"SWARM_NOT_FOUND","message":"no such route","retryable":false}}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    routes = {};
    seen.length = 0;
  });

  const json = (res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(code, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  const client = () => createAgentClient({ baseUrl: `${base}/`, token: TOKEN, newKey: () => 'key-1' });

  it('sends the bearer token and types the answers (credits as bigint)', async () => {
    routes['GET /v1/balance'] = (_q, _b, res) => json(res, 200, { account: 'agent/a', available: '97', escrowed: '0', budget: '100', spent: '3', tasks: '1' });
    expect(await client().balance()).toEqual({ account: 'agent/a', available: 97n, escrowed: 0n, budget: 100n, spent: 3n, tasks: 1n });
    expect(seen[0]).toMatchObject({ url: '/v1/balance', auth: `Bearer ${TOKEN}` });
  });

  it('submits base64 JSON with an idempotency key and decodes the outputs', async () => {
    let sent: Record<string, unknown> = {};
    routes['POST /v1/tasks?encoding=base64'] = (_q, body, res) => {
      sent = JSON.parse(body.toString()) as Record<string, unknown>;
      json(res, 200, RESULT);
    };
    const r = await client().submit({
      skill: 'vecadd',
      inputs: [
        { name: 'a', shape: [2], data: [1, 2] },
        { name: 'b', shape: [2], data: Float32Array.of(3, 4) },
      ],
      budget: 5n,
    });
    expect(sent).toEqual({
      skill: 'vecadd',
      inputs: [
        { name: 'a', shape: [2], dataBase64: f32([1, 2]) },
        { name: 'b', shape: [2], dataBase64: f32([3, 4]) },
      ],
      budget: '5',
      idempotencyKey: 'key-1',
    });
    expect(r).toMatchObject({ taskId: 'task-1', cost: 3n, providerId: 'node-1', verification: 'recompute: exact' });
    expect(Array.from(r.outputs[0]?.data ?? [])).toEqual([4, 6]);
  });

  it('sends inputs too large for a JSON body as a protobuf SubmitTaskRequest', async () => {
    let decoded: SubmitTaskRequest | undefined;
    routes['POST /v1/tasks?encoding=base64'] = (_q, body, res) => {
      decoded = SubmitTaskRequest.decode(body);
      json(res, 200, RESULT);
    };
    const n = JSON_BODY_MAX_VALUES / 2 + 1;
    await client().submit({
      skill: 'vecadd',
      inputs: [
        { name: 'a', shape: [n], data: new Float32Array(n) },
        { name: 'b', shape: [n], data: new Float32Array(n).fill(1) },
      ],
    });
    expect(seen[0]?.type).toBe('application/x-protobuf');
    expect(decoded).toMatchObject({ skill: 'vecadd', idempotencyKey: 'key-1', budget: 0n });
    expect(decoded?.inputs[1]?.data.byteLength).toBe(n * 4);
  });

  it('sends redundancy in the JSON and the protobuf body, and reads the contributions of a redundant result', async () => {
    let sent: Record<string, unknown> = {};
    const contributions = [
      { providerId: 'node-1', executorId: 'ex-1', counted: true, paid: '4', share: 0.5, note: '', executeMs: 2.5 },
      { providerId: 'node-2', executorId: 'ex-9', counted: false, paid: '0', share: 0, note: 'disagreed with the others', executeMs: 3 },
    ];
    routes['POST /v1/tasks?encoding=base64'] = (_q, body, res) => {
      if (body[0] === 0x7b) sent = JSON.parse(body.toString()) as Record<string, unknown>;
      else sent = { protobufRedundancy: SubmitTaskRequest.decode(body).redundancy };
      json(res, 200, { ...RESULT, contributions });
    };
    const r = await client().submit({ skill: 'vecadd', inputs: [{ name: 'a', shape: [1], data: [1] }], budget: 6n, redundancy: 2 });
    expect(sent).toMatchObject({ budget: '6', redundancy: 2 });
    expect(r.contributions).toEqual([
      { providerId: 'node-1', executorId: 'ex-1', counted: true, paid: 4n, share: 0.5, note: '', executeMs: 2.5 },
      { providerId: 'node-2', executorId: 'ex-9', counted: false, paid: 0n, share: 0, note: 'disagreed with the others', executeMs: 3 },
    ]);

    const n = JSON_BODY_MAX_VALUES + 1;
    await client().submit({ skill: 'vecadd', inputs: [{ name: 'a', shape: [n], data: new Float32Array(n) }], redundancy: 3 });
    expect(sent).toEqual({ protobufRedundancy: 3 });

    // Without it, nothing is sent and nothing is read: a server that predates the field works on.
    await client().submit({ skill: 'vecadd', inputs: [{ name: 'a', shape: [1], data: [1] }] });
    expect(sent).not.toHaveProperty('redundancy');
    routes['POST /v1/tasks?encoding=base64'] = (_q, _b, res) => json(res, 200, RESULT);
    expect(await client().submit({ skill: 'vecadd', inputs: [{ name: 'a', shape: [1], data: [1] }] })).not.toHaveProperty('contributions');
  });

  it('refuses a wait option that is no whole number of milliseconds from 0 to a day', () => {
    for (const bad of [-1, 1.5, Number.NaN, 86_400_001]) {
      for (const option of ['requestTimeoutMs', 'submitAnswerSlackMs']) {
        expect(() => createAgentClient({ baseUrl: base, token: TOKEN, [option]: bad })).toThrow(
          expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.stringContaining(option) }),
        );
      }
    }
  });

  it(`waits for a submit's answer past the task's deadline (by default ${SUBMIT_ANSWER_SLACK_MS} ms: one 0.8 s late arrives), and no longer than submitAnswerSlackMs says`, async () => {
    // The answer comes 0.8 s after the task's 0.2 s deadline: inside the default slack, outside 0.3 s of it.
    routes['POST /v1/tasks?encoding=base64'] = (_q, _b, res) => void setTimeout(() => json(res, 200, RESULT), 1_000);
    const task = { skill: 'vecadd', inputs: [{ name: 'a', shape: [1], data: [1] }], timeoutMs: 200 };
    const [byDefault, short] = await Promise.all([
      client().submit(task),
      createAgentClient({ baseUrl: base, token: TOKEN, submitAnswerSlackMs: 300 })
        .submit(task)
        .catch((e: unknown) => e),
    ]);
    expect(byDefault.taskId).toBe(RESULT.taskId);
    expect((short as AgentApiError).codeName).toBe('SWARM_DEADLINE_EXCEEDED');
  });

  it('sends shards in the JSON and the protobuf body, reads the row blocks, and refuses shards outside 1..16', async () => {
    let sent: Record<string, unknown> = {};
    const shards = [{ index: 0, rowStart: 0, rowEnd: 1, providerId: 'node-1', executorId: 'ex-1', attempts: 1, share: 1, executeMs: 2 }];
    routes['POST /v1/tasks?encoding=base64'] = (_q, body, res) => {
      sent = body[0] === 0x7b ? (JSON.parse(body.toString()) as Record<string, unknown>) : { protobufShards: SubmitTaskRequest.decode(body).shards };
      json(res, 200, { ...RESULT, shards });
    };
    const r = await client().submit({ skill: 'matmul', inputs: [{ name: 'a', shape: [1], data: [1] }], shards: 2 });
    expect(sent).toMatchObject({ shards: 2 });
    expect(r.shards).toEqual(shards);
    const n = JSON_BODY_MAX_VALUES + 1;
    await client().submit({ skill: 'matmul', inputs: [{ name: 'a', shape: [n], data: new Float32Array(n) }], shards: 16 });
    expect(sent).toEqual({ protobufShards: 16 });
    for (const bad of [0, 17, 2.5]) {
      const err = await swarmErrorOf(client().submit({ skill: 'matmul', inputs: [{ name: 'a', shape: [1], data: [1] }], shards: bad }));
      expect([bad, err.code, err.message]).toEqual([bad, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, expect.stringMatching(/^shards must be a whole number from 1 to 16/)]);
    }
  });

  it('refuses a redundancy outside 1..5 and a malformed contribution', async () => {
    for (const redundancy of [0, 6, 1.5]) {
      const err = await swarmErrorOf(client().submit({ skill: 'vecadd', inputs: [{ name: 'a', shape: [1], data: [1] }], redundancy }));
      expect([redundancy, err.code]).toEqual([redundancy, ErrorCode.ERROR_CODE_INVALID_ARGUMENT]);
    }
    expect(seen).toHaveLength(0);
    routes['POST /v1/tasks?encoding=base64'] = (_q, _b, res) => json(res, 200, { ...RESULT, contributions: [{ providerId: 'node-1', paid: 4 }] });
    const err = await swarmErrorOf(client().submit({ skill: 'vecadd', inputs: [{ name: 'a', shape: [1], data: [1] }] }));
    expect([err.codeName, err.message]).toEqual(['SWARM_MALFORMED_MESSAGE', 'the agent API answered an unexpected document: result.contributions[0].executorId is not a string']);
  });

  it('refuses an input whose values do not fill its shape before sending anything', async () => {
    const err = await swarmErrorOf(client().submit({ skill: 'vecadd', inputs: [{ name: 'a', shape: [3], data: [1, 2] }] }));
    expect(err.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(seen).toHaveLength(0);
  });

  it('retries RATE_LIMITED after the hint, then answers', async () => {
    let calls = 0;
    routes['GET /v1/peers'] = (_q, _b, res) => {
      calls += 1;
      if (calls === 1) json(res, 429, { error: { code: 'SWARM_RATE_LIMITED', message: 'slow down', retryable: true, retryAfterMs: 30 } }, { 'retry-after': '1' });
      else json(res, 200, { peers: [{ nodeId: 'n2', address: '10.0.0.2:7000', rttMs: 1.5, lastSeenMs: '1700000000000' }] });
    };
    expect(await client().peers()).toEqual([{ nodeId: 'n2', address: '10.0.0.2:7000', rttMs: 1.5, lastSeenMs: 1700000000000n }]);
    expect(calls).toBe(2);
  });

  it("turns error bodies into SwarmErrors with the server's code, status and retry hint", async () => {
    routes['POST /v1/quote'] = (_q, _b, res) => json(res, 400, { error: { code: 'SWARM_UNKNOWN_SKILL', message: "unknown skill 'x'", retryable: false } });
    const quote = await swarmErrorOf(client().quote('x', [{ name: 'a', shape: [1] }]));
    expect(quote).toBeInstanceOf(AgentApiError);
    expect([quote.code, quote.codeName, (quote as AgentApiError).status, quote.message]).toEqual([
      ErrorCode.ERROR_CODE_UNKNOWN_SKILL,
      'SWARM_UNKNOWN_SKILL',
      400,
      "unknown skill 'x'",
    ]);

    // A code only the HTTP API has keeps its name.
    const unknown = await swarmErrorOf(client().task('task-404'));
    expect([unknown.code, unknown.codeName]).toEqual([ErrorCode.ERROR_CODE_UNSPECIFIED, 'SWARM_NOT_FOUND']);

    // Not our server: a proxy's HTML page, capped, with a code from its status.
    routes['GET /v1/skills'] = (_q, _b, res) => res.writeHead(502, { 'content-type': 'text/html' }).end(`<html>${'x'.repeat(10_000)}</html>`);
    const proxy = await swarmErrorOf(client().skills());
    expect(proxy.codeName).toBe('SWARM_UNAVAILABLE');
    expect(proxy.message.length).toBeLessThan(250);
    // A proxy that timed out or failed behind it: the request may have reached the node, so it is
    // an answer lost (retryable, asked again by key), not "no agent API here".
    for (const status of [502, 503, 504]) {
      routes['GET /v1/skills'] = (_q, _b, res) => res.writeHead(status, { 'content-type': 'text/html' }).end('<html>gateway</html>');
      const lost = await swarmErrorOf(client().skills());
      expect({ codeName: lost.codeName, retryable: lost.retryable, notAgentApi: (lost as AgentApiError).notAgentApi, message: lost.message }).toEqual({
        codeName: 'SWARM_UNAVAILABLE',
        retryable: true,
        notAgentApi: false,
        message: expect.stringContaining('by something in front of the agent API (a proxy?); the request may have reached the node'),
      });
    }
  });

  it('says another server answered, not the agent API, by its status line only (an HTML page, JSON of another shape, a 2xx that is no JSON)', async () => {
    const page = '<!DOCTYPE HTML>\n<html><title>Error response</title><body>secret page</body></html>';
    routes['GET /v1/balance'] = (_q, _b, res) => res.writeHead(404, 'File not found', { 'content-type': 'text/html;charset=utf-8' }).end(page);
    routes['GET /v1/skills'] = (_q, _b, res) => json(res, 404, { detail: 'Not Found', error: 'nope' });
    routes['GET /v1/peers'] = (_q, _b, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => client().balance(), 'GET /v1/balance was answered HTTP 404 File not found (text/html;charset=utf-8)'],
      [() => client().skills(), 'GET /v1/skills was answered HTTP 404 Not Found (application/json)'],
      [() => client().peers(), 'GET /v1/peers was answered HTTP 200 OK (text/html)'],
    ];
    for (const [call, answered] of cases) {
      const err = await swarmErrorOf(call());
      expect({ codeName: err.codeName, retryable: err.retryable, notAgentApi: (err as AgentApiError).notAgentApi, message: err.message }).toEqual({
        codeName: 'SWARM_UNAVAILABLE',
        retryable: false,
        notAgentApi: true,
        message: `no SwarmHarness agent API at ${base}: ${answered}, not the API's JSON; is that the node's agent API address?`,
      });
    }
    // The API's own refusals are still its own.
    const own = await swarmErrorOf(client().task('task-404'));
    expect([own.codeName, (own as AgentApiError).notAgentApi]).toEqual(['SWARM_NOT_FOUND', false]);
  });

  it('says the API cannot be reached, as a retryable UNAVAILABLE, and why', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const gone = createAgentClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN });
    const err = await swarmErrorOf(gone.balance());
    expect([err.codeName, err.retryable]).toEqual(['SWARM_UNAVAILABLE', true]);
    expect(err.message).toBe(`cannot reach the agent API at http://127.0.0.1:${port} (ECONNREFUSED); is the node running?`);
    // A port fetch itself refuses (the Fetch standard's blocked ports) is named as such.
    const blocked = await swarmErrorOf(createAgentClient({ baseUrl: 'http://127.0.0.1:6000', token: TOKEN }).balance());
    expect(blocked.message).toMatch(/^cannot reach the agent API at http:\/\/127\.0\.0\.1:6000: fetch refuses this port .*SWARM_HTTP_LISTEN/);
    expect(blocked.retryable).toBe(false);
  });

  it('follows an async task on its event stream (events split across chunks) to the verified result', async () => {
    routes['POST /v1/tasks?async=true'] = (_q, _b, res) =>
      json(res, 202, { taskId: 'task-1', idempotencyKey: 'key-1', status: '/v1/tasks/task-1', events: '/v1/tasks/task-1/events' });
    routes['GET /v1/tasks/task-1/events?encoding=base64'] = (_q, _b, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const done = JSON.stringify(status({ result: { ...RESULT, outputs: [{ name: 'c', shape: [2], data: [4, 6] }] } }));
      const text = `: keep-alive\n\nevent: accepted\ndata: {"taskId":"task-1"}\n\nevent: running\ndata: {"taskId":"task-1"}\n\nevent: done\ndata: ${done}\n\n`;
      // Three pieces, cut mid-line: the reader must join them.
      res.write(text.slice(0, 20));
      setTimeout(() => res.write(text.slice(20, 90)), 5);
      setTimeout(() => res.end(text.slice(90)), 10);
    };
    const events: TaskEvent['type'][] = [];
    const r = await client().submit({ skill: 'vecadd', inputs: [{ name: 'a', shape: [1], data: [1] }] }, { onEvent: (e) => events.push(e.type) });
    expect(events).toEqual(['accepted', 'running', 'done']);
    expect(Array.from(r.outputs[0]?.data ?? [])).toEqual([4, 6]);
  });

  it('rejects with the error a failed task ended with', async () => {
    routes['GET /v1/tasks/task-2/events?encoding=base64'] = (_q, _b, res) => {
      const failed = status({
        taskId: 'task-2',
        state: 'TASK_STATE_REJECTED',
        cost: '0',
        error: { code: 'SWARM_INSUFFICIENT_CREDIT', message: 'only 1 credit left', retryable: false },
      });
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`event: accepted\ndata: {}\n\nevent: failed\ndata: ${JSON.stringify(failed)}\n\n`);
    };
    const err = await swarmErrorOf(client().wait('task-2'));
    expect([err.code, err.message]).toEqual([ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'only 1 credit left']);
  });

  it('gets the result by GET when the last event says it was held back (the agent read results too often lately)', async () => {
    routes['GET /v1/tasks/task-5/events?encoding=base64'] = (_q, _b, res) => {
      const withheld = status({ taskId: 'task-5', note: 'result not attached: …', resultRetryAfterMs: 20 });
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`event: accepted\ndata: {}\n\nevent: done\ndata: ${JSON.stringify(withheld)}\n\n`);
    };
    routes['GET /v1/tasks/task-5?encoding=base64'] = (_q, _b, res) =>
      json(res, 200, status({ taskId: 'task-5', result: { ...RESULT, taskId: 'task-5', outputs: [{ name: 'c', shape: [1], dataBase64: f32([7]) }] } }));
    const r = await client().wait('task-5');
    expect(Array.from(r.outputs[0]?.data ?? [])).toEqual([7]);
  });

  it('asks for the status when the stream ends before the task does', async () => {
    routes['GET /v1/tasks/task-3/events?encoding=base64'] = (_q, _b, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end('event: accepted\ndata: {}\n\n');
    routes['GET /v1/tasks/task-3?encoding=base64'] = (_q, _b, res) =>
      json(res, 200, status({ taskId: 'task-3', state: 'TASK_STATE_REFUNDED', cost: '0', refunded: '3', note: 'executor failed' }));
    const err = await swarmErrorOf(client().wait('task-3'));
    expect([err.codeName, err.message]).toEqual(['SWARM_TASK_REFUNDED', 'task task-3 was refunded: executor failed']);
  });

  it('stops waiting when its AbortSignal fires (the task itself is the node’s to finish)', async () => {
    routes['GET /v1/tasks/task-4/events?encoding=base64'] = (_q, _b, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: accepted\ndata: {}\n\nevent: running\ndata: {}\n\n');
    };
    const controller = new AbortController();
    const waiting = client().wait('task-4', { signal: controller.signal, onEvent: (e) => e.type === 'running' && controller.abort(new Error('agent gave up')) });
    await expect(waiting).rejects.toThrow('agent gave up');
    expect(isSwarmError(await waiting.catch((e: unknown) => e))).toBe(false);
  });
});

describe('agent client - a server that accepts the connection and never answers', () => {
  let silent: SilentServer;
  let base: string;

  beforeAll(async () => {
    silent = await startSilentServer();
    base = `http://127.0.0.1:${silent.port}`;
  });
  afterAll(() => silent.close());

  it('gives up a read after its request timeout: a retryable UNAVAILABLE naming the wait, with ETIMEDOUT as its cause', async () => {
    const started = Date.now();
    const err = await swarmErrorOf(createAgentClient({ baseUrl: base, token: TOKEN, requestTimeoutMs: 300 }).balance());
    expect(Date.now() - started).toBeLessThan(5_000);
    expect({ codeName: err.codeName, status: (err as AgentApiError).status, retryable: err.retryable, message: err.message, cause: (err.cause as { code?: string }).code }).toEqual(
      {
        codeName: 'SWARM_UNAVAILABLE',
        status: 0,
        retryable: true,
        message: `cannot reach the agent API at ${base} (no answer to GET /v1/balance within 0.3 s); is the node running?`,
        cause: 'ETIMEDOUT',
      },
    );
  });

  it(`gives up a task after its deadline and its answer slack (${SUBMIT_ANSWER_SLACK_MS} ms unless given): a retryable DEADLINE_EXCEEDED (the task may have run)`, async () => {
    const started = Date.now();
    const client = createAgentClient({ baseUrl: base, token: TOKEN, submitAnswerSlackMs: 300 });
    const err = await swarmErrorOf(client.submit({ skill: 'vecadd', inputs: [{ name: 'a', shape: [1], data: [1] }], timeoutMs: 200 }));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(200 + 300 - 50);
    expect(waited).toBeLessThan(200 + 300 + 2_000);
    expect({ code: err.code, retryable: err.retryable, message: err.message }).toEqual({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      retryable: true,
      message: `no answer from the agent API at ${base} to POST /v1/tasks within 0.5 s (the task's 0.2 s deadline and 0.3 s more): the task may have run`,
    });
  });

  it('still stops at the caller’s own AbortSignal first, with its reason', async () => {
    const err = await createAgentClient({ baseUrl: base, token: TOKEN })
      .skills({ signal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
  });
});

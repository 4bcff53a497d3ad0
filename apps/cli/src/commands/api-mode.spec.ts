/**
 * The task commands acting as an agent, against a stand-in for api-svc on loopback: what each
 * sends, and that it prints the bus mode's table and document. (tools/e2e/src/cli-remote-agent
 * runs the real binary against a real node.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromTensor, SubmitTaskResponse, TaskState, toTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, getSkill, priceOf } from '@swarm/skills';
import { CliError, toCliError } from '../cli-error';
import { balanceCommand } from './balance';
import { peersCommand } from './peers';
import { skillsCommand } from './skills';
import { prepareTask, printResult, submitCommand } from './submit';
import { taskCommand } from './task';

const TOKEN = `swt_${'b'.repeat(43)}`;
const f32 = (values: number[]) => Buffer.from(Float32Array.from(values).buffer).toString('base64');
const CONTRIBUTIONS = [
  { providerId: 'a'.repeat(64), executorId: 'ex-1', counted: true, paid: '3', share: 0.5, note: '', executeMs: 2 },
  { providerId: 'b'.repeat(64), executorId: 'ex-2', counted: true, paid: '3', share: 0.5, note: '', executeMs: 3 },
  { providerId: 'c'.repeat(64), executorId: 'ex-3', counted: false, paid: '0', share: 0, note: 'disagreed with the other replicas', executeMs: 4 },
];
const RESULT = {
  taskId: 'task-7',
  outputs: [{ name: 'c', shape: [2], dataBase64: f32([4, 6]) }],
  cost: '6',
  refunded: '3',
  account: 'agent/cli',
  providerId: 'a'.repeat(64),
  executorId: 'ex-1',
  backend: 'cpu',
  verification: 'recompute: exact',
  attempts: 1,
  settlement: 'TASK_STATE_PAID',
  settlementNote: '',
  timing: { escrowMs: 1, executeMs: 2, verifyMs: 1, settleMs: 1, totalMs: 5 },
  contributions: CONTRIBUTIONS,
};

type Handler = (body: Buffer, res: ServerResponse) => void;

describe('swarm task commands - as an agent over the HTTP API', () => {
  let server: Server;
  let env: NodeJS.ProcessEnv;
  let routes: Record<string, Handler>;
  let out: string;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
        const handler = routes[`${req.method} ${req.url}`];
        if (handler) return handler(Buffer.concat(chunks), res);
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"SWARM_NOT_FOUND","message":"no such route","retryable":false}}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    env = { SWARM_AGENT_TOKEN: TOKEN, SWARM_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    routes = {};
    seen.length = 0;
    out = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const json = (res: ServerResponse, code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it('submit: sends redundancy and K × the price as budget, and prints the replicas', async () => {
    let sent: Record<string, unknown> = {};
    routes['POST /v1/tasks?encoding=base64'] = (body, res) => {
      sent = JSON.parse(body.toString()) as Record<string, unknown>;
      json(res, 200, RESULT);
    };
    await submitCommand({ skill: 'vecadd', size: 2, seed: 1, redundancy: 3, key: 'k-1' }, env);
    const inputs = demoInputs(getSkill('vecadd'), 2, seededRandom(1));
    expect(sent).toEqual({
      skill: 'vecadd',
      inputs: inputs.map((t) => ({ name: t.name, shape: t.shape, dataBase64: Buffer.from(t.data).toString('base64') })),
      budget: String(3n * priceOf('vecadd', inputs.map(fromTensor))),
      redundancy: 3,
      idempotencyKey: 'k-1',
    });
    expect(seen).toEqual([`POST /v1/tasks?encoding=base64 Bearer ${TOKEN}`]);
    expect(out).toMatch(/task\s+│ task-7/);
    expect(out).toMatch(/paid\s+│ 6 credits: 3 credits to aaaaaaaaaaaaaaaa…, 3 credits to bbbbbbbbbbbbbbbb… \(refunded 3\)/);
    expect(out).toMatch(/provider\s+│ counted\s+│ paid\s+│ share\s+│ note/);
    expect(out).toMatch(/cccccccccccccccc…\s+│ no\s+│ 0 credits\s+│ 0\.0%\s+│ disagreed with the/);
    expect(out).toMatch(/aaaaaaaaaaaaaaaa…\s+│ yes\s+│ 3 credits\s+│ 50\.0%/);
  });

  it('submit: sends shards, and prints who computed each row block', async () => {
    let sent: Record<string, unknown> = {};
    const shards = [0, 1].map((index) => ({
      index,
      rowStart: index * 2,
      rowEnd: index * 2 + 2,
      providerId: (index ? 'b' : 'a').repeat(64),
      executorId: 'ex',
      attempts: index + 1,
      share: 0.5,
      executeMs: 4,
    }));
    routes['POST /v1/tasks?encoding=base64'] = (body, res) => {
      sent = JSON.parse(body.toString()) as Record<string, unknown>;
      json(res, 200, { ...RESULT, shards });
    };
    await submitCommand({ skill: 'matmul', size: 4, seed: 1, shards: 2, key: 'k-2' }, env);
    const inputs = demoInputs(getSkill('matmul'), 4, seededRandom(1));
    // The whole product's price: sharding does not change what the task costs.
    expect(sent).toMatchObject({ skill: 'matmul', shards: 2, budget: String(priceOf('matmul', inputs.map(fromTensor))) });
    expect(sent).not.toHaveProperty('redundancy');
    expect(out).toMatch(/block\s+│ rows\s+│ provider\s+│ attempts\s+│ share\s+│ execute/);
    expect(out).toMatch(/1\s+│ 2-3\s+│ bbbbbbbbbbbbbbbb…\s+│ 2\s+│ 50\.0%/);
  });

  it('submit --json: the SubmitTaskResponse document, with the contributions in the proto3 JSON mapping', async () => {
    routes['POST /v1/tasks?encoding=base64'] = (_b, res) => json(res, 200, RESULT);
    await submitCommand({ skill: 'vecadd', size: 2, json: true, budget: '9' }, env);
    const doc = JSON.parse(out) as Record<string, unknown>;
    const { timing, contributions, outputs, ...rest } = RESULT;
    // The key is the one the CLI made up and sent (the API does not echo it).
    expect(doc).toEqual({
      ...rest,
      outputs: [{ name: 'c', shape: [2], data: outputs[0]?.dataBase64 }],
      timing,
      contributions,
      shards: [],
      replayed: false,
      placementNote: '',
      idempotencyKey: expect.stringMatching(/^cli-[0-9a-f-]{36}$/),
    });
  });

  it('submit without --redundancy sends none; the default budget is the price', async () => {
    const task = await prepareTask({ skill: 'vecadd', size: 4, seed: 2 });
    const price = priceOf('vecadd', task.inputs.map(fromTensor));
    expect([task.budget, task.redundancy]).toEqual([price, undefined]);
    expect((await prepareTask({ skill: 'vecadd', size: 4, seed: 2, redundancy: 5 })).budget).toBe(5n * price);
    expect((await prepareTask({ skill: 'vecadd', size: 4, redundancy: 5, budget: '7' })).budget).toBe(7n);
    expect(await prepareTask({ skill: 'vecadd' }).catch((e: unknown) => e)).toBeInstanceOf(CliError);
    // What the router would refuse anyway is bad usage here, nothing sent: shards of another skill, shards with replicas, more shards than rows.
    for (const bad of [
      { skill: 'vecadd', size: 4, shards: 2 },
      { skill: 'matmul', size: 4, shards: 2, redundancy: 2 },
      { skill: 'matmul', size: 2, shards: 3 },
    ]) {
      expect(await prepareTask(bad).catch((e: unknown) => e)).toMatchObject({ code: 'SWARM_BAD_ARGS' });
    }
    // The same --key without --seed: the same generated inputs (the same task).
    const [first, second] = await Promise.all([prepareTask({ skill: 'vecadd', size: 4, key: 'k-9' }), prepareTask({ skill: 'vecadd', size: 4, key: 'k-9' })]);
    expect(second.inputs).toEqual(first.inputs);
    expect((await prepareTask({ skill: 'vecadd', size: 4, key: 'k-10' })).inputs).not.toEqual(first.inputs);
    // A skill this build cannot price: no budget, so the node answers with the authoritative error.
    const dir = await mkdtemp(join(tmpdir(), 'swarm-submit-'));
    try {
      await writeFile(join(dir, 'in.json'), '{"inputs":[{"name":"x","shape":[1],"data":[1]}]}');
      expect((await prepareTask({ skill: 'future', input: join(dir, 'in.json'), redundancy: 2 })).budget).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints the replicas of a bus reply too, and nothing more for a reply without them', () => {
    const res = SubmitTaskResponse.fromPartial({
      taskId: 't',
      outputs: [toTensor('c', [1], Float32Array.of(1))],
      settlement: TaskState.TASK_STATE_PAID,
      contributions: [{ providerId: 'd'.repeat(64), counted: true, paid: 2n, share: 1 }],
    });
    printResult(res);
    expect(out).toMatch(/dddddddddddddddd…\s+│ yes\s+│ 2 credits\s+│ 100\.0%/);
    out = '';
    printResult({ ...res, contributions: [] });
    expect(out).not.toContain('counted');
  });

  it('balance: the agent’s own account, with budget, spend and tasks; --account is refused', async () => {
    routes['GET /v1/balance'] = (_b, res) => json(res, 200, { account: 'agent/cli', available: '91', escrowed: '0', budget: '100', spent: '9', tasks: '2' });
    await balanceCommand({ json: true }, env);
    expect(JSON.parse(out)).toEqual({ account: 'agent/cli', available: '91', escrowed: '0', budget: '100', spent: '9', tasks: '2' });
    out = '';
    await balanceCommand({}, env);
    expect(out).toMatch(/available\s+│ 91 credits/);
    expect(out).toMatch(/budget\s+│ 100 credits/);
    const err = await balanceCommand({ account: 'node' }, env).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SWARM_BAD_ARGS', message: expect.stringMatching(/^--account has no meaning for an agent/) });
  });

  it('skills and peers: the bus mode’s documents', async () => {
    routes['GET /v1/skills'] = (_b, res) =>
      json(res, 200, {
        backend: 'cpu',
        maxElements: 2_000_000,
        skills: [
          {
            name: 'matmul',
            description: 'c = a·b',
            inputs: [
              { name: 'a', shape: ['n', 'k'] },
              { name: 'b', shape: ['k', 'm'] },
            ],
            outputs: [{ name: 'c', shape: ['n', 'm'] }],
            pricePerMwork: '1',
            verification: 'freivalds',
            verificationBound: '≤ 2^-20',
            verificationCost: '12%',
          },
        ],
      });
    routes['GET /v1/peers'] = (_b, res) => json(res, 200, { peers: [{ nodeId: 'n2', address: '127.0.0.1:7000', rttMs: 1.5, lastSeenMs: '0' }] });
    await skillsCommand({ json: true }, env);
    expect(JSON.parse(out)).toEqual({
      backend: 'cpu',
      skills: [
        {
          name: 'matmul',
          description: 'c = a·b',
          inputs: 'a:[n,k] b:[k,m]',
          outputs: 'c:[n,m]',
          pricePerMwork: '1',
          verification: 'freivalds',
          verificationBound: '≤ 2^-20',
          verificationCost: '12%',
        },
      ],
    });
    out = '';
    await peersCommand({}, env);
    expect(out).toMatch(/n2\s+│ 127\.0\.0\.1:7000\s+│ 1\.50 ms\s+│ never directly/);
    expect(out).not.toContain('this node:');
  });

  it('task: by id, as TaskStatusResponse; --key is refused; a task the API does not know is SWARM_TASK_UNKNOWN', async () => {
    routes['GET /v1/tasks/task-7?encoding=base64'] = (_b, res) =>
      json(res, 200, { taskId: 'task-7', state: 'TASK_STATE_PAID', cost: '6', refunded: '3', providerId: 'p', source: 'router', attempts: 1, note: '', result: RESULT });
    await taskCommand('task-7', { json: true }, env);
    expect(JSON.parse(out)).toEqual({
      taskId: 'task-7',
      state: 'TASK_STATE_PAID',
      cost: '6',
      refunded: '3',
      providerId: 'p',
      source: 'router',
      resultAvailable: true,
      attempts: 1,
      note: '',
      account: 'agent/cli',
      // Each node the result names as paid, as the router's own status would.
      paidTo: [expect.objectContaining({ providerId: 'a'.repeat(64), paid: '3' }), expect.objectContaining({ providerId: 'b'.repeat(64), paid: '3' })],
      placementNote: '',
    });
    expect(await taskCommand(undefined, { key: 'k-1' }, env).catch((e: unknown) => e)).toMatchObject({ code: 'SWARM_BAD_ARGS' });
    expect(seen).toHaveLength(1);
    routes['GET /v1/tasks/nope?encoding=base64'] = (_b, res) => json(res, 404, { error: { code: 'SWARM_TASK_UNKNOWN', message: 'this agent has no task nope', retryable: false } });
    expect(toCliError(await taskCommand('nope', {}, env).catch((e: unknown) => e))).toMatchObject({ code: 'SWARM_TASK_UNKNOWN' });
  });

  it('maps the API’s refusals to the CLI’s codes: 401 is SWARM_UNAUTHENTICATED, nobody listening is SWARM_NO_NODE', async () => {
    routes['GET /v1/balance'] = (_b, res) => json(res, 401, { error: { code: 'SWARM_UNAUTHENTICATED', message: 'unknown agent token', retryable: false } });
    expect(toCliError(await balanceCommand({}, env).catch((e: unknown) => e))).toMatchObject({ code: 'SWARM_UNAUTHENTICATED', message: 'unknown agent token' });
    // A port just freed: nothing listens there (fetch refuses to dial a few well-known ports at all).
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const gone = await skillsCommand({ apiUrl: `http://127.0.0.1:${port}` }, { SWARM_AGENT_TOKEN: TOKEN }).catch((e: unknown) => e);
    expect(toCliError(gone)).toMatchObject({ code: 'SWARM_NO_NODE', message: expect.stringMatching(/^cannot reach the agent API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/) });
  });

  it('says SWARM_NO_NODE, not the foreign page, when another web server answers at the API address', async () => {
    routes['GET /v1/balance'] = (_b, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<!DOCTYPE HTML><html><body>Error response</body></html>');
    const err = toCliError(await balanceCommand({}, env).catch((e: unknown) => e));
    expect(err).toMatchObject({
      code: 'SWARM_NO_NODE',
      message: expect.stringMatching(/^no SwarmHarness agent API at http:\/\/127\.0\.0\.1:\d+: GET \/v1\/balance was answered HTTP 404 Not Found \(text\/html\)/),
    });
    expect(err.message).not.toContain('DOCTYPE');
  });
});

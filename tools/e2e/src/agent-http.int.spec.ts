/**
 * Agents on a whole node (closed bus, real credit-svc, router-svc and executors): the operator
 * adds agents (observer key, `swarm agent`), agents hire compute over HTTP with hand-written
 * requests on Node's own fetch (not the project's client), and every refusal is a clear error
 * that moves no credit. The ledger audit closes each scenario: credit is conserved.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import { ErrorCode } from '@swarm/contracts';
import { swarmErrorOf, waitFor } from '@swarm/testing';
import Ajv2020 from 'ajv/dist/2020';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';
import { runCli } from './run-cli';

jest.setTimeout(60_000);

const N = 8;
/** a = 1..64 as 8×8, b = identity + 1: c = a·b is checked against a plain product below. */
const A = Array.from({ length: N * N }, (_, i) => i + 1);
const B = Array.from({ length: N * N }, (_, i) => (i % (N + 1) === 0 ? 2 : 1));

function product(a: number[], b: number[]): number[] {
  const c: number[] = [];
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) c.push(a.slice(i * N, i * N + N).reduce((s, v, k) => s + v * b[k * N + j], 0));
  return c;
}

const SCHEMA = JSON.parse(readFileSync(join(__dirname, '../../../docs/cli-json.schema.json'), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addSchema(SCHEMA);

/** The parsed `--json` document, once it fits its command's schema in docs/cli-json.schema.json. */
function documented(command: 'agent-add' | 'agent-list' | 'agent-revoke', stdout: string): Record<string, unknown> {
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  const validate = ajv.getSchema(`${SCHEMA.$id}#/$defs/${command}`);
  expect({ command, valid: validate?.(doc), errors: validate?.errors ?? null }).toEqual({ command, valid: true, errors: null });
  return doc;
}

const MATMUL_BODY = `{"skill":"matmul","inputs":[{"name":"a","shape":[${N},${N}],"data":[${A.join(',')}]},{"name":"b","shape":[${N},${N}],"data":[${B.join(',')}]}]}`;

describe('agents - HTTP API on a whole node', () => {
  let node: InProcessNode;
  let operator: SwarmClient;
  let base: string;

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_GENESIS_GRANT: '1000' }, { closedBus: true });
    operator = await connectSwarm(node.natsUrl, { nkeyFile: join(node.dataDir, 'bus', 'observer.nk'), role: 'observer' });
    base = `http://${node.httpAddress}`;
  }, 60_000);

  afterAll(async () => {
    await operator?.close();
    await node?.stop();
  });

  const call = (path: string, token: string, init: { method?: string; body?: string; signal?: AbortSignal } = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T;
  const errorOf = async (res: Response) => (await json<{ error: { code: string; message: string } }>(res)).error;
  const audit = async () => expect(await operator.audit()).toMatchObject({ ok: true, problems: [] });

  it('lets only the operator add agents', async () => {
    const client = await connectSwarm(node.natsUrl, { nkeyFile: join(node.dataDir, 'bus', 'client.nk') });
    try {
      expect((await swarmErrorOf(client.addAgent({ name: 'sneaky', budget: 1n, ttlMs: 0n }))).code).toBe(ErrorCode.ERROR_CODE_PERMISSION_DENIED);
    } finally {
      await client.close();
    }
  });

  it('lists skills, quotes, runs a verified matmul and takes its cost from the agent account only', async () => {
    const { token, agent } = await operator.addAgent({ name: 'buyer', budget: 100n, ttlMs: 0n });
    expect(agent?.available).toBe(100n);
    const nodeBefore = (await operator.balance()).available;

    const skills = await json<{ skills: Array<{ name: string; verificationBound: string }> }>(await call('/v1/skills', token));
    expect(skills.skills.map((s) => s.name)).toContain('matmul');
    const quote = await json<{ price: string }>(
      await call('/v1/quote', token, { method: 'POST', body: `{"skill":"matmul","shapes":[{"name":"a","shape":[${N},${N}]},{"name":"b","shape":[${N},${N}]}]}` }),
    );

    const res = await call('/v1/tasks', token, { method: 'POST', body: MATMUL_BODY });
    expect(res.status).toBe(200);
    const result = await json<{ taskId: string; cost: string; account: string; verification: string; outputs: Array<{ name: string; shape: number[]; data: number[] }> }>(res);
    expect(result).toMatchObject({ account: 'agent/buyer', cost: quote.price, outputs: [{ name: 'c', shape: [N, N] }] });
    expect(result.verification).not.toBe('');
    expect(result.outputs[0]?.data).toEqual(product(A, B));
    // The key it ran under (one drawn for it here), as the async answer and the CLI's --json give it.
    expect((result as unknown as { idempotencyKey: string }).idempotencyKey).toMatch(/^[A-Za-z0-9._:-]{8,}$/);

    const balance = await json(await call('/v1/balance', token));
    expect(balance).toEqual({ account: 'agent/buyer', available: String(100n - BigInt(quote.price)), escrowed: '0', budget: '100', spent: quote.price, tasks: '1' });
    // The node ran it, so the node was paid: the agent's credit moved to the node, nothing else did.
    expect((await operator.balance()).available).toBe(nodeBefore + BigInt(quote.price));
    await audit();
  });

  it('runs a task asynchronously: 202, status, then the events accepted, running, done', async () => {
    const { token } = await operator.addAgent({ name: 'async', budget: 100n, ttlMs: 3_600_000n });
    const accepted = await json<{ taskId: string; status: string; events: string }>(await call('/v1/tasks?async=true', token, { method: 'POST', body: MATMUL_BODY }));
    const events = await (await call(accepted.events, token)).text();
    expect([...events.matchAll(/^event: (\w+)$/gm)].map((m) => m[1])).toEqual(['accepted', 'running', 'done']);
    const status = await json<{ state: string; result: { outputs: Array<{ data: number[] }> } }>(await call(accepted.status, token));
    expect(status.state).toBe('TASK_STATE_PAID');
    expect(status.result.outputs[0]?.data).toEqual(product(A, B));
    // The last event says what GET says, where it came from included.
    const done = JSON.parse(/^event: done\ndata: (.*)$/m.exec(events)?.[1] ?? '{}') as Record<string, unknown>;
    expect(done).toEqual(status);
  });

  it('refuses bad requests with clear errors and moves no credit', async () => {
    const { token } = await operator.addAgent({ name: 'clumsy', budget: 50n, ttlMs: 0n });
    const cases: Array<[string, string, number, string]> = [
      ['/v1/tasks', '{"skill":"matmul","inputs":[', 400, 'SWARM_MALFORMED_MESSAGE'],
      ['/v1/tasks', '{"skill":"matmul","inputs":[],"account":"node"}', 400, 'SWARM_INVALID_ARGUMENT'],
      ['/v1/tasks', `{"skill":"matmul","inputs":[{"name":"a","shape":[2,2],"data":[1,2,3,4]},{"name":"b","shape":[3,2],"data":[1,2,3,4,5,6]}]}`, 400, 'SWARM_INVALID_ARGUMENT'],
      ['/v1/tasks', `{"skill":"nope","inputs":[{"name":"a","shape":[1],"data":[1]}]}`, 400, 'SWARM_UNKNOWN_SKILL'],
      ['/v1/tasks', `{"skill":"vecadd","inputs":[{"name":"a","shape":[1],"data":[${'1,'.repeat(5_000_000)}1]}]}`, 413, 'SWARM_PAYLOAD_TOO_LARGE'],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await call(path, token, { method: 'POST', body });
      expect({ body: body.slice(0, 60), status: res.status, code: (await errorOf(res)).code }).toEqual({ body: body.slice(0, 60), status, code });
    }
    const wrong = await call('/v1/balance', `swt_${'x'.repeat(43)}`);
    expect([wrong.status, (await errorOf(wrong)).code]).toEqual([401, 'SWARM_UNAUTHENTICATED']);
    expect(await json(await call('/v1/balance', token))).toMatchObject({ available: '50', spent: '0', tasks: '0' });
  });

  it('refuses a task beyond the budget with INSUFFICIENT_CREDIT, charging nothing', async () => {
    const { token } = await operator.addAgent({ name: 'poor', budget: 1n, ttlMs: 0n });
    const res = await call('/v1/tasks', token, { method: 'POST', body: MATMUL_BODY.replace('"inputs"', '"budget":5,"inputs"') });
    expect([res.status, (await errorOf(res)).code]).toEqual([400, 'SWARM_INSUFFICIENT_CREDIT']);
    expect(await json(await call('/v1/balance', token))).toMatchObject({ available: '1', escrowed: '0', spent: '0' });
    await audit();
  });

  it('revokes at once and returns the unspent credit; the ledger stays sound', async () => {
    const { token } = await operator.addAgent({ name: 'leaver', budget: 40n, ttlMs: 0n });
    expect((await call('/v1/balance', token)).status).toBe(200);
    const nodeBefore = (await operator.balance()).available;
    const revoked = await operator.revokeAgent('leaver');
    expect(revoked).toMatchObject({ returned: 40n, agent: { revoked: true } });
    const res = await call('/v1/balance', token);
    expect([res.status, (await errorOf(res)).message]).toEqual([401, 'this agent token was revoked']);
    expect((await operator.balance()).available).toBe(nodeBefore + 40n);
    await audit();
  });

  it('finishes a task whose client disconnected: paid once or refunded, counted, and the server keeps serving', async () => {
    const { token } = await operator.addAgent({ name: 'flaky', budget: 100n, ttlMs: 0n });
    const abort = new AbortController();
    const gone = call('/v1/tasks', token, { method: 'POST', body: MATMUL_BODY.replace('"inputs"', '"idempotencyKey":"flaky-1","inputs"'), signal: abort.signal });
    setTimeout(() => abort.abort(), 5);
    await gone.catch(() => undefined);
    const after = await waitFor(async () => {
      const b = await json<{ tasks: string; available: string; escrowed: string; spent: string }>(await call('/v1/balance', token));
      return b.tasks === '1' && b.escrowed === '0' ? b : undefined;
    });
    expect(BigInt(after.available) + BigInt(after.spent)).toBe(100n);
    expect((await call('/v1/skills', token)).status).toBe(200);
    await audit();
  });

  it('swarm agent add, list and revoke with the observer key in the data dir', async () => {
    const dir = ['--nats', node.natsUrl, '--data-dir', node.dataDir];
    const added = await runCli(['agent', 'add', 'cli-bot', '--budget', '25', '--expires', '7d', '--json', ...dir]);
    expect(added.code).toBe(0);
    const doc = documented('agent-add', added.stdout) as { token: string; agent: { name: string; budget: string; available: string; expiresAtMs: string } };
    expect(doc.agent).toMatchObject({ name: 'cli-bot', budget: '25', available: '25' });
    expect(Number(doc.agent.expiresAtMs)).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect((await call('/v1/balance', doc.token)).status).toBe(200);

    const table = await runCli(['agent', 'list', ...dir]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/cli-bot\s.*25/);
    const list = documented('agent-list', (await runCli(['agent', 'list', '--json', ...dir])).stdout) as { agents: Array<{ name: string; spent: string }> };
    expect(list.agents.find((a) => a.name === 'buyer')?.spent).not.toBe('0');

    const revoked = await runCli(['agent', 'revoke', 'cli-bot', '--json', ...dir]);
    expect(documented('agent-revoke', revoked.stdout)).toMatchObject({ returned: '25', agent: { revoked: true } });
    const bad = await runCli(['agent', 'add', 'x', '--budget', '0', ...dir]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/SWARM_BAD_ARGS/)]);
  });
});

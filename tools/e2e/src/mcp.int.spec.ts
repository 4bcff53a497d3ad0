/**
 * MCP on a whole node (closed bus, real credit, router and executors), driven by the official MCP
 * SDK's own client: over stdio (`swarm mcp`, the real CLI as a child process, with the agent's
 * token in SWARM_AGENT_TOKEN) and over streamable HTTP (api-svc's /mcp with the bearer token).
 * Both run a verified matmul, see its cost leave the agent's account, and hit the agent's cap as a
 * clear tool error. A raw JSON-RPC exchange over stdio checks the protocol errors by hand.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';
import { SWARM } from './run-cli';

jest.setTimeout(60_000);

const N = 6;
const A = Array.from({ length: N * N }, (_, i) => (i % 7) - 3);
const B = Array.from({ length: N * N }, (_, i) => (i % 5) - 2);
const C = Array.from({ length: N * N }, (_, idx) => {
  const [i, j] = [Math.floor(idx / N), idx % N];
  return A.slice(i * N, i * N + N).reduce((s, v, k) => s + v * B[k * N + j], 0);
});
const MATMUL = { skill: 'matmul', inputs: { a: { shape: [N, N], data: A }, b: { shape: [N, N], data: B } } };

interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
}

describe('MCP - the SDK client over stdio and streamable HTTP, on a whole node', () => {
  let node: InProcessNode;
  let operator: SwarmClient;

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_GENESIS_GRANT: '1000' }, { closedBus: true });
    operator = await connectSwarm(node.natsUrl, { nkeyFile: join(node.dataDir, 'bus', 'observer.nk'), role: 'observer' });
  }, 60_000);

  afterAll(async () => {
    await operator?.close();
    await node?.stop();
  });

  const newAgent = async (name: string, budget: bigint) => (await operator.addAgent({ name, budget, ttlMs: 0n })).token;
  const stdio = (token: string) =>
    new StdioClientTransport({
      command: process.execPath,
      args: [SWARM, 'mcp'],
      env: { PATH: process.env['PATH'] ?? '', SWARM_AGENT_TOKEN: token, SWARM_API_URL: `http://${node.httpAddress}`, SWARM_HOME: node.dataDir },
      stderr: 'pipe',
    });
  const http = (token: string) => new StreamableHTTPClientTransport(new URL(`http://${node.httpAddress}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });

  async function connected(transport: Transport): Promise<Client> {
    const client = new Client({ name: 'swarm-e2e', version: '0.0.0' });
    await client.connect(transport);
    return client;
  }

  const call = async (client: Client, name: string, args: Record<string, unknown> = {}, onprogress?: (p: { progress: number; message?: string }) => void) =>
    (await client.callTool({ name, arguments: args }, undefined, onprogress ? { onprogress } : {})) as ToolResult;

  /** The scenario both transports run: tools, a verified matmul, its cost, the cap. */
  async function hireThroughMcp(client: Client, agent: string): Promise<void> {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['get_balance', 'get_task', 'list_peers', 'list_skills', 'quote_task', 'submit_task']);
    const submit = tools.find((t) => t.name === 'submit_task');
    // Generated from the skill specs: the skills as an enum, each input by name.
    expect(submit?.inputSchema.properties?.['skill']).toMatchObject({ enum: expect.arrayContaining(['matmul', 'vecadd', 'mlp']) });
    expect(Object.keys((submit?.inputSchema.properties?.['inputs'] as { properties: object }).properties)).toEqual(expect.arrayContaining(['a', 'b', 'x', 'w1']));

    const catalogue = await client.readResource({ uri: 'swarm://skills' });
    expect(JSON.parse((catalogue.contents[0] as { text: string }).text)).toMatchObject({ skills: expect.arrayContaining([expect.objectContaining({ name: 'matmul' })]) });

    const quote = await call(client, 'quote_task', { skill: 'matmul', shapes: { a: [N, N], b: [N, N] } });
    const price = (quote.structuredContent as { price: string }).price;
    const before = (await call(client, 'get_balance')).structuredContent as { available: string; budget: string };

    const progress: string[] = [];
    const done = await call(client, 'submit_task', MATMUL, (p) => progress.push(p.message ?? ''));
    expect(done.isError).toBeFalsy();
    const result = done.structuredContent as {
      taskId: string;
      cost: string;
      verification: string;
      providerId: string;
      paidTo: string;
      account: string;
      outputs: Array<{ data: number[] }>;
    };
    expect(result).toMatchObject({ cost: price, account: `agent/${agent}`, providerId: node.nodeId, paidTo: node.nodeId });
    expect(result.verification).toMatch(/freivalds|recompute/);
    expect(result.outputs[0]?.data).toEqual(C);
    expect(progress[0]).toMatch(/^accepted: task-/);
    // The SDK client handles a notification a microtask after it arrives but a response at once, so
    // the last notifications may be dropped when they arrive with the result; the rest keep their order.
    for (const message of progress) expect(message).toMatch(/^(accepted: task-|running on the node|running for \d+ s|done: verified)/);

    const after = (await call(client, 'get_balance')).structuredContent as { available: string; spent: string };
    expect(BigInt(after.available)).toBe(BigInt(before.available) - BigInt(price));
    expect(after.spent).toBe(price);
    expect((await call(client, 'get_task', { taskId: result.taskId })).structuredContent).toMatchObject({ state: 'TASK_STATE_PAID', cost: price });

    // Past the cap: a budget larger than what is left is refused by the node, and nothing moves.
    const capped = await call(client, 'submit_task', { ...MATMUL, budget: Number(after.available) + 1 });
    expect(capped.isError).toBe(true);
    expect(capped.content[0]?.text).toMatch(/^SWARM_INSUFFICIENT_CREDIT: /);
    expect(capped.structuredContent).toMatchObject({ error: { code: 'SWARM_INSUFFICIENT_CREDIT' } });
    expect(((await call(client, 'get_balance')).structuredContent as { available: string }).available).toBe(after.available);

    // Arguments off the generated schema: a tool error naming the field, not a crash.
    const wrongInputs = await call(client, 'submit_task', { skill: 'matmul', inputs: { a: { shape: [N, N], data: A } } });
    expect(wrongInputs).toMatchObject({ isError: true, structuredContent: { error: { code: 'SWARM_INVALID_ARGUMENT' } } });
    expect(wrongInputs.content[0]?.text).toContain('missing b');
    const badType = await call(client, 'quote_task', { skill: 'matmul', shapes: { a: 'big' } });
    expect(badType.content[0]?.text).toMatch(/^SWARM_INVALID_ARGUMENT: quote_task: arguments\.shapes\.a must be array/);
  }

  it('over stdio: `swarm mcp` lists the tools, runs a verified matmul, charges the agent, refuses past its cap', async () => {
    const token = await newAgent('mcp-stdio', 30n);
    const client = await connected(stdio(token));
    try {
      await hireThroughMcp(client, 'mcp-stdio');
    } finally {
      await client.close();
    }
  });

  it('over streamable HTTP: /mcp with the bearer token does the same', async () => {
    const token = await newAgent('mcp-http', 30n);
    const client = await connected(http(token));
    try {
      await hireThroughMcp(client, 'mcp-http');
    } finally {
      await client.close();
    }
    await expect(operator.audit()).resolves.toMatchObject({ ok: true, problems: [] });
  });

  it('over streamable HTTP: refuses a wrong token before reading the body, bad bodies, and a GET stream (stateless)', async () => {
    await expect(connected(http(`swt_${'x'.repeat(43)}`))).rejects.toThrow(/401|SWARM_UNAUTHENTICATED/);
    const token = await newAgent('mcp-get', 5n);
    const get = await fetch(`http://${node.httpAddress}/mcp`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    const anonymous = await fetch(`http://${node.httpAddress}/mcp`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect([anonymous.status, ((await anonymous.json()) as { error: { code: string } }).error.code]).toEqual([401, 'SWARM_UNAUTHENTICATED']);

    // Hand-written bodies: not JSON, not JSON-RPC, too large. Each a clear refusal; the endpoint serves on.
    const post = (body: string) =>
      fetch(`http://${node.httpAddress}/mcp`, {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      });
    const notJson = await post('{"jsonrpc":');
    expect([notJson.status, ((await notJson.json()) as { error: { code: string } }).error.code]).toEqual([400, 'SWARM_MALFORMED_MESSAGE']);
    const notRpc = await post('{"hello":"world"}');
    expect([notRpc.status, ((await notRpc.json()) as { error: { code: number } }).error.code]).toEqual([400, -32700]);
    const emptyBatch = await post('[]');
    expect([emptyBatch.status, await emptyBatch.json()]).toEqual([400, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: an empty batch' } }]);
    const noParams = await post('{"jsonrpc":"2.0","id":9,"method":"tools/call"}');
    expect([noParams.status, ((await noParams.json()) as { error: { code: number } }).error.code]).toEqual([200, -32602]);
    const longId = await post(
      JSON.stringify([
        { jsonrpc: '2.0', id: 'i'.repeat(100_000), method: 'tools/list' },
        { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      ]),
    );
    // A batch holding a bad request: every request in it answered, none run.
    expect([longId.status, await longId.json()]).toEqual([
      200,
      [
        { jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringContaining('at most 256') as string } },
        { jsonrpc: '2.0', id: 2, error: { code: -32600, message: expect.stringContaining('not run') as string } },
      ],
    ]);
    const noInitParams = await post('{"jsonrpc":"2.0","id":3,"method":"initialize"}');
    expect(await noInitParams.json()).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32602, message: expect.stringMatching(/^Invalid params: initialize takes other params/) as string },
    });
    const huge = await post(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_balance","arguments":{"x":"${'y'.repeat(9 * 1024 * 1024)}"}}}`);
    expect([huge.status, ((await huge.json()) as { error: { code: string } }).error.code]).toEqual([413, 'SWARM_PAYLOAD_TOO_LARGE']);
    const client = await connected(http(token));
    expect((await call(client, 'get_balance')).structuredContent).toMatchObject({ available: '5' });
    await client.close();
  });

  it('over stdio, raw JSON-RPC lines: answers bad calls with proper errors and keeps serving', async () => {
    const token = await newAgent('mcp-raw', 10n);
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [SWARM, 'mcp'], {
      env: { PATH: process.env['PATH'] ?? '', SWARM_AGENT_TOKEN: token, SWARM_API_URL: `http://${node.httpAddress}` },
    });
    const replies = new Map<unknown, Record<string, unknown>>();
    const waiting = new Map<unknown, (r: Record<string, unknown>) => void>();
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      replies.set(msg['id'], msg);
      waiting.get(msg['id'])?.(msg);
    });
    const reply = (id: unknown) =>
      new Promise<Record<string, unknown>>((resolve) => (replies.has(id) ? resolve(replies.get(id) as Record<string, unknown>) : waiting.set(id, resolve)));
    const send = (line: string) => child.stdin.write(`${line}\n`);
    try {
      send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
      expect(await reply(1)).toMatchObject({ result: { serverInfo: { name: 'swarmharness' }, capabilities: { tools: {}, resources: {} } } });
      send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
      expect(((await reply(2))['result'] as { tools: unknown[] }).tools).toHaveLength(6);

      send('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}');
      expect(await reply(3)).toMatchObject({ error: { code: -32602, message: expect.stringContaining("unknown tool 'no_such_tool'") } });
      send('{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"submit_task","arguments":{"skill":"teleport","inputs":{}}}}');
      expect(await reply(4)).toMatchObject({
        result: {
          isError: true,
          content: [{ type: 'text', text: expect.stringMatching(/^SWARM_INVALID_ARGUMENT: submit_task: arguments\.skill must be equal to one of the allowed values/) }],
        },
      });
      send(
        '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"submit_task","arguments":{"skill":"matmul","inputs":{"a":{"shape":[2,2],"data":[1,2,3,4]},"b":{"shape":[3,1],"data":[1,2,3]}}}}}',
      );
      expect(await reply(5)).toMatchObject({ result: { isError: true, content: [{ text: expect.stringMatching(/^SWARM_INVALID_ARGUMENT: matmul needs/) }] } });
      send('{"jsonrpc":"2.0","id":6,"method":"no/such/method"}');
      expect(await reply(6)).toMatchObject({ error: { code: -32601 } });
      send('this is not json');
      expect(await reply(null)).toMatchObject({ error: { code: -32700 } });
      // A tools/call without params: Invalid params in a line (it was an internal error with the schema library's dump).
      send('{"jsonrpc":"2.0","id":8,"method":"tools/call"}');
      expect(await reply(8)).toEqual({ jsonrpc: '2.0', id: 8, error: { code: -32602, message: expect.stringMatching(/^Invalid params: tools\/call takes/) } });
      // An id too long to echo: Invalid Request, answered with a null id.
      replies.delete(null);
      send(JSON.stringify({ jsonrpc: '2.0', id: 'i'.repeat(100_000), method: 'tools/list' }));
      expect(await reply(null)).toMatchObject({ id: null, error: { code: -32600, message: expect.stringContaining('at most 256 characters') } });

      // Still serving, and nothing was charged.
      send('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_balance","arguments":{}}}');
      expect(await reply(7)).toMatchObject({ result: { structuredContent: { available: '10', spent: '0' } } });
    } finally {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
    }
    expect(child.exitCode).toBe(0);
  });

  it('over stdio, piped: does not wait at the end for a call the client cancelled', async () => {
    const token = await newAgent('mcp-cancel', 100n);
    const child = spawn(process.execPath, [SWARM, 'mcp'], {
      env: { PATH: process.env['PATH'] ?? '', SWARM_AGENT_TOKEN: token, SWARM_API_URL: `http://${node.httpAddress}` },
    });
    const started = Date.now();
    const n = 200;
    const values = JSON.stringify(Array.from({ length: n * n }, (_, i) => (i % 7) - 3));
    child.stdin.end(
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"submit_task","arguments":{"skill":"matmul","inputs":{"a":{"shape":[${n},${n}],"data":${values}},"b":{"shape":[${n},${n}],"data":${values}}}}}}\n` +
        '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"changed my mind"}}\n',
    );
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('over stdio, piped: answers the calls read before stdin ended, a paid task included, then exits', async () => {
    const token = await newAgent('mcp-piped', 10n);
    const child = spawn(process.execPath, [SWARM, 'mcp'], {
      env: { PATH: process.env['PATH'] ?? '', SWARM_AGENT_TOKEN: token, SWARM_API_URL: `http://${node.httpAddress}` },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stdin.end(
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"submit_task","arguments":{"skill":"vecadd","inputs":{"a":{"shape":[2],"data":[1,2]},"b":{"shape":[2],"data":[3,4]}}}}}\n' +
        '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_balance","arguments":{}}}\n',
    );
    const code = await new Promise((resolve) => child.once('exit', resolve));
    const replies = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: number; result: { structuredContent: Record<string, unknown> } });
    expect(code).toBe(0);
    expect(replies.map((r) => r.id).sort()).toEqual([1, 2]);
    expect(replies.find((r) => r.id === 1)?.result.structuredContent).toMatchObject({ outputs: [{ name: 'c', data: [4, 6] }] });
  });
});

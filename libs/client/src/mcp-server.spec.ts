import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { AgentClient, WaitOptions } from './agent-client';
import type { AgentTask, TaskResult, TaskStatus } from './agent-api-types';
import { AgentApiError } from './api-error';
import { MCP_MAX_RESULT_VALUES } from './mcp-json';
import { createSwarmMcpServer } from './mcp-server';

const RESULT: TaskResult = {
  taskId: 'task-1',
  outputs: [{ name: 'c', shape: [2], data: Float32Array.of(4, 6) }],
  cost: 3n,
  refunded: 0n,
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

const STATUS: TaskStatus = {
  taskId: 'task-1',
  state: 'TASK_STATE_PAID',
  cost: 3n,
  refunded: 0n,
  providerId: 'node-1',
  source: 'router',
  attempts: 1,
  note: '',
};

function unused(): never {
  throw new Error('not used by this test');
}

/** The SDK's client as the MCP tools see it, answering from the test. */
function fakeApi(over: Partial<AgentClient>): AgentClient {
  return {
    baseUrl: 'http://fake',
    skills: unused,
    quote: unused,
    submit: unused,
    submitAsync: unused,
    wait: unused,
    events: unused,
    task: unused,
    balance: unused,
    peers: unused,
    ...over,
  };
}

async function connect(api: AgentClient, progressHeartbeatMs = 1_000): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createSwarmMcpServer(api, { version: '0.0.0', progressHeartbeatMs }).connect(serverSide);
  const client = new Client({ name: 'test', version: '0.0.0' });
  await client.connect(clientSide);
  return client;
}

const VECADD = { skill: 'vecadd', inputs: { a: { shape: [1], data: [1] }, b: { shape: [1], data: [2] } } };

describe('MCP server - tools on the SDK client', () => {
  it('runs submit_task in one call without a progressToken, and says who was paid', async () => {
    const tasks: AgentTask[] = [];
    const client = await connect(fakeApi({ submit: async (t) => (tasks.push(t), RESULT) }));
    const res = await client.callTool({ name: 'submit_task', arguments: VECADD });
    expect(res.structuredContent).toMatchObject({ taskId: 'task-1', cost: '3', providerId: 'node-1', paidTo: 'node-1', outputs: [{ name: 'c', shape: [2], data: [4, 6] }] });
    expect(tasks[0]?.inputs.map((i) => i.name)).toEqual(['a', 'b']);
    await client.close();
  });

  it('answers a result of more than MCP_MAX_RESULT_VALUES values with its output shapes only, and where to fetch the values', async () => {
    const size = (n: number): TaskResult => ({ ...RESULT, outputs: [{ name: 'c', shape: [n], data: new Float32Array(n).fill(0.5) }] });
    const client = await connect(fakeApi({ submit: async () => size(MCP_MAX_RESULT_VALUES), task: async () => ({ ...STATUS, result: size(MCP_MAX_RESULT_VALUES + 1) }) }));
    const atLimit = await client.callTool({ name: 'submit_task', arguments: VECADD });
    expect((atLimit.structuredContent as { outputs: Array<{ data: number[] }> }).outputs[0]?.data).toHaveLength(MCP_MAX_RESULT_VALUES);
    const above = (await client.callTool({ name: 'get_task', arguments: { taskId: 'task-1' } })) as { structuredContent: unknown; content: Array<{ text: string }> };
    expect(above.structuredContent).toMatchObject({
      state: 'TASK_STATE_PAID',
      result: {
        taskId: 'task-1',
        cost: '3',
        outputs: [{ name: 'c', shape: [MCP_MAX_RESULT_VALUES + 1], values: MCP_MAX_RESULT_VALUES + 1 }],
        outputsNote: expect.stringContaining('GET /v1/tasks/task-1?encoding=base64') as string,
      },
    });
    expect(above.content[0]?.text.length).toBeLessThan(2_000);
    await client.close();
  });

  it('passes redundancy on and lists each replica of a redundant task, with who was paid', async () => {
    const tasks: AgentTask[] = [];
    const replica = { providerId: 'node-1', executorId: 'e1', counted: true, paid: 3n, share: 0.5, note: '', executeMs: 4 };
    const contributions = [replica, { ...replica, providerId: 'node-2' }, { ...replica, providerId: 'node-3', counted: false, paid: 0n, share: 0, note: 'disagreed' }];
    const client = await connect(fakeApi({ submit: async (t) => (tasks.push(t), { ...RESULT, cost: 6n, contributions }) }));
    const res = await client.callTool({ name: 'submit_task', arguments: { ...VECADD, redundancy: 3 } });
    expect(tasks[0]?.redundancy).toBe(3);
    expect(res.structuredContent).toMatchObject({
      cost: '6',
      paidTo: 'node-1, node-2',
      contributions: [
        { providerId: 'node-1', counted: true, paid: '3', share: 0.5 },
        { providerId: 'node-2', paid: '3' },
        { providerId: 'node-3', counted: false, paid: '0', note: 'disagreed' },
      ],
    });
    await client.close();
  });

  it('sends progress while a long task runs: accepted, a heartbeat, running, done', async () => {
    let release: () => void = () => undefined;
    const api = fakeApi({
      submitAsync: async () => ({ taskId: 'task-1', idempotencyKey: 'k' }),
      wait: async (_id: string, o: WaitOptions = {}) => {
        o.onEvent?.({ type: 'running', taskId: 'task-1' });
        await new Promise<void>((resolve) => (release = resolve));
        return RESULT;
      },
    });
    const client = await connect(api, 20);
    const messages: string[] = [];
    const call = client.callTool({ name: 'submit_task', arguments: VECADD }, undefined, {
      onprogress: (p) => {
        messages.push(p.message ?? '');
        if (messages.some((m) => m.startsWith('running for'))) release();
      },
    });
    await call;
    expect(messages[0]).toBe('accepted: task-1');
    expect(messages).toContain('running on the node');
    expect(messages.at(-1)).toBe('done: verified (recompute), paid 3 credits to node-1…');
    await client.close();
  });

  it('answers failures as isError with the SWARM_* code, and hides unexpected ones', async () => {
    const client = await connect(
      fakeApi({
        balance: async () => {
          throw new AgentApiError('SWARM_UNAUTHENTICATED', 'this agent token was revoked', 401);
        },
        peers: async () => {
          throw new Error('socket exploded at 0xdeadbeef');
        },
        quote: async () => {
          throw new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, 'x'.repeat(5_000));
        },
      }),
    );
    expect(await client.callTool({ name: 'get_balance', arguments: {} })).toEqual({
      content: [{ type: 'text', text: 'SWARM_UNAUTHENTICATED: this agent token was revoked' }],
      structuredContent: { error: { code: 'SWARM_UNAUTHENTICATED', message: 'this agent token was revoked', retryable: false } },
      isError: true,
    });
    expect(await client.callTool({ name: 'list_peers', arguments: {} })).toMatchObject({
      isError: true,
      content: [{ text: 'SWARM_INTERNAL: internal error; details are in the server log' }],
    });
    const long = (await client.callTool({ name: 'quote_task', arguments: { skill: 'vecadd', shapes: { a: [1], b: [1] } } })) as { content: Array<{ text: string }> };
    expect(long.content[0]?.text.length).toBeLessThan(400);
    await client.close();
  });

  it('stops waiting when the caller cancels the call', async () => {
    let seen: AbortSignal | undefined;
    const api = fakeApi({
      submit: (_t, o = {}) =>
        new Promise((_resolve, reject) => {
          seen = o.signal;
          o.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    });
    const client = await connect(api);
    const controller = new AbortController();
    const call = client.callTool({ name: 'submit_task', arguments: VECADD }, undefined, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    controller.abort('enough');
    await expect(call).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 20));
    expect(seen?.aborted).toBe(true);
    await client.close();
  });
});

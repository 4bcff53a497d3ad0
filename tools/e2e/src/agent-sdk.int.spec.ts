/**
 * The SDK's HTTP client (@swarm/client createAgentClient) against a whole node: typed skills,
 * quotes and verified results, async tasks with their events, large inputs as protobuf, typed
 * errors with the server's codes, waiting cancelled by an AbortSignal while the task still ends
 * and is paid once, and node discovery from node.json.
 */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { AgentApiError, AgentClient, SwarmClient, TaskEvent } from '@swarm/client';
import { connectSwarm, createAgentClient, resolveApiUrl } from '@swarm/client';
import { ErrorCode, isSwarmError } from '@swarm/contracts';
import { swarmErrorOf, tempDir } from '@swarm/testing';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';

jest.setTimeout(60_000);

const matmulTask = (n: number) => ({
  skill: 'matmul',
  inputs: [
    { name: 'a', shape: [n, n], data: Float32Array.from({ length: n * n }, (_, i) => i % 3) },
    { name: 'b', shape: [n, n], data: Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)) },
  ],
});

describe('SDK - the agent HTTP client on a whole node', () => {
  let node: InProcessNode;
  let operator: SwarmClient;

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_GENESIS_GRANT: '5000' }, { closedBus: true });
    operator = await connectSwarm(node.natsUrl, { nkeyFile: join(node.dataDir, 'bus', 'observer.nk'), role: 'observer' });
  }, 60_000);

  afterAll(async () => {
    await operator?.close();
    await node?.stop();
  });

  const agent = async (name: string, budget: bigint): Promise<AgentClient> =>
    createAgentClient({ baseUrl: `http://${node.httpAddress}`, token: (await operator.addAgent({ name, budget, ttlMs: 0n })).token });

  it('quotes and runs a verified task, typed; its cost leaves the agent’s account', async () => {
    const client = await agent('sdk-sync', 100n);
    const skills = await client.skills();
    expect(skills.skills.find((s) => s.name === 'matmul')).toMatchObject({
      inputs: [
        { name: 'a', shape: ['n', 'k'] },
        { name: 'b', shape: ['k', 'm'] },
      ],
      pricePerMwork: 1n,
    });
    const quote = await client.quote('matmul', [
      { name: 'a', shape: [8, 8] },
      { name: 'b', shape: [8, 8] },
    ]);
    const task = matmulTask(8);
    const r = await client.submit(task);
    expect(r).toMatchObject({ cost: quote.price, account: 'agent/sdk-sync', providerId: node.nodeId, settlement: 'TASK_STATE_PAID' });
    expect(r.verification).not.toBe('');
    // b is the identity: c = a.
    expect(Array.from(r.outputs[0]?.data ?? [])).toEqual(Array.from(task.inputs[0].data));
    expect(await client.balance()).toMatchObject({ available: 100n - quote.price, spent: quote.price, tasks: 1n });
    expect(await client.task(r.taskId)).toMatchObject({ state: 'TASK_STATE_PAID', cost: quote.price });
    expect(await client.peers()).toEqual([]);
  });

  it('runs a task asynchronously with progress events, and sends large inputs as protobuf', async () => {
    const client = await agent('sdk-async', 1_000n);
    const events: TaskEvent['type'][] = [];
    const r = await client.submit(matmulTask(16), { onEvent: (e) => events.push(e.type) });
    expect(events).toEqual(['accepted', 'running', 'done']);
    expect(r.outputs[0]?.shape).toEqual([16, 16]);

    // 1.2M values: past a JSON body, so the SDK sends a protobuf SubmitTaskRequest.
    const n = 600_000;
    const a = Float32Array.from({ length: n }, (_, i) => i % 1000);
    const sum = await client.submit({
      skill: 'vecadd',
      inputs: [
        { name: 'a', shape: [n], data: a },
        { name: 'b', shape: [n], data: new Float32Array(n).fill(0.5) },
      ],
    });
    expect(sum.outputs[0]?.data.length).toBe(n);
    expect(sum.outputs[0]?.data[999]).toBe(999.5);
  });

  it("gives the server's errors as SwarmErrors: spent budget, bad token, unknown task", async () => {
    const client = await agent('sdk-poor', 1n);
    const poor = await swarmErrorOf(client.submit({ ...matmulTask(8), budget: 5n }));
    expect(isSwarmError(poor, ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT)).toBe(true);
    expect((poor as AgentApiError).status).toBe(400);

    const stranger = createAgentClient({ baseUrl: `http://${node.httpAddress}`, token: `swt_${'z'.repeat(43)}` });
    const denied = await swarmErrorOf(stranger.balance());
    expect([denied.code, (denied as AgentApiError).status]).toEqual([ErrorCode.ERROR_CODE_UNAUTHENTICATED, 401]);

    const missing = await swarmErrorOf(client.task('task-00000000000000000000000000000000'));
    expect([missing.codeName, (missing as AgentApiError).status]).toEqual(['SWARM_TASK_UNKNOWN', 404]);
    expect(await client.balance()).toMatchObject({ available: 1n, spent: 0n });
  });

  it('stops waiting on abort; the task still ends on the node and is paid once', async () => {
    const client = await agent('sdk-abort', 100n);
    const { taskId } = await client.submitAsync({ ...matmulTask(32), idempotencyKey: 'abort-1' });
    const controller = new AbortController();
    controller.abort(new Error('the agent moved on'));
    await expect(client.wait(taskId, { signal: controller.signal })).rejects.toThrow('the agent moved on');
    const r = await client.wait(taskId);
    // The same key again is the same task: answered from its record, not run or paid again.
    const again = await client.submitAsync({ ...matmulTask(32), idempotencyKey: 'abort-1' });
    expect(again.taskId).toBe(taskId);
    expect(await client.balance()).toMatchObject({ spent: r.cost, tasks: 1n });
  });

  it('finds the node’s API from node.json (the SDK’s discovery, as the CLI uses it)', async () => {
    const home = await tempDir('swarm-sdk-home-');
    try {
      await writeFile(join(home.path, 'node.json'), JSON.stringify({ natsUrl: node.natsUrl, nodeId: node.nodeId, pid: process.pid, httpAddress: node.httpAddress }));
      const baseUrl = await resolveApiUrl({ dataDir: home.path }, {});
      const { token } = await operator.addAgent({ name: 'sdk-found', budget: 3n, ttlMs: 0n });
      expect(await createAgentClient({ baseUrl, token }).balance()).toMatchObject({ account: 'agent/sdk-found', available: 3n });
    } finally {
      await home.remove();
    }
  });
});

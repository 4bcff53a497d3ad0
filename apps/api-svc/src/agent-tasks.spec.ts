import type { BusClient } from '@swarm/bus';
import type { SubmitTaskRequest, SubmitTaskResponse } from '@swarm/contracts';
import { ErrorCode, SwarmError, toTensor } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import { createLogger } from '@swarm/telemetry';
import type { AgentTaskLimits } from './agent-tasks';
import { createAgentTasks } from './agent-tasks';
import { newAgentRecord } from './agent-rules';
import type { TaskInput } from './task-input';

const log = createLogger({ service: 'agent-tasks-spec', level: 'silent' });
const alice = newAgentRecord('alice', 100n, 0, 0, 'a'.repeat(64));
const bob = newAgentRecord('bob', 100n, 0, 0, 'b'.repeat(64));

function vecadd(key: string, first = 1): TaskInput {
  return {
    skill: 'vecadd',
    inputs: [toTensor('a', [2], Float32Array.of(first, 2)), toTensor('b', [2], Float32Array.of(3, 4))],
    budget: 0n,
    timeoutMs: 0,
    idempotencyKey: key,
    redundancy: 0,
    shards: 0,
  };
}

/** A router that answers each submit as `answer` says: a result (paid) or a refusal. */
function fakeBus(answer: (req: SubmitTaskRequest) => SubmitTaskResponse | SwarmError) {
  const sent: SubmitTaskRequest[] = [];
  const bus = {
    request: (_rpc: unknown, req: SubmitTaskRequest) => {
      sent.push(req);
      const a = answer(req);
      return a instanceof SwarmError ? Promise.reject(a) : Promise.resolve(a);
    },
  } as unknown as BusClient;
  return { bus, sent };
}

const paid = (req: SubmitTaskRequest): SubmitTaskResponse =>
  ({ taskId: req.idempotencyKey, outputs: [toTensor('c', [2], Float32Array.of(4, 6))], cost: 1n }) as unknown as SubmitTaskResponse;

function tasksWith(answer: (req: SubmitTaskRequest) => SubmitTaskResponse | SwarmError, limits?: Partial<AgentTaskLimits>) {
  const { bus, sent } = fakeBus(answer);
  const clock = manualClock(0);
  let keys = 0;
  const full: AgentTaskLimits = { maxHeld: 2_000, maxRunningPerAgent: 64, retentionMs: 600_000, maxResultBytes: 1 << 20, ...limits };
  return { tasks: createAgentTasks({ bus, stopwatch: clock, log, newKey: () => `k${++keys}`, limits: full }), sent };
}

describe('agent tasks - a key is one task', () => {
  it('joins a retry that asks the same, and refuses the key for another task, running or done', async () => {
    const { tasks, sent } = tasksWith(paid);
    const first = tasks.submit(alice, vecadd('k'), 5n);
    expect(first.joined).toBe(false);
    expect(() => tasks.submit(alice, vecadd('k', 9), 5n)).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.stringMatching(/already used for a different task/) }),
    );
    const again = tasks.submit(alice, vecadd('k'), 5n);
    expect(again).toMatchObject({ joined: true, job: first.job });
    await first.job.ended;
    expect(tasks.submit(alice, vecadd('k'), 5n).joined).toBe(true);
    // Another budget is another task too (the router's fingerprint).
    expect(() => tasks.submit(alice, vecadd('k'), 6n)).toThrow(/already used for a different task/);
    expect(sent).toHaveLength(1);
  });

  it('sends a refused task again, whatever it asks now: the router decides', async () => {
    let refuse = true;
    const { tasks, sent } = tasksWith((req) => (refuse ? new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'no') : paid(req)));
    await tasks.submit(alice, vecadd('k'), 5n).job.ended;
    refuse = false;
    const retry = tasks.submit(alice, vecadd('k'), 50n);
    expect(retry.joined).toBe(false);
    await retry.job.ended;
    expect(retry.job.state).toBe('done');
    expect(sent.map((r) => r.budget)).toEqual([5n, 50n]);
  });

  it('keys one agent apart from another', async () => {
    const { tasks } = tasksWith(paid);
    const a = tasks.submit(alice, vecadd('k'), 5n);
    const b = tasks.submit(bob, vecadd('k', 9), 5n);
    expect(b.joined).toBe(false);
    expect(b.job.taskId).not.toBe(a.job.taskId);
  });
});

describe("agent tasks - no agent pushes out another's results", () => {
  it('lets an agent alone hold up to the whole, its paid results kept', async () => {
    const { tasks } = tasksWith(paid, { maxHeld: 600 });
    const ids = [];
    for (let i = 0; i < 600; i++) {
      const { job } = tasks.submit(alice, vecadd(`k${i}`), 5n);
      ids.push(job.taskId);
      await job.ended;
    }
    expect(ids.every((id) => tasks.get(alice, id)?.result !== undefined)).toBe(true);
  });

  const refused = () => new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'no');

  it("keeps an agent's result while another floods refused submits past what is held", async () => {
    const { tasks } = tasksWith((req) => (req.account === bob.account ? paid(req) : refused()), { maxHeld: 20 });
    const kept = tasks.submit(bob, vecadd('mine'), 5n).job;
    await kept.ended;
    const flood = [];
    for (let i = 0; i < 200; i++) {
      const { job } = tasks.submit(alice, vecadd(`flood-${i}`), 5n);
      flood.push(job.taskId);
      await job.ended;
    }
    expect(tasks.get(bob, kept.taskId)?.result?.outputs).toHaveLength(1);
    // At most maxHeld (21 with the one just sent), Alice's oldest gone.
    expect(tasks.counts().held).toBe(21);
    expect(tasks.get(alice, flood[0])).toBeUndefined();
    expect(tasks.get(alice, flood[199])?.state).toBe('failed');
  });

  it('past the total, forgets the tasks of the agent holding the most, its refusals first', async () => {
    const { tasks } = tasksWith((req) => (req.idempotencyKey.startsWith('no-') ? refused() : paid(req)), { maxHeld: 10 });
    const bobs = [];
    for (let i = 0; i < 4; i++) bobs.push(tasks.submit(bob, vecadd(`b${i}`), 5n).job);
    const alicePaid = tasks.submit(alice, vecadd('a-paid'), 5n).job;
    for (let i = 0; i < 8; i++) await tasks.submit(alice, vecadd(`no-${i}`), 5n).job.ended;
    await Promise.all([...bobs, alicePaid].map((j) => j.ended));
    tasks.submit(alice, vecadd('no-last'), 5n);
    for (const j of bobs) expect(tasks.get(bob, j.taskId)?.state).toBe('done');
    expect(tasks.get(alice, alicePaid.taskId)?.state).toBe('done');
    expect(tasks.counts().held).toBeLessThanOrEqual(11);
  });
});

describe('agent tasks - what results hold', () => {
  /** A result whose output is a 16-byte view into a 1 MiB buffer, as a decoded bus message is. */
  const inBigBuffer = (req: SubmitTaskRequest): SubmitTaskResponse => {
    const message = new Uint8Array(1 << 20);
    const c = toTensor('c', [4], Float32Array.of(1, 2, 3, 4));
    message.set(c.data, 1_000);
    return { ...paid(req), outputs: [{ ...c, data: message.subarray(1_000, 1_016) }] };
  };

  it("keeps a result's bytes alone, not the message buffer they came in", async () => {
    const { tasks } = tasksWith(inBigBuffer);
    const { job } = tasks.submit(alice, vecadd('k'), 5n);
    await job.ended;
    const data = job.result?.outputs[0]?.data;
    expect([data?.byteLength, data?.buffer.byteLength]).toEqual([16, 16]);
    expect([...new Float32Array(data?.buffer ?? new ArrayBuffer(0))]).toEqual([1, 2, 3, 4]);
  });

  it('holds the result-bytes bound as results arrive, not only at the next submit', async () => {
    // Room for two 8-byte results: the oldest outputs go as the third arrives; statuses stay.
    const { tasks } = tasksWith(paid, { maxResultBytes: 16 });
    const jobs = [];
    for (const key of ['k1', 'k2', 'k3']) jobs.push(tasks.submit(alice, vecadd(key), 5n).job);
    await Promise.all(jobs.map((j) => j.ended));
    expect(jobs.map((j) => [j.state, j.result?.outputs.length])).toEqual([
      ['done', 0],
      ['done', 1],
      ['done', 1],
    ]);
  });
});

describe('agent tasks - the deadline from arrival', () => {
  it('sends the router what is left of the timeout; with nothing left, DEADLINE_EXCEEDED and nothing sent', async () => {
    const { tasks, sent } = tasksWith(paid);
    await tasks.submit(alice, { ...vecadd('k1'), timeoutMs: 5_000 }, 5n, 1_200.5).job.ended;
    expect(sent.map((r) => r.timeoutMs)).toEqual([3_799]);
    expect(() => tasks.submit(alice, { ...vecadd('k2'), timeoutMs: 5_000 }, 5n, 5_000)).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, message: expect.stringMatching(/nothing was sent or charged/) }),
    );
    expect(sent).toHaveLength(1);
    // A retry of a task it holds joins it, however long its body took.
    expect(tasks.submit(alice, { ...vecadd('k1'), timeoutMs: 5_000 }, 5n, 60_000).joined).toBe(true);
  });

  it('keeps the outputs of a result that just arrived for its caller, even past the bytes bound', async () => {
    // Alice holds the most once her second result comes: her first goes, then Bob's, not the new one.
    const { tasks } = tasksWith(paid, { maxResultBytes: 12 });
    const first = tasks.submit(alice, vecadd('a0'), 5n).job;
    await first.ended;
    const bobs = tasks.submit(bob, vecadd('b1'), 5n).job;
    await bobs.ended;
    const { job } = tasks.submit(alice, vecadd('a1'), 5n);
    await job.ended;
    expect([first, bobs, job].map((j) => j.result?.outputs.length)).toEqual([0, 0, 1]);
  });
});

describe('agent tasks - an agent revoked while its task ran', () => {
  it('is told its refund went to the node, not that it got it back', async () => {
    let revoked = false;
    const { bus } = fakeBus((req) => {
      revoked = true; // the operator revokes it while the router runs the task
      return { ...paid(req), cost: 432n, refunded: 18n, settlementNote: '' };
    });
    const tasks = createAgentTasks({ bus, stopwatch: manualClock(0), log, newKey: () => 'k', revoked: (agent) => agent === 'alice' && revoked });
    const { job } = tasks.submit(alice, vecadd('k'), 450n);
    await job.ended;
    expect(job.result).toMatchObject({
      refunded: 18n,
      settlementNote: "this agent was revoked while the task ran: the 18 credits refunded went to the node's account, not the agent's",
    });
    // Nothing refunded, or an agent still in good standing: the answer as the router gave it.
    const { job: other } = tasks.submit(bob, vecadd('k'), 450n);
    await other.ended;
    expect(other.result?.settlementNote).toBe('');
  });
});

import { SubmitTaskResponse, TaskState, toTensor } from '@swarm/contracts';
import { paidLine } from '../task-lines';
import { printResult } from './submit';
import { printed } from '../test-fixtures/printed';

describe('swarm submit - the paid line', () => {
  const nodeId = 'a'.repeat(64);

  it("says a task the node's own executors ran left nothing the node had", () => {
    expect(paidLine({ cost: 269n, refunded: 0n, providerId: nodeId, account: nodeId })).toBe(
      `269 credits to this node's own executors (${'a'.repeat(16)}…): nothing left the node (refunded 0)`,
    );
  });

  it('names the provider another node or an agent paid', () => {
    expect(paidLine({ cost: 1n, refunded: 2n, providerId: 'b'.repeat(64), account: nodeId })).toBe(`1 credit to ${'b'.repeat(16)}… (refunded 2)`);
    expect(paidLine({ cost: 3n, refunded: 0n, providerId: nodeId, account: 'agent/x' })).toBe(`3 credits to ${'a'.repeat(16)}… (refunded 0)`);
  });

  it('names each provider a redundant or sharded task paid, and what left the node', () => {
    const contribution = (providerId: string, paid: bigint) => ({ providerId, executorId: '', counted: paid > 0n, paid, share: 0.5, note: '', executeMs: 1 });
    const replicas = [contribution(nodeId, 16n), contribution('b'.repeat(64), 16n), contribution('c'.repeat(64), 0n)];
    expect(paidLine({ cost: 32n, refunded: 0n, providerId: nodeId, account: nodeId, contributions: replicas })).toBe(
      `32 credits: 16 credits to this node's own executors, 16 credits to ${'b'.repeat(16)}…; 16 credits left the node (refunded 0)`,
    );
    expect(paidLine({ cost: 16n, refunded: 1n, providerId: nodeId, account: nodeId, contributions: [contribution(nodeId, 16n)] })).toBe(
      "16 credits: 16 credits to this node's own executors; nothing left the node (refunded 1)",
    );
    // An agent's task: every provider is named; what stays in the node is not the agent's to say.
    expect(paidLine({ cost: 32n, refunded: 0n, providerId: nodeId, account: 'agent/x', contributions: replicas })).toBe(
      `32 credits: 16 credits to ${'a'.repeat(16)}…, 16 credits to ${'b'.repeat(16)}… (refunded 0)`,
    );
  });
});

describe('swarm submit - the result table', () => {
  const nodeId = 'a'.repeat(64);
  // As the router words it (libs/pipeline settlement.ts): about 200 characters.
  const LOCAL_ONLY_NOTE =
    "could run on this node's own executors only, with no other node to fall back on: this node's chain could not pledge the task to another node (most of a new node's grant stays locked until it first serves another node; swarm ledger shows it)";
  const result = SubmitTaskResponse.fromPartial({
    taskId: 'task-1',
    outputs: [toTensor('c', [2], new Float32Array([1, 2]))],
    cost: 269n,
    providerId: nodeId,
    account: nodeId,
    executorId: 'exec-1',
    backend: 'cpu',
    verification: 'freivalds',
    attempts: 1,
    timing: { escrowMs: 1, executeMs: 40, verifyMs: 30, settleMs: 2, totalMs: 60 },
    placementNote: LOCAL_ONLY_NOTE,
    shards: [{ index: 0, rowStart: 0, rowEnd: 1, providerId: nodeId, executorId: 'exec-1', attempts: 1, share: 1, executeMs: 40 }],
  });

  it('wraps a long note inside about 120 columns, and does not add up parts that overlap', () => {
    const out = printed(() => printResult(result));
    const lines = out.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);
    expect(out.replace(/[│\s]+/g, ' ')).toContain(LOCAL_ONLY_NOTE);
    // A sharded task's parts overlap (execute is first dispatch to last verdict): no false sum.
    expect(out).toMatch(/total 60 ms: escrow/);
    // Split over row blocks: how many nodes ran it (named below), not one executor.
    expect(out.replace(/[│\s]+/g, ' ')).toContain('executor 1 node (below), 1 dispatch in all');
    expect(out).not.toContain('exec-1 (gpu.js');
    expect(out).not.toMatch(/total 60 ms =/);
  });

  it('keeps a word wider than the column (a long id) whole, split over lines rather than cut', () => {
    const id = `task-0:${'a'.repeat(64)}:${'b'.repeat(64)}`;
    const out = printed(() => printResult(SubmitTaskResponse.fromPartial({ ...result, settlement: TaskState.TASK_STATE_REFUNDED, settlementNote: `settle of ${id} failed` })));
    expect(Math.max(...out.split('\n').map((l) => l.length))).toBeLessThanOrEqual(120);
    expect(out.replace(/[│\s]+/g, '')).toContain(id);
    expect(out).not.toContain('…:');
  });

  it('names the key the task went with (made up when --key was not given), so it can be asked again', () => {
    const out = printed(() => {
      printResult({ ...result, idempotencyKey: 'cli-7f3e' });
      printResult({ ...result, idempotencyKey: '' });
    });
    const [withKey, without] = out.split(/(?=┌)/).filter((t) => t.includes('task'));
    expect(withKey.replace(/[│\s]+/g, ' ')).toContain('key cli-7f3e (the same command with --key cli-7f3e gets this answer, never run or charged twice)');
    expect(without).not.toMatch(/│ key /);
  });

  it('says a task run first and charged once verified had no escrow, rather than an escrow of 0 ms', () => {
    const out = printed(() => printResult({ ...result, shards: [], timing: { escrowMs: 0, executeMs: 1.5, verifyMs: 0.25, settleMs: 1.25, totalMs: 3 } }));
    expect(out.replace(/[│\s]+/g, ' ')).toContain(
      'total 3.00 ms = execute 1.50 ms + verify 0.25 ms + charge 1.25 ms + the rest 0.00 ms (checks, lookup, dispatch); no escrow: run first, charged once verified',
    );
    expect(out).not.toContain('escrow 0.00 ms');
  });

  it('writes a time line that adds up: what no phase times is named as the rest', () => {
    const folded = printed(() => printResult({ ...result, shards: [], timing: { escrowMs: 0, executeMs: 10, verifyMs: 2, settleMs: 3, totalMs: 21 } }));
    expect(folded.replace(/[│\s]+/g, ' ')).toContain('total 21 ms = execute 10 ms + verify 2.00 ms + charge 3.00 ms + the rest 6.00 ms (checks, lookup, dispatch)');
    const escrowed = printed(() => printResult({ ...result, shards: [], timing: { escrowMs: 4, executeMs: 10, verifyMs: 2, settleMs: 3, totalMs: 20 } }));
    expect(escrowed.replace(/[│\s]+/g, ' ')).toContain('total 20 ms = escrow 4.00 ms + execute 10 ms + verify 2.00 ms + settle 3.00 ms + the rest 1.00 ms');
  });
});

import { ErrorCode, SubmitTaskRequest, TASK_MAX_ELEMENTS, TaskState, toTensor } from '@swarm/contracts';
import { agentSubmitRequest, taskFromJson, taskFromProtobuf, taskResultJson } from './task-input';

const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64');

describe('task input - JSON body', () => {
  it('takes numbers or base64 f32', () => {
    const input = taskFromJson({
      skill: 'vecadd',
      inputs: [
        { name: 'a', shape: [3], data: [1, 2, 3] },
        { name: 'b', shape: [3], dataBase64: f32([4, 5, 6]) },
      ],
      budget: '12',
      timeoutMs: 5_000,
    });
    expect(input).toMatchObject({ skill: 'vecadd', budget: 12n, timeoutMs: 5_000, idempotencyKey: '', redundancy: 1 });
    expect(input.inputs.map((t) => [...new Float32Array(new Uint8Array(t.data).buffer)])).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('takes base64 of a tensor up to the whole task limit, one tensor or several (not a quarter of it)', () => {
    const big = new Float32Array(TASK_MAX_ELEMENTS - 2).map((_, i) => i % 7);
    const input = taskFromJson({
      skill: 'vecadd',
      inputs: [
        { name: 'a', shape: [700, 800], dataBase64: Buffer.from(big.buffer, 0, 560_000 * 4).toString('base64') },
        { name: 'b', shape: [TASK_MAX_ELEMENTS - 2 - 560_000], dataBase64: Buffer.from(big.buffer, 560_000 * 4).toString('base64url') },
        { name: 'c', shape: [2], dataBase64: f32([1, 2]).replace(/=+$/, '') },
      ],
    });
    expect(input.inputs.map((t) => t.data.byteLength)).toEqual([560_000 * 4, (TASK_MAX_ELEMENTS - 2 - 560_000) * 4, 8]);
    expect(new Float32Array(new Uint8Array(input.inputs[1].data).buffer).slice(0, 3)).toEqual(big.slice(560_000, 560_003));
    // One character past the longest base64 of the shape's bytes is refused before decoding.
    expect(() => taskFromJson({ skill: 'vecadd', inputs: [{ name: 'a', shape: [2], dataBase64: `${f32([1, 2])}A` }] })).toThrow(/not base64 of the 2 f32 values/);
  });

  it.each([
    [{ name: 'a', shape: [2], data: [1] }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /1 values but shape \[2\] needs 2/],
    [{ name: 'a', shape: [2] }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /exactly one of data and dataBase64/],
    [{ name: 'a', shape: [2], data: [1, 2], dataBase64: f32([1, 2]) }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /exactly one/],
    [{ name: 'a', shape: [2], dataBase64: f32([1]) }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /needs 8 bytes of f32, dataBase64 holds 4/],
    [{ name: 'a', shape: [2], dataBase64: '***' }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /not base64/],
    [{ name: 'a', shape: [TASK_MAX_ELEMENTS, 2], data: [] }, ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, /at most 2000000/],
    [{ name: 'a', shape: [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1], data: [] }, ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, /more than 2\^53/],
  ])('refuses %p', (tensor, code, message) => {
    expect(() => taskFromJson({ skill: 'vecadd', inputs: [tensor] })).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  it('passes redundancy on to the router', () => {
    const input = taskFromJson({ skill: 'vecadd', inputs: [{ name: 'a', shape: [1], data: [1] }], redundancy: 3 });
    expect(agentSubmitRequest(input, 'agent/bot', 'k', 9n)).toMatchObject({ redundancy: 3, budget: 9n });
  });

  it('passes shards on to the router (0 when not asked for)', () => {
    const input = taskFromJson({ skill: 'matmul', inputs: [{ name: 'a', shape: [1], data: [1] }], shards: 4 });
    expect(agentSubmitRequest(input, 'agent/bot', 'k', 9n)).toMatchObject({ shards: 4, redundancy: 1 });
    expect(taskFromJson({ skill: 'matmul', inputs: [{ name: 'a', shape: [1], data: [1] }] }).shards).toBe(0);
  });

  it('refuses a budget past uint64', () => {
    expect(() => taskFromJson({ skill: 'vecadd', inputs: [{ name: 'a', shape: [1], data: [1] }], budget: '99999999999999999999' })).toThrow(/budget/);
  });
});

describe('task input - protobuf body', () => {
  const tensor = toTensor('a', [2], new Float32Array([1, 2]));

  it('keeps the task and drops the account and task id the agent put in', () => {
    const decoded = SubmitTaskRequest.decode(
      SubmitTaskRequest.encode(SubmitTaskRequest.fromPartial({ skill: 'vecadd', inputs: [tensor], budget: 3n, account: 'node', taskId: 'x' })).finish(),
    );
    const input = taskFromProtobuf(decoded);
    const req = agentSubmitRequest(input, 'agent/bot', 'key-1', 3n);
    expect(req).toMatchObject({ skill: 'vecadd', account: 'agent/bot', taskId: '', idempotencyKey: 'key-1', budget: 3n, redundancy: 0 });
    expect(taskFromProtobuf(SubmitTaskRequest.fromPartial({ skill: 'vecadd', inputs: [tensor], redundancy: 5 })).redundancy).toBe(5);
    expect(taskFromProtobuf(SubmitTaskRequest.fromPartial({ skill: 'matmul', inputs: [tensor], shards: 16 })).shards).toBe(16);
  });

  it.each([
    [{ skill: 'Bad Skill', inputs: [tensor] }, /skill must be/],
    [{ skill: 'vecadd', inputs: [] }, /1 to 16 inputs/],
    [{ skill: 'vecadd', inputs: [{ ...tensor, data: new Uint8Array(4) }] }, /needs 8 bytes, got 4/],
    [{ skill: 'vecadd', inputs: [{ ...tensor, shape: [0] }] }, /whole number from 1/],
    [{ skill: 'vecadd', inputs: [tensor], idempotencyKey: 'no spaces' }, /idempotencyKey/],
    [{ skill: 'vecadd', inputs: [tensor], timeoutMs: 10_000_000 }, /timeoutMs/],
    [{ skill: 'vecadd', inputs: [tensor], redundancy: 6 }, /redundancy must be 1 to 5/],
    [{ skill: 'matmul', inputs: [tensor], shards: 17 }, /shards must be 1 to 16/],
  ])('refuses %p', (partial, message) => {
    expect(() => taskFromProtobuf(SubmitTaskRequest.fromPartial(partial))).toThrow(message);
  });
});

describe('task result - JSON', () => {
  it('gives outputs as numbers or base64 and uint64 as strings', () => {
    const res = {
      taskId: 't',
      outputs: [toTensor('c', [2], new Float32Array([0.5, -1]))],
      cost: 7n,
      refunded: 1n,
      timing: { escrowMs: 1, executeMs: 2, verifyMs: 3, settleMs: 4, totalMs: 10 },
      providerId: 'p',
      executorId: 'e',
      backend: 'cpu',
      verification: 'exact',
      attempts: 1,
      account: 'agent/bot',
      settlement: TaskState.TASK_STATE_PAID,
      settlementNote: '',
      contributions: [],
      shards: [],
      replayed: false,
      placementNote: '',
      idempotencyKey: 'k-1',
    };
    expect(taskResultJson(res, 'json')).toMatchObject({ outputs: [{ name: 'c', shape: [2], data: [0.5, -1] }], cost: '7', refunded: '1', settlement: 'TASK_STATE_PAID' });
    expect(taskResultJson(res, 'base64').outputs[0]).toEqual({ name: 'c', shape: [2], dataBase64: f32([0.5, -1]) });
    expect(taskResultJson(res, 'json')).not.toHaveProperty('contributions');
    const contribution = { providerId: 'p', executorId: 'e', counted: true, paid: 7n, share: 0.5, note: '', executeMs: 12.5 };
    expect(
      taskResultJson({ ...res, contributions: [contribution, { ...contribution, providerId: 'q', counted: false, paid: 0n, share: 0, note: 'disagreed' }] }, 'json').contributions,
    ).toEqual([
      { providerId: 'p', executorId: 'e', counted: true, paid: '7', share: 0.5, note: '', executeMs: 12.5 },
      { providerId: 'q', executorId: 'e', counted: false, paid: '0', share: 0, note: 'disagreed', executeMs: 12.5 },
    ]);
    expect(taskResultJson(res, 'json')).not.toHaveProperty('shards');
    const shard = { index: 0, rowStart: 0, rowEnd: 2, providerId: 'p', executorId: 'e', attempts: 2, share: 1, executeMs: 3 };
    expect(taskResultJson({ ...res, shards: [shard] }, 'json').shards).toEqual([shard]);
    // Said only when there is something to say.
    expect(taskResultJson(res, 'json')).not.toHaveProperty('placementNote');
    expect(taskResultJson({ ...res, placementNote: 'ran here only' }, 'json').placementNote).toBe('ran here only');
  });
});

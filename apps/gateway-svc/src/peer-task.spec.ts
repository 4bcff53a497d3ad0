import type { ExecuteRequest } from '@swarm/contracts';
import { ErrorCode, TASK_MAX_TIMEOUT_MS, toTensor } from '@swarm/contracts';
import { checkPeerTask, MAX_TASK_ID_CHARS, MAX_TASK_INPUTS } from './peer-task';

const input = toTensor('a', [1], Float32Array.of(1));
const task: ExecuteRequest = { taskId: 'task-1', skill: 'vecadd', inputs: [input, input], timeoutMs: 1_000 };

function refusalOf(t: ExecuteRequest | undefined, maxTimeoutMs?: number): { code: ErrorCode; message: string } {
  try {
    checkPeerTask(t, maxTimeoutMs);
  } catch (err) {
    const { code, message } = err as { code: ErrorCode; message: string };
    return { code, message };
  }
  throw new Error('expected a refusal');
}

describe('gateway-svc - peer task shape', () => {
  it('passes a well-formed task through unchanged', () => {
    expect(checkPeerTask(task)).toBe(task);
    expect(checkPeerTask({ ...task, timeoutMs: TASK_MAX_TIMEOUT_MS, taskId: 'x'.repeat(MAX_TASK_ID_CHARS) })).toBeDefined();
  });

  it.each([
    ['no task', undefined, /task is missing/],
    ['an empty task id', { ...task, taskId: '' }, /task_id/],
    ['a huge task id', { ...task, taskId: 'x'.repeat(4 << 20) }, /task_id must have 1 to 128 characters, got 4194304/],
    ['a bad skill name', { ...task, skill: 'Vec Add' }, /skill must match/],
    ['a huge skill name', { ...task, skill: 's'.repeat(4 << 20) }, /4194304 characters/],
    ['no time limit (the executor default)', { ...task, timeoutMs: 0 }, /timeout_ms must be in \[1, 120000\], got 0/],
    ['a time limit beyond the maximum', { ...task, timeoutMs: TASK_MAX_TIMEOUT_MS + 1 }, /timeout_ms/],
    ['no inputs', { ...task, inputs: [] }, /1 to 16 inputs, got 0/],
    ['too many inputs', { ...task, inputs: Array.from({ length: MAX_TASK_INPUTS + 1 }, () => input) }, /got 17/],
  ])('refuses %s with INVALID_ARGUMENT and a short message', (_what, t, pattern) => {
    const refusal = refusalOf(t);
    expect(refusal.code).toBe(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
    expect(refusal.message).toMatch(pattern);
    expect(refusal.message.length).toBeLessThan(200);
  });

  it('applies a lower time limit when the node sets one', () => {
    expect(refusalOf({ ...task, timeoutMs: 5_000 }, 2_000).message).toMatch(/\[1, 2000\], got 5000/);
  });
});

import { SubmitTaskResponse, toTensor } from '@swarm/contracts';
import { FLOATS_PER_TURN, resultAnswerText } from './result-json';
import { taskResultJson } from './task-input';

/** A result with outputs of these sizes, its values varied (negative, tiny, large). */
function resultOf(...sizes: number[]): SubmitTaskResponse {
  return SubmitTaskResponse.fromPartial({
    taskId: 'task-1',
    cost: 3n,
    outputs: sizes.map((n, k) =>
      toTensor(
        `out${k}`,
        [n],
        Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? -i : i / 3) * 1e-3 + k),
      ),
    ),
  });
}

describe('result json - a result answer written a chunk at a time', () => {
  it('writes the same JSON as the API’s result object, across chunk boundaries, for several outputs and a wrapper', async () => {
    const res = resultOf(0, 1, FLOATS_PER_TURN, FLOATS_PER_TURN + 1, 3 * FLOATS_PER_TURN - 5);
    expect(JSON.parse(await resultAnswerText(res))).toEqual(taskResultJson(res, 'json'));
    const status = { taskId: 'task-1', state: 'TASK_STATE_PAID', note: '' };
    expect(JSON.parse(await resultAnswerText(res, (result) => ({ ...status, result })))).toEqual({ ...status, result: taskResultJson(res, 'json') });
  });

  it('reads values whose bytes sit at any offset (as decoded from protobuf)', async () => {
    const res = resultOf(5);
    const out = res.outputs[0];
    if (!out) throw new Error('no output');
    const shifted = new Uint8Array(out.data.byteLength + 1);
    shifted.set(out.data, 1);
    const moved = { ...res, outputs: [{ ...out, data: shifted.subarray(1) }] };
    expect(JSON.parse(await resultAnswerText(moved))).toEqual(taskResultJson(res, 'json'));
  });

  it('lets other work run between chunks of a large result', async () => {
    let ranBetween = false;
    setImmediate(() => (ranBetween = true));
    await resultAnswerText(resultOf(2 * FLOATS_PER_TURN));
    expect(ranBetween).toBe(true);
  });
});

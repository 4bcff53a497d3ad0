import { ErrorCode, SwarmError } from '@swarm/contracts';
import { CliError } from '../cli-error';
import { AgentApiError } from '@swarm/client';
import { prepareTask, submitOnce, withKeyHint } from './submit';

describe('submit - what is checked before anything is sent', () => {
  it('names an unknown skill before asking for --size or --input', async () => {
    await expect(prepareTask({ skill: 'nope' })).rejects.toMatchObject({ code: 'SWARM_BAD_ARGS', message: expect.stringMatching(/unknown skill 'nope'; known skills: .*matmul/) });
  });

  it('makes --size inputs only for a skill this build knows: bad usage, with the likely name and the way to send another', async () => {
    await expect(prepareTask({ skill: 'matmull', size: 8 })).rejects.toMatchObject({
      code: 'SWARM_BAD_ARGS',
      message: expect.stringMatching(/^unknown skill 'matmull' \(did you mean matmul\?\);.*give --input file\.json/),
    });
  });

  it('asks for exactly one of --size and --input for a known skill', async () => {
    await expect(prepareTask({ skill: 'vecadd' })).rejects.toThrow(CliError);
    await expect(prepareTask({ skill: 'vecadd', size: 8, input: 'x.json' })).rejects.toMatchObject({ code: 'SWARM_BAD_ARGS', message: expect.stringMatching(/exactly one of/) });
  });

  it('makes up a key when none is given, and generates the inputs from it, so `--key` with that key is the same task', async () => {
    const first = await prepareTask({ skill: 'vecadd', size: 16 });
    expect(first.idempotencyKey).toMatch(/^cli-[0-9a-f-]{36}$/);
    const again = await prepareTask({ skill: 'vecadd', size: 16, key: first.idempotencyKey });
    expect(again.inputs).toEqual(first.inputs);
    // Another made-up key, other inputs; --seed still decides when given.
    expect((await prepareTask({ skill: 'vecadd', size: 16 })).inputs).not.toEqual(first.inputs);
    const seeded = await prepareTask({ skill: 'vecadd', size: 16, seed: 5 });
    expect((await prepareTask({ skill: 'vecadd', size: 16, seed: 5, key: 'other' })).inputs).toEqual(seeded.inputs);
  });

  it("names the task's key when its outcome was not learned, and only then", () => {
    const lost = new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'task deadline passed', true, { retryAfterMs: 50 });
    expect(withKeyHint(lost, 'cli-1', false)).toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      retryable: true,
      retryAfterMs: 50,
      message: '(task key cli-1) task deadline passed; swarm task --key cli-1 tells what became of it',
    });
    // As an agent, `swarm task` takes ids only.
    expect(withKeyHint(lost, 'cli-1', true)).toMatchObject({ message: expect.stringMatching(/; the same command with --key cli-1 learns what became of it/) });
    const refused = new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'no credit');
    expect(withKeyHint(refused, 'cli-1', false)).toBe(refused);
    // An agent API nobody listens at was sent nothing: no key to ask by (and SWARM_NO_NODE, cli-error.ts).
    const refusedConnection = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const nobody = new AgentApiError('SWARM_UNAVAILABLE', 'cannot reach the agent API', 0, true, { cause: refusedConnection });
    expect(withKeyHint(nobody, 'cli-1', true)).toBe(nobody);
  });
});

describe('submit - a lost reply asked again by key', () => {
  it("says why the task ended unpaid when the retry learns it was refunded, under the first error's code", async () => {
    const answers = [
      new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'no answer within 12000 ms', true),
      new SwarmError(ErrorCode.ERROR_CODE_TASK_REFUNDED, 'task t-1 already ended and was refunded, nothing charged (SWARM_NO_PROVIDER: nobody runs mlp)', false),
    ];
    const err = await submitOnce(() => Promise.reject(answers.shift() as Error), 'cli-1', 0).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      message: expect.stringMatching(/no answer within 12000 ms; the node confirms: .*SWARM_NO_PROVIDER: nobody runs mlp/),
    });
  });

  it('gives the retry what is left of the timeout (at least a second), and keeps the router default as 0', async () => {
    let t = 0;
    const asked: number[] = [];
    const lostOnce = (timeoutMs: number) => {
      asked.push(timeoutMs);
      t += 9_000;
      return asked.length === 1 ? Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'router-svc went away', true)) : Promise.resolve('paid');
    };
    expect(await submitOnce(lostOnce, 'cli-2', 15_000, () => t)).toBe('paid');
    expect(asked).toEqual([15_000, 6_000]);
    asked.length = 0;
    t = 0;
    await submitOnce(lostOnce, 'cli-3', 5_000, () => t);
    expect(asked).toEqual([5_000, 1_000]);
    asked.length = 0;
    await submitOnce(lostOnce, 'cli-4', 0, () => t);
    expect(asked).toEqual([0, 0]);
  });

  it("takes a refusal with a lost reply's code that is not retryable as the task's answer: no retry, no key hint", async () => {
    const tooLate = new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'task deadline passed 3 ms before it could start; nothing was reserved', false);
    let sends = 0;
    const err = await submitOnce(
      () => {
        sends += 1;
        return Promise.reject(sends === 1 ? tooLate : new Error('not asked again'));
      },
      'cli-5',
      1,
    ).catch((e: unknown) => e);
    expect([err, sends]).toEqual([tooLate, 1]);
    expect(withKeyHint(tooLate, 'cli-5', false)).toBe(tooLate);
  });
});

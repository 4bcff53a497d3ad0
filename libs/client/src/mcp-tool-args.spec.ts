import { ErrorCode } from '@swarm/contracts';
import { swarmErrorOf } from '@swarm/testing';
import { createToolArgChecker, quoteArgs, taskArgs } from './mcp-tool-args';
import { parseSignature, skillInputs, toolSchemas } from './mcp-tool-schemas';

const schemas = toolSchemas();
const checker = createToolArgChecker(schemas);
const inputs = skillInputs();
const refusal = (fn: () => unknown) => swarmErrorOf(Promise.resolve().then(fn));

describe('MCP tools - schemas from the skill specs', () => {
  it('names every skill in an enum and every input by name, with the dimensions its signature gives', () => {
    const submit = schemas.submit_task as { properties: { skill: { enum: string[]; description: string }; inputs: { properties: Record<string, { description: string }> } } };
    expect(submit.properties.skill.enum).toEqual(['matmul', 'vecadd', 'mlp']);
    expect(submit.properties.skill.description).toContain('matmul: a:[n,k] b:[k,m] -> c:[n,m]');
    expect(Object.keys(submit.properties.inputs.properties)).toEqual(['a', 'b', 'x', 'w1', 'b1', 'w2', 'b2']);
    expect(submit.properties.inputs.properties['a']?.description).toBe('a: matmul [n,k]; vecadd [n]');
    expect(parseSignature('x:[batch,in] b1:[hidden]')).toEqual([
      { name: 'x', dims: ['batch', 'in'] },
      { name: 'b1', dims: ['hidden'] },
    ]);
  });
});

describe('MCP tools - arguments', () => {
  it('turns submit_task arguments into a task with the inputs in the skill’s order', () => {
    const args = checker.check('submit_task', {
      skill: 'matmul',
      inputs: { b: { shape: [2, 1], dataBase64: Buffer.from(Float32Array.of(5, 6).buffer).toString('base64') }, a: { shape: [1, 2], data: [1, 2] } },
      budget: 7,
      idempotencyKey: 'k-1',
      redundancy: 3,
      shards: 2,
    });
    const task = taskArgs(args, inputs);
    expect(task).toMatchObject({ skill: 'matmul', budget: 7n, idempotencyKey: 'k-1', redundancy: 3, shards: 2 });
    expect(task.inputs.map((t) => [t.name, t.shape, Array.from(t.data)])).toEqual([
      ['a', [1, 2], [1, 2]],
      ['b', [2, 1], [5, 6]],
    ]);
    expect(quoteArgs(checker.check('quote_task', { skill: 'vecadd', shapes: { b: [3], a: [3] } }), inputs).shapes.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('refuses arguments off the schema with the first problem, naming the field and never the value', async () => {
    const cases: Array<[Parameters<typeof checker.check>[0], unknown, RegExp]> = [
      ['submit_task', { skill: 'teleport', inputs: {} }, /^submit_task: arguments\.skill must be equal to one of the allowed values \(matmul, vecadd, mlp\)$/],
      ['submit_task', { skill: 'matmul', inputs: { a: { shape: [1], data: ['secret-value'] } } }, /^submit_task: arguments\.inputs\.a\.data\.0 must be number$/],
      ['submit_task', { skill: 'matmul', inputs: {}, account: 'node' }, /must NOT have additional properties \('account'\)$/],
      ['submit_task', { skill: 'matmul', inputs: {}, redundancy: 6 }, /^submit_task: arguments\.redundancy must be <= 5$/],
      ['submit_task', { skill: 'matmul', inputs: {}, redundancy: 1.5 }, /^submit_task: arguments\.redundancy must be integer$/],
      ['submit_task', { skill: 'matmul', inputs: {}, shards: 17 }, /^submit_task: arguments\.shards must be <= 16$/],
      ['get_task', { taskId: 'x'.repeat(500) }, /^get_task: arguments\.taskId must match pattern/],
      ['get_task', { taskId: '..' }, /^get_task: arguments\.taskId must match pattern/],
      ['get_balance', { please: true }, /must NOT have additional properties/],
    ];
    for (const [tool, args, message] of cases) {
      const err = await refusal(() => checker.check(tool, args));
      expect({ tool, code: err.code, message: err.message }).toEqual({ tool, code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.stringMatching(message) });
      expect(err.message).not.toContain('secret-value');
    }
  });

  it("refuses inputs that are not the skill's, a wrong rank, and data given twice or not at all", async () => {
    const task = (skill: string, given: Record<string, unknown>) => () => taskArgs(checker.check('submit_task', { skill, inputs: given }), inputs);
    expect((await refusal(task('matmul', { a: { shape: [1, 1], data: [1] }, x: { shape: [1], data: [1] } }))).message).toBe(
      'matmul takes inputs a:[n,k] b:[k,m]; missing b; not its input: x',
    );
    expect((await refusal(task('vecadd', { a: { shape: [1, 1], data: [1] }, b: { shape: [1], data: [1] } }))).message).toBe("vecadd input 'a' must have 1 dimension [n], got 2");
    expect((await refusal(task('vecadd', { a: { shape: [1], data: [1], dataBase64: 'AACAPw==' }, b: { shape: [1], data: [1] } }))).message).toMatch(
      /exactly one of data and dataBase64/,
    );
    expect((await refusal(task('vecadd', { a: { shape: [1] }, b: { shape: [1], data: [1] } }))).message).toMatch(/exactly one of data and dataBase64/);
    expect((await refusal(task('vecadd', { a: { shape: [1], dataBase64: 'AAA=' }, b: { shape: [1], data: [1] } }))).message).toMatch(/not whole f32 values/);
  });
});

import type { ExecuteRequest, Tensor } from '@swarm/contracts';
import { ErrorCode, toTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import type { KernelPool, KernelRunOptions } from '@swarm/kernels';
import { demoInputs, getSkill, SKILL_NAMES } from '@swarm/skills';
import { NO_TRACE, silentLogger } from '@swarm/telemetry';
import { executeHandler, healthDetails, resolveTimeout, skillsHandler } from './handlers';
import { swarmErrorOf } from '@swarm/testing';

const LIMITS = { maxElements: 10_000, maxTimeoutMs: 5_000, defaultTimeoutMs: 1_000 };
const ALL_SKILLS = SKILL_NAMES;

/** A pool that runs the reference implementation in-process and records what it was asked. */
function fakePool() {
  const calls: Array<{ skill: string; opts: KernelRunOptions }> = [];
  const pool: KernelPool = {
    backend: 'cpu',
    async run(skill, inputs, opts) {
      calls.push({ skill, opts });
      return { outputs: getSkill(skill).reference(inputs), backend: 'cpu', executeMs: 1.5 };
    },
    stats: () => ({ backend: 'cpu', threads: 2, running: 1, queued: 0, completed: 5, failed: 0, timedOut: 1, overloaded: 0, inlineRuns: 4, inlineCompiles: 1 }),
    stop: async () => undefined,
  };
  return { pool, calls };
}

const ctx = { log: silentLogger(), headers: undefined, trace: NO_TRACE };

function request(partial: Partial<ExecuteRequest>): ExecuteRequest {
  return { taskId: 't1', skill: 'vecadd', inputs: demoInputs('vecadd', 8, seededRandom(1)), timeoutMs: 0, ...partial };
}

describe('executor handlers - execute', () => {
  it('runs a valid request and answers with who ran it and how', async () => {
    const { pool, calls } = fakePool();
    const handle = executeHandler({ pool, limits: LIMITS, skills: ALL_SKILLS, executorId: 'exec-1', providerId: 'node-1' });
    const res = await handle(request({}), ctx);
    expect(res).toMatchObject({ taskId: 't1', executorId: 'exec-1', providerId: 'node-1', backend: 'cpu', executeMs: 1.5 });
    expect(res.outputs.map((t) => [t.name, t.shape])).toEqual([['c', [8]]]);
    expect(calls).toEqual([{ skill: 'vecadd', opts: { timeoutMs: LIMITS.defaultTimeoutMs } }]);
  });

  const bad: Array<[string, Partial<ExecuteRequest>, ErrorCode]> = [
    ['an unknown skill', { skill: 'sort' }, ErrorCode.ERROR_CODE_UNKNOWN_SKILL],
    ['a timeout over the maximum', { timeoutMs: 5_001 }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
    [
      'bytes that do not fill the shape',
      { inputs: [{ name: 'a', shape: [3], data: Buffer.alloc(8) }, toTensor('b', [3], new Float32Array(3))] },
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    ],
    [
      'matrices that do not chain',
      { skill: 'matmul', inputs: [toTensor('a', [2, 3], new Float32Array(6)), toTensor('b', [2, 3], new Float32Array(6))] },
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    ],
    ['inputs over the element limit', { inputs: demoInputs('vecadd', 6_000, seededRandom(1)) }, ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE],
    ['no inputs', { inputs: [] as Tensor[] }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT],
  ];

  it.each(bad)('refuses %s before running anything', async (_what, partial, code) => {
    const { pool, calls } = fakePool();
    const handle = executeHandler({ pool, limits: LIMITS, skills: ALL_SKILLS, executorId: 'exec-1', providerId: 'node-1' });
    expect((await swarmErrorOf(Promise.resolve().then(() => handle(request(partial), ctx)))).code).toBe(code);
    expect(calls).toHaveLength(0);
  });

  it('refuses a skill it does not run as NO_PROVIDER (retryable: another executor may), naming what it runs', async () => {
    const { pool, calls } = fakePool();
    const handle = executeHandler({ pool, limits: LIMITS, skills: ['matmul', 'mlp'], executorId: 'exec-1', providerId: 'node-1' });
    const err = await swarmErrorOf(Promise.resolve().then(() => handle(request({ skill: 'vecadd' }), ctx)));
    expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER, retryable: true, message: 'this executor does not run vecadd; it runs matmul, mlp' });
    expect(calls).toHaveLength(0);
    const matmul = await handle(request({ skill: 'matmul', inputs: demoInputs('matmul', 4, seededRandom(2)) }), ctx);
    expect(matmul.outputs.map((t) => t.name)).toEqual(['c']);
  });
});

describe('executor handlers - timeout', () => {
  it('maps 0 to the default and accepts [1, max]', () => {
    expect(resolveTimeout(0, LIMITS)).toBe(1_000);
    expect(resolveTimeout(1, LIMITS)).toBe(1);
    expect(resolveTimeout(5_000, LIMITS)).toBe(5_000);
    expect(() => resolveTimeout(5_001, LIMITS)).toThrow('timeout_ms must be 0 (default 1000) or in [1, 5000], got 5001');
  });
});

describe('executor handlers - skills and health', () => {
  it('lists every installed skill with the backend', async () => {
    const { pool } = fakePool();
    const res = await skillsHandler(pool, ALL_SKILLS)({}, ctx);
    expect(res.backend).toBe('cpu');
    expect(res.skills.map((s) => s.name)).toEqual(SKILL_NAMES);
  });

  it('lists only the skills this executor runs', async () => {
    const { pool } = fakePool();
    const res = await skillsHandler(pool, ['vecadd'])({}, ctx);
    expect(res.skills.map((s) => s.name)).toEqual(['vecadd']);
  });

  it('reports the pool load as health details', () => {
    const { pool } = fakePool();
    expect(healthDetails(pool, 'exec-1', ['matmul', 'vecadd'])()).toEqual({
      executorId: 'exec-1',
      skills: 'matmul,vecadd',
      backend: 'cpu',
      threads: '2',
      running: '1',
      queued: '0',
      completed: '5',
      failed: '0',
      timedOut: '1',
      overloaded: '0',
      inlineRuns: '4',
      inlineCompiles: '1',
    });
  });
});

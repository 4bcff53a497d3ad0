import { ConfigError } from '@swarm/config';
import { INLINE_MAX_WORK } from '@swarm/kernels';
import { SKILL_NAMES } from '@swarm/skills';
import { DEFAULT_EXECUTE_TIMEOUT_MS, DEFAULT_MAX_ELEMENTS, DEFAULT_MAX_QUEUE, DEFAULT_MAX_TIMEOUT_MS, loadExecutorConfig, MAX_REQUEST_BYTES } from './config';

const BASE = { SWARM_NATS_URL: 'nats://127.0.0.1:4222', SWARM_DATA_DIR: '/tmp/node' };

describe('executor config - loadExecutorConfig', () => {
  it('defaults threads to the CPUs passed in and everything else to named constants', () => {
    expect(loadExecutorConfig(BASE, 6)).toMatchObject({
      natsUrl: BASE.SWARM_NATS_URL,
      threads: 6,
      maxQueue: DEFAULT_MAX_QUEUE,
      maxElements: DEFAULT_MAX_ELEMENTS,
      maxTimeoutMs: DEFAULT_MAX_TIMEOUT_MS,
      defaultTimeoutMs: DEFAULT_EXECUTE_TIMEOUT_MS,
      backend: 'auto',
      inlineMaxWork: INLINE_MAX_WORK,
      maxRequestBytes: MAX_REQUEST_BYTES,
      skills: SKILL_NAMES,
    });
    expect(Object.isFrozen(loadExecutorConfig(BASE, 6))).toBe(true);
  });

  it('reads every executor variable', () => {
    const c = loadExecutorConfig(
      {
        ...BASE,
        SWARM_EXECUTOR_THREADS: '3',
        SWARM_EXECUTOR_MAX_QUEUE: '0',
        SWARM_EXECUTOR_MAX_ELEMENTS: '1000',
        SWARM_EXECUTOR_MAX_TIMEOUT_MS: '5000',
        SWARM_GPU_BACKEND: 'cpu',
        SWARM_SKILLS: 'vecadd',
        SWARM_EXECUTOR_INLINE_MAX_WORK: '0',
      },
      8,
    );
    expect(c).toMatchObject({ threads: 3, maxQueue: 0, maxElements: 1000, maxTimeoutMs: 5000, defaultTimeoutMs: 5000, backend: 'cpu', skills: ['vecadd'], inlineMaxWork: 0 });
  });

  it('installs the listed skills in catalog order, each once, spaces allowed', () => {
    const skills = (list: string) => loadExecutorConfig({ ...BASE, SWARM_SKILLS: list }).skills;
    expect(skills('mlp, matmul')).toEqual(['matmul', 'mlp']);
    expect(skills('vecadd,vecadd')).toEqual(['vecadd']);
    expect(skills('')).toEqual(SKILL_NAMES);
    expect(Object.isFrozen(skills('mlp'))).toBe(true);
  });

  it.each(['matmul,fft', 'fft', ',', 'matmul,', 'MATMUL', 'matmul;vecadd', 'mat'])('refuses SWARM_SKILLS=%s naming the known skills', (list) => {
    expect(() => loadExecutorConfig({ ...BASE, SWARM_SKILLS: list })).toThrow(
      expect.objectContaining({ problems: [`SWARM_SKILLS: expected a comma-separated list of known skills (${SKILL_NAMES.join(', ')}; default all), got '${list}'`] }),
    );
  });

  it('lists every bad variable at once', () => {
    let err: unknown;
    try {
      loadExecutorConfig(
        {
          ...BASE,
          SWARM_EXECUTOR_THREADS: '0',
          SWARM_EXECUTOR_MAX_QUEUE: 'lots',
          SWARM_EXECUTOR_MAX_ELEMENTS: '9999999999',
          SWARM_GPU_BACKEND: 'cuda',
          SWARM_EXECUTOR_INLINE_MAX_WORK: '-1',
        },
        4,
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      "SWARM_EXECUTOR_THREADS: expected an integer in [1, 256] (default 4), got '0'",
      "SWARM_EXECUTOR_MAX_QUEUE: expected an integer in [0, 10000] (default 32), got 'lots'",
      "SWARM_EXECUTOR_MAX_ELEMENTS: expected an integer in [1, 2097152] (default 2000000), got '9999999999'",
      "SWARM_GPU_BACKEND: expected one of auto|webgpu|webasm|cpu (default auto), got 'cuda'",
      "SWARM_EXECUTOR_INLINE_MAX_WORK: expected an integer in [0, 1000000] (default 16384), got '-1'",
    ]);
  });
});

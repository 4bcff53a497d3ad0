import type { BusClient } from '@swarm/bus';
import { createBusClient, SWARM_ERROR_HEADER } from '@swarm/bus';
import type { DenseTensor, ExecuteRequest, Tensor } from '@swarm/contracts';
import { ErrorCode, ExecutorExecute, ExecutorHealth, ExecutorSkills, fromTensor, SwarmErrorMessage, toTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, getSkill, SKILL_NAMES } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle } from '@swarm/testing';
import { startNatsServer, waitFor, swarmErrorOf } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { loadExecutorConfig } from './config';
import type { ExecutorService } from './service';
import { startExecutorService } from './service';

const NODE_ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
const MAX_ELEMENTS = 1_000_000;
const REQUEST_TIMEOUT = { timeoutMs: 20_000 };

/** Constant-filled wire tensors: big inputs without generating millions of random values. */
function filled(name: string, shape: number[], value = 0.5): Tensor {
  return toTensor(name, shape, new Float32Array(shape.reduce((n, d) => n * d, 1)).fill(value));
}

function execute(partial: Partial<ExecuteRequest>): ExecuteRequest {
  return { taskId: 'task-1', skill: 'vecadd', inputs: demoInputs('vecadd', 16, seededRandom(1)), timeoutMs: 0, ...partial };
}

describe('executor-svc - serving skills over the bus', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let client: BusClient;
  let svc: ExecutorService;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    client = createBusClient(nc, silentLogger());
    const config = loadExecutorConfig(
      {
        SWARM_NATS_URL: server.url,
        SWARM_DATA_DIR: '/tmp/unused',
        SWARM_GRACE_MS: '5000',
        SWARM_EXECUTOR_THREADS: '2',
        SWARM_EXECUTOR_MAX_ELEMENTS: String(MAX_ELEMENTS),
        SWARM_EXECUTOR_MAX_TIMEOUT_MS: '30000',
        SWARM_GPU_BACKEND: 'webasm',
      },
      2,
    );
    svc = await startExecutorService({ config, log: silentLogger(), nc, nodeId: NODE_ID });
  });

  afterAll(async () => {
    await svc?.stop();
    await nc?.drain();
    await server?.stop();
  });

  it.each(SKILL_NAMES)('runs %s end to end with a result its verifier accepts', async (name) => {
    const inputs = demoInputs(name, 40, seededRandom(7));
    const res = await client.request(ExecutorExecute, execute({ taskId: `t-${name}`, skill: name, inputs }), REQUEST_TIMEOUT);
    expect(res).toMatchObject({ taskId: `t-${name}`, executorId: svc.executorId, providerId: NODE_ID, backend: 'webasm' });
    expect(res.executorId).toBe(`exec-a1b2c3d4-${process.pid}`);
    expect(res.executeMs).toBeGreaterThan(0);
    const verdict = getSkill(name).verify(inputs.map(fromTensor), res.outputs.map(fromTensor), seededRandom(8));
    expect(verdict).toMatchObject({ ok: true, method: getSkill(name).verification });
  });

  it('lists the installed skills and the backend', async () => {
    const res = await client.request(ExecutorSkills, {});
    expect(res.backend).toBe('webasm');
    expect(res.skills).toEqual(
      SKILL_NAMES.map((name): unknown => expect.objectContaining({ name, verification: getSkill(name).verification, pricePerMwork: getSkill(name).pricePerMWork })),
    );
  });

  it('reports backend, threads, executorId and load as health', async () => {
    const res = await client.request(ExecutorHealth, {});
    expect(res).toMatchObject({ service: 'executor-svc', nodeId: NODE_ID, status: 'ok' });
    expect(res.details).toMatchObject({ backend: 'webasm', threads: '2', executorId: svc.executorId, running: '0', queued: '0' });
  });

  describe('bad requests get a typed error and the service keeps serving', () => {
    const wrongBytes: Tensor = { ...filled('a', [4]), data: Buffer.alloc(12) };
    const cases: Array<[string, Partial<ExecuteRequest>, ErrorCode, RegExp]> = [
      ['an unknown skill', { skill: 'fft' }, ErrorCode.ERROR_CODE_UNKNOWN_SKILL, /unknown skill 'fft'; known skills: matmul, vecadd, mlp/],
      ['matrices that do not chain', { skill: 'matmul', inputs: [filled('a', [3, 4]), filled('b', [5, 2])] }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /same k/],
      ['a misnamed input', { inputs: [filled('a', [4]), filled('x', [4])] }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /named 'b'/],
      ['bytes that do not match the shape', { inputs: [wrongBytes, filled('b', [4])] }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /needs 16 bytes, got 12/],
      ['a non-finite value', { inputs: [filled('a', [4], NaN), filled('b', [4])] }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /non-finite/],
      ['inputs over the element limit', { inputs: [filled('a', [600_000]), filled('b', [600_000])] }, ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, /1200000 elements/],
      ['an output over the element limit', { skill: 'matmul', inputs: [filled('a', [1100, 1]), filled('b', [1, 1100])] }, ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, /output c/],
      ['a timeout past the maximum', { timeoutMs: 30_001 }, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, /timeout_ms must be 0/],
    ];

    it.each(cases)('refuses %s', async (_what, partial, code, message) => {
      const err = await swarmErrorOf(client.request(ExecutorExecute, execute(partial), REQUEST_TIMEOUT));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      await expect(client.request(ExecutorExecute, execute({}), REQUEST_TIMEOUT)).resolves.toMatchObject({ taskId: 'task-1' });
    });

    it('answers malformed protobuf with MALFORMED_MESSAGE', async () => {
      const reply = await nc.request(ExecutorExecute.subject, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff]), { timeout: 5_000 });
      expect(reply.headers?.get(SWARM_ERROR_HEADER)).toBe(String(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE));
      expect(SwarmErrorMessage.decode(reply.data).code).toBe(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
      await expect(client.request(ExecutorExecute, execute({}), REQUEST_TIMEOUT)).resolves.toMatchObject({ taskId: 'task-1' });
    });

    it('aborts a kernel past the request time limit with DEADLINE_EXCEEDED', async () => {
      const big = { skill: 'matmul', inputs: [filled('a', [640, 640]), filled('b', [640, 640])], timeoutMs: 20 };
      const err = await swarmErrorOf(client.request(ExecutorExecute, execute(big), REQUEST_TIMEOUT));
      expect(err).toMatchObject({ code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, retryable: true });
      await expect(client.request(ExecutorExecute, execute({}), REQUEST_TIMEOUT)).resolves.toMatchObject({ taskId: 'task-1' });
    });
  });
});

describe('executor-svc - a subset of the skills installed (SWARM_SKILLS)', () => {
  it('advertises and runs only those, and refuses the others as NO_PROVIDER', async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    let svc: ExecutorService | undefined;
    try {
      const client = createBusClient(nc, silentLogger());
      const env = { SWARM_NATS_URL: server.url, SWARM_DATA_DIR: '/tmp/unused', SWARM_EXECUTOR_THREADS: '1', SWARM_GPU_BACKEND: 'cpu', SWARM_SKILLS: 'vecadd' };
      svc = await startExecutorService({ config: loadExecutorConfig(env), log: silentLogger(), nc, nodeId: NODE_ID });
      expect((await client.request(ExecutorSkills, {})).skills.map((s) => s.name)).toEqual(['vecadd']);
      expect((await client.request(ExecutorHealth, {})).details).toMatchObject({ skills: 'vecadd' });
      const matmul = execute({ skill: 'matmul', inputs: demoInputs('matmul', 4, seededRandom(1)) });
      expect(await swarmErrorOf(client.request(ExecutorExecute, matmul, REQUEST_TIMEOUT))).toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER, retryable: true });
      await expect(client.request(ExecutorExecute, execute({}), REQUEST_TIMEOUT)).resolves.toMatchObject({ taskId: 'task-1' });
    } finally {
      await svc?.stop();
      await nc.drain();
      await server.stop();
    }
  });
});

describe('executor-svc - stop', () => {
  it('finishes an in-flight request before it stops', async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    try {
      const client = createBusClient(nc, silentLogger());
      const env = { SWARM_NATS_URL: server.url, SWARM_DATA_DIR: '/tmp/unused', SWARM_EXECUTOR_THREADS: '1', SWARM_GPU_BACKEND: 'cpu' };
      const svc = await startExecutorService({ config: loadExecutorConfig(env), log: silentLogger(), nc, nodeId: NODE_ID });
      // ~0.1-0.5 s on the cpu backend: long enough to be seen in flight, short for a test.
      const inputs: DenseTensor[] = ['a', 'b'].map((name) => fromTensor(filled(name, [400, 400], 1)));
      const pending = client.request(ExecutorExecute, execute({ skill: 'matmul', inputs: inputs.map((t) => toTensor(t.name, t.shape, t.data)) }), REQUEST_TIMEOUT);
      await waitFor(async () => (await client.request(ExecutorHealth, {})).details['running'] === '1', { what: 'request in flight' });
      await svc.stop();
      const res = await pending;
      // Every cell of a 400×400 matrix of ones times itself is 400.
      expect(fromTensor(res.outputs[0]).data.every((v) => v === 400)).toBe(true);
      await expect(client.request(ExecutorSkills, {})).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    } finally {
      await nc.drain();
      await server.stop();
    }
  });
});

import { createBusClient, startBusService } from '@swarm/bus';
import { loadServiceConfig } from '@swarm/config';
import { ErrorCode, EXECUTOR_QUEUE, ExecutorSkills, RegistryFindProviders } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, TempDir } from '@swarm/testing';
import { startNatsServer, tempDir } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { startRegistryService } from './service';

jest.setTimeout(20_000);

describe('registry-svc - providers of a skill on this node', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let registry: { stop(): Promise<void> };

  beforeAll(async () => {
    [server, dir] = await Promise.all([startNatsServer(), tempDir('swarm-registry-')]);
    nc = await connect({ servers: server.url });
    registry = await startRegistryService({ config: loadServiceConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir.path }), log: silentLogger(), nc, nodeId: 'node-r' });
  });
  afterAll(async () => {
    await registry.stop();
    await nc.drain();
    await Promise.all([server.stop(), dir.remove()]);
  });

  const find = (skill: string) => createBusClient(nc, silentLogger()).request(RegistryFindProviders, { skill });

  it('answers no providers when no executor runs', async () => {
    await expect(find('matmul')).resolves.toEqual({ providers: [] });
  });

  it('answers UNAVAILABLE, not "no providers", when executors run but do not answer in time', async () => {
    // An executor so busy it never gets to the skills probe.
    const busy = nc.subscribe(ExecutorSkills.subject, { queue: EXECUTOR_QUEUE, callback: () => undefined });
    try {
      await expect(find('matmul')).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_UNAVAILABLE,
        retryable: true,
        message: expect.stringMatching(/did not answer the skills probe/),
      });
    } finally {
      busy.unsubscribe();
    }
  });

  it('names this node when an executor has the skill', async () => {
    const executor = await startBusService({ nc, log: silentLogger(), name: 'executor-svc', version: '0.0.1', description: 'fake', nodeId: 'node-r' });
    executor.serve(
      ExecutorSkills,
      () => ({
        skills: [{ name: 'matmul', description: '', inputs: '', outputs: '', pricePerMwork: 1n, verification: '', verificationBound: '', verificationCost: '' }],
        backend: 'cpu',
      }),
      { queue: EXECUTOR_QUEUE },
    );
    try {
      await expect(find('matmul')).resolves.toEqual({
        providers: [{ nodeId: 'node-r', local: true, skills: ['matmul'], endpoint: '', load: 0, capacity: 1, pricePerMwork: 1n, rttMs: 0, expiresAtMs: 0n }],
      });
      await expect(find('vecadd')).resolves.toEqual({ providers: [] });
    } finally {
      await executor.stop(500);
    }
  });
});

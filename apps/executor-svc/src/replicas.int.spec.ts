import { createBusClient } from '@swarm/bus';
import { ExecutorExecute } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, SKILL_NAMES } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { NatsServerHandle, ServiceProcess, TempDir } from '@swarm/testing';
import { spawnService, startNatsServer, tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';

const REQUESTS = 20;
/** Two processes start (TypeScript loader, worker threads) at once on a 2-core CI box. */
const START_TIMEOUT_MS = 25_000;

describe('executor-svc - replicas share one queue group', () => {
  let server: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  const replicas: ServiceProcess[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
    dir = await tempDir('swarm-executors-');
    nc = await connect({ servers: server.url });
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
    await nc?.drain();
    await server?.stop();
    await dir?.remove();
  });

  it('serves concurrent requests from both processes, and each exits 0 on SIGTERM', async () => {
    const env = {
      SWARM_NATS_URL: server.url,
      SWARM_DATA_DIR: dir.path,
      SWARM_LOG_LEVEL: 'info',
      SWARM_EXECUTOR_THREADS: '1',
      SWARM_GPU_BACKEND: 'webasm',
    };
    replicas.push(spawnService('executor-svc', env), spawnService('executor-svc', env));
    for (const r of replicas) {
      await waitFor(() => r.output().includes('executor-svc started') || r.child.exitCode !== null, { timeoutMs: START_TIMEOUT_MS, what: 'executor-svc started' });
      expect(r.child.exitCode).toBeNull();
    }

    const client = createBusClient(nc, silentLogger());
    const inputs = demoInputs('matmul', 32, seededRandom(1));
    const replies = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) => client.request(ExecutorExecute, { taskId: `t${i}`, skill: 'matmul', inputs, timeoutMs: 0 }, { timeoutMs: 20_000 })),
    );
    const executors = new Set(replies.map((r) => r.executorId));
    // The server picks a queue member at random per message: all 20 on one replica has p = 2^-19.
    for (const id of executors) expect(id).toMatch(/^exec-[0-9a-f]{8}-\d+$/);
    expect([...executors].map((id) => Number(id.split('-')[2])).sort()).toEqual(replicas.map((r) => r.pid).sort());
    expect(new Set(replies.map((r) => r.providerId)).size).toBe(1);

    const exits = await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  });
});

describe('executor-svc - installed skills', () => {
  it(
    'exits 78 (bad config, not restarted) on an unknown name in SWARM_SKILLS, naming the known skills',
    async () => {
      const p = spawnService('executor-svc', { SWARM_NATS_URL: 'nats://127.0.0.1:1', SWARM_DATA_DIR: '/tmp/unused', SWARM_SKILLS: 'matmul,fft' });
      expect(await p.exited).toEqual({ code: 78, signal: null });
      expect(p.output()).toContain(`SWARM_SKILLS: expected a comma-separated list of known skills (${SKILL_NAMES.join(', ')}; default all), got 'matmul,fft'`);
    },
    START_TIMEOUT_MS,
  );
});

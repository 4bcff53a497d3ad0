/**
 * api-svc in this process on its own nats-server and data dir, with fake credit, router and
 * registry services (fake-backends.ts): what the api-svc integration specs share.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServiceConfig } from '@swarm/config';
import type { Time } from '@swarm/determinism';
import { startNatsServer } from '@swarm/runtime';
import { silentLogger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import type { AgentTaskLimits } from '../agent-tasks';
import type { ApiHttpConfig } from '../config';
import type { ApiService } from '../service';
import type { AgentRateLimits } from '../token-bucket';
import { startApiService } from '../service';
import type { FakeBackends } from './fake-backends';
import { startFakeBackends } from './fake-backends';

export interface ApiHarnessOptions {
  /** Prefix of the data dir's name. */
  readonly dirPrefix: string;
  /** The node account's credit in the fake ledger. */
  readonly nodeCredit: bigint;
  /** The HTTP settings beside the listen address (loopback, any port). */
  readonly http: Omit<ApiHttpConfig, 'listen'>;
  /** api-svc's time (default systemTime): a test moves its wall clock past a token's expiry. */
  readonly time?: Time;
  /** Result reads' limits (default RESULT_READ_LIMITS), small enough for a test's results. */
  readonly resultReadLimits?: AgentRateLimits;
  /** What api-svc holds of agents' tasks (default DEFAULT_TASK_LIMITS), small enough for a test's results. */
  readonly taskLimits?: AgentTaskLimits;
}

export interface ApiHarness {
  readonly nc: NatsConnection;
  readonly fake: FakeBackends;
  /** The api-svc running now, and its base URL (`http://host:port`). */
  readonly api: ApiService;
  readonly base: string;
  /** Stops api-svc and starts it again on the same bus and data dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startApiHarness(opts: ApiHarnessOptions): Promise<ApiHarness> {
  // @swarm/runtime's nats-server and a plain temp dir: the dependency rules let only *.spec.ts files use @swarm/testing.
  const [server, dir] = await Promise.all([startNatsServer(), mkdtemp(join(tmpdir(), opts.dirPrefix))]);
  const cleanUp = async (nc?: NatsConnection) => {
    await nc?.drain();
    await Promise.all([server.stop(), rm(dir, { recursive: true, force: true })]);
  };
  const nc = await connect({ servers: server.url }).catch(async (err: unknown) => {
    await cleanUp();
    throw err;
  });
  const fake = await startFakeBackends(nc, opts.nodeCredit).catch(async (err: unknown) => {
    await cleanUp(nc);
    throw err;
  });
  const start = () =>
    startApiService({
      config: {
        ...loadServiceConfig({ SWARM_NATS_URL: server.url, SWARM_DATA_DIR: dir, SWARM_GRACE_MS: '2000' }),
        http: { listen: { host: '127.0.0.1', port: 0 }, ...opts.http },
      },
      log: silentLogger(),
      nc,
      nodeId: 'node-test',
      ...(opts.time ? { time: opts.time } : {}),
      ...(opts.resultReadLimits ? { resultReadLimits: opts.resultReadLimits } : {}),
      ...(opts.taskLimits ? { taskLimits: opts.taskLimits } : {}),
    });
  let api = await start().catch(async (err: unknown) => {
    await fake.stop();
    await cleanUp(nc);
    throw err;
  });
  return {
    nc,
    fake,
    get api() {
      return api;
    },
    get base() {
      return `http://${api.httpAddress}`;
    },
    async restart() {
      await api.stop();
      api = await start();
    },
    async stop() {
      await api.stop();
      await fake.stop();
      await cleanUp(nc);
    },
  };
}

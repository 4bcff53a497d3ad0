import type { ConfigError } from '@swarm/config';
import { ATTEMPT_MIN_MS, ATTEMPT_WORK_PER_MS, FOLD_MAX_WORK } from '@swarm/pipeline';
import {
  DEFAULT_MAX_INFLIGHT,
  DEFAULT_MAX_INFLIGHT_BYTES,
  DEFAULT_TASK_RESULT_BYTES,
  DEFAULT_TASK_RETENTION_MS,
  DEFAULT_TASK_TABLE_MAX,
  DEFAULT_VERIFY_THREADS,
  loadRouterConfig,
} from './config';

const BASE = { SWARM_NATS_URL: 'nats://127.0.0.1:4222', SWARM_DATA_DIR: '/tmp/node' };

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadRouterConfig({ ...BASE, ...env });
  } catch (err) {
    return (err as ConfigError).problems;
  }
  return [];
}

describe('router-svc config - intake limits', () => {
  it('defaults to bounded intake and one verification thread', () => {
    expect(loadRouterConfig(BASE)).toMatchObject({ maxInFlight: DEFAULT_MAX_INFLIGHT, maxInFlightBytes: DEFAULT_MAX_INFLIGHT_BYTES, verifyThreads: DEFAULT_VERIFY_THREADS });
    expect(DEFAULT_MAX_INFLIGHT_BYTES).toBeGreaterThanOrEqual(loadRouterConfig(BASE).maxRequestBytes);
  });

  it('reads the limits and lists every bad one', () => {
    expect(loadRouterConfig({ ...BASE, SWARM_ROUTER_MAX_INFLIGHT: '8', SWARM_ROUTER_MAX_INFLIGHT_BYTES: String(16 << 20), SWARM_ROUTER_VERIFY_THREADS: '0' })).toMatchObject({
      maxInFlight: 8,
      maxInFlightBytes: 16 << 20,
      verifyThreads: 0,
    });
    expect(problems({ SWARM_ROUTER_MAX_INFLIGHT: '0', SWARM_ROUTER_MAX_INFLIGHT_BYTES: 'lots', SWARM_ROUTER_VERIFY_THREADS: '-1' })).toEqual([
      "SWARM_ROUTER_MAX_INFLIGHT: expected an integer in [1, 10000] (default 32), got '0'",
      `SWARM_ROUTER_MAX_INFLIGHT_BYTES: expected an integer in [1024, 4294967296] (default ${DEFAULT_MAX_INFLIGHT_BYTES}), got 'lots'`,
      "SWARM_ROUTER_VERIFY_THREADS: expected an integer in [0, 64] (default 1), got '-1'",
    ]);
  });

  it('refuses a byte limit below the largest request it accepts', () => {
    expect(problems({ SWARM_MAX_REQUEST_BYTES: String(4 << 20), SWARM_ROUTER_MAX_INFLIGHT_BYTES: String(1 << 20) })).toEqual([
      `SWARM_ROUTER_MAX_INFLIGHT_BYTES: expected at least SWARM_MAX_REQUEST_BYTES (${4 << 20}), got '${1 << 20}'`,
    ]);
  });
});

describe('router-svc config - task table and attempts', () => {
  it('defaults to a bounded task table and work-sized attempts', () => {
    expect(loadRouterConfig(BASE)).toMatchObject({
      taskRetentionMs: DEFAULT_TASK_RETENTION_MS,
      taskTableMax: DEFAULT_TASK_TABLE_MAX,
      taskResultBytes: DEFAULT_TASK_RESULT_BYTES,
      attemptMinMs: ATTEMPT_MIN_MS,
      attemptWorkPerMs: ATTEMPT_WORK_PER_MS,
      foldMaxWork: FOLD_MAX_WORK,
    });
  });

  it('reads them and lists every bad one', () => {
    expect(
      loadRouterConfig({
        ...BASE,
        SWARM_ROUTER_TASK_RETENTION_MS: '5000',
        SWARM_ROUTER_TASK_TABLE_MAX: '10',
        SWARM_ROUTER_TASK_RESULT_BYTES: '0',
        SWARM_ROUTER_ATTEMPT_MIN_MS: '250',
      }),
    ).toMatchObject({
      taskRetentionMs: 5_000,
      taskTableMax: 10,
      taskResultBytes: 0,
      attemptMinMs: 250,
    });
    expect(
      problems({ SWARM_ROUTER_TASK_RETENTION_MS: '10', SWARM_ROUTER_TASK_TABLE_MAX: '0', SWARM_ROUTER_ATTEMPT_MIN_MS: 'soon', SWARM_ROUTER_ATTEMPT_WORK_PER_MS: '0' }),
    ).toEqual([
      expect.stringMatching(/^SWARM_ROUTER_TASK_RETENTION_MS: expected an integer in \[1000, /),
      expect.stringMatching(/^SWARM_ROUTER_TASK_TABLE_MAX: expected an integer in \[1, /),
      expect.stringMatching(/^SWARM_ROUTER_ATTEMPT_MIN_MS: expected an integer in \[100, .*got 'soon'/),
      expect.stringMatching(/^SWARM_ROUTER_ATTEMPT_WORK_PER_MS: expected an integer in \[1, /),
    ]);
  });
});

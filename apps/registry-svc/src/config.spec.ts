import { ConfigError } from '@swarm/config';
import { DEFAULT_POW_DIFFICULTY } from '@swarm/records';
import { DEFAULT_RECORD_TTL_MS, loadRegistryConfig, MAX_SEEDS, swarmSettingsOf } from './config';

const BASE = { SWARM_NATS_URL: 'nats://127.0.0.1:4222', SWARM_DATA_DIR: '/tmp/node' };
const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadRegistryConfig({ ...BASE, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('registry config - loadRegistryConfig', () => {
  it('starts a new swarm by default, with ten-minute records, the default proof of work and the CPU count as capacity', () => {
    const c = loadRegistryConfig(BASE, 6);
    expect(c.swarm).toEqual({ seeds: [], recordTtlMs: DEFAULT_RECORD_TTL_MS, powDifficulty: DEFAULT_POW_DIFFICULTY, capacity: 6 });
    expect(c.natsUrl).toBe(BASE.SWARM_NATS_URL);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.swarm)).toBe(true);
  });

  it('reads every swarm variable; seeds are <node id>@host:port or <node id>:<nonce>@host:port, spaces and empty entries ignored', () => {
    const c = loadRegistryConfig({
      ...BASE,
      SWARM_SEEDS: ` ${ID_A}@127.0.0.1:7400 ,, ${ID_B}:77@[::1]:7401,`,
      SWARM_RECORD_TTL_MS: '5000',
      SWARM_POW_DIFFICULTY: '8',
      SWARM_NODE_CAPACITY: '12',
    });
    expect(c.swarm).toEqual({
      seeds: [
        { nodeId: ID_A, address: { host: '127.0.0.1', port: 7400 } },
        { nodeId: ID_B, address: { host: '::1', port: 7401 }, powNonce: 77n },
      ],
      recordTtlMs: 5000,
      powDifficulty: 8,
      capacity: 12,
    });
  });

  it('lists every bad variable at once', () => {
    expect(problemsOf({ SWARM_SEEDS: `${ID_A}@127.0.0.1:7400,127.0.0.1:7401`, SWARM_RECORD_TTL_MS: '10', SWARM_POW_DIFFICULTY: '41', SWARM_NODE_CAPACITY: '0' })).toEqual([
      `SWARM_SEEDS: expected a comma-separated list of at most ${MAX_SEEDS} <64 hex node id>@host:port or <64 hex node id>:<proof-of-work nonce>@host:port (empty: start a new swarm), got '${ID_A}@127.0.0.1:7400,127.0.0.1:7401'`,
      "SWARM_RECORD_TTL_MS: expected an integer in [1000, 3600000] (default 600000), got '10'",
      "SWARM_POW_DIFFICULTY: expected an integer in [0, 40] (default 16), got '41'",
      "SWARM_NODE_CAPACITY: expected an integer in [1, 65535] (default 1), got '0'",
    ]);
  });

  it('refuses a seed with port 0, a short node id, and too many seeds', () => {
    expect(problemsOf({ SWARM_SEEDS: `${ID_A}@127.0.0.1:0` })).toHaveLength(1);
    expect(problemsOf({ SWARM_SEEDS: `${ID_A.slice(1)}@127.0.0.1:7400` })).toHaveLength(1);
    expect(problemsOf({ SWARM_SEEDS: Array.from({ length: MAX_SEEDS + 1 }, (_, i) => `${ID_A}@127.0.0.1:${7000 + i}`).join(',') })).toHaveLength(1);
  });

  it('gives defaults to a config loaded without the swarm settings', () => {
    expect(swarmSettingsOf({ ...loadRegistryConfig(BASE), swarm: undefined })).toEqual({
      seeds: [],
      recordTtlMs: DEFAULT_RECORD_TTL_MS,
      powDifficulty: DEFAULT_POW_DIFFICULTY,
      capacity: 1,
    });
  });
});

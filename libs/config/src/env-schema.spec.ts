import { bigintVar, ConfigError, intVar, loadEnv, loadServiceConfig, numberVar } from './index';

describe('config - loadEnv', () => {
  it('applies defaults and parses typed values', () => {
    const c = loadEnv({ A: '7' }, { A: intVar({ min: 1, max: 10 }), B: bigintVar({ default: 5n, min: 0n }) });
    expect(c).toEqual({ A: 7, B: 5n });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('lists every bad variable in one error', () => {
    let err: unknown;
    try {
      loadEnv({ A: 'x', B: '-3' }, { A: intVar({ min: 1, max: 10 }), B: bigintVar({ default: 5n, min: 0n }), C: intVar({ min: 0, max: 1 }) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toEqual([
      "A: expected an integer in [1, 10], got 'x'",
      "B: expected a whole number >= 0 (default 5), got '-3'",
      'C: expected an integer in [0, 1], got nothing',
    ]);
  });

  it('rejects out-of-range integers', () => {
    expect(() => loadEnv({ A: '11' }, { A: intVar({ min: 1, max: 10 }) })).toThrow(/A: expected an integer in \[1, 10\], got '11'/);
  });
});

describe('config - loadServiceConfig', () => {
  it('requires a NATS URL and an absolute data dir', () => {
    expect(() => loadServiceConfig({ SWARM_NATS_URL: 'http://x', SWARM_DATA_DIR: 'rel' })).toThrow(
      /SWARM_NATS_URL: expected a NATS URL.*\n.*SWARM_DATA_DIR: expected the node's data directory/,
    );
    const c = loadServiceConfig({ SWARM_NATS_URL: 'nats://127.0.0.1:4999', SWARM_DATA_DIR: '/tmp/x' });
    expect(c).toEqual({
      natsUrl: 'nats://127.0.0.1:4999',
      dataDir: '/tmp/x',
      logLevel: 'info',
      graceMs: 5000,
      otlpEndpoint: undefined,
      traceSampleRatio: 0.01,
      natsConnectTimeoutMs: 60_000,
      natsNkeyFile: undefined,
    });
  });

  it('reads the trace sample ratio as a share in [0, 1]', () => {
    const base = { SWARM_NATS_URL: 'nats://127.0.0.1:4999', SWARM_DATA_DIR: '/tmp/x' };
    expect(loadServiceConfig({ ...base, SWARM_TRACE_SAMPLE_RATIO: '1' }).traceSampleRatio).toBe(1);
    expect(loadServiceConfig({ ...base, SWARM_TRACE_SAMPLE_RATIO: '0.25' }).traceSampleRatio).toBe(0.25);
    expect(loadServiceConfig({ ...base, SWARM_TRACE_SAMPLE_RATIO: '0' }).traceSampleRatio).toBe(0);
    for (const bad of ['1.5', '-0.1', 'NaN', 'Infinity', '1e-2', 'half']) {
      expect(() => loadServiceConfig({ ...base, SWARM_TRACE_SAMPLE_RATIO: bad })).toThrow(`SWARM_TRACE_SAMPLE_RATIO: expected a number in [0, 1] (default 0.01), got '${bad}'`);
    }
  });
});

describe('config - numberVar', () => {
  it('takes plain decimals within its range', () => {
    expect(loadEnv({ R: '.5' }, { R: numberVar({ default: 1, min: 0, max: 1 }) })).toEqual({ R: 0.5 });
    expect(loadEnv({}, { R: numberVar({ default: 1, min: 0, max: 1 }) })).toEqual({ R: 1 });
  });
});

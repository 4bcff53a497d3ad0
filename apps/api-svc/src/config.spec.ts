import { ConfigError, formatHostPort, parseHostPort } from '@swarm/config';
import { DEFAULT_BODY_BUDGET_BYTES } from './body-budget';
import { DEFAULT_BURST, DEFAULT_JSON_BODY_BYTES, DEFAULT_MAX_HTTP_CONNECTIONS, loadApiConfig, PROTOBUF_BODY_BYTES } from './config';

const BASE = { SWARM_NATS_URL: 'nats://127.0.0.1:4222', SWARM_DATA_DIR: '/tmp/node' };

describe('api-svc config', () => {
  it('listens on loopback, any port, by default', () => {
    const c = loadApiConfig(BASE);
    expect(c.http).toEqual({
      listen: { host: '127.0.0.1', port: 0 },
      jsonBodyBytes: DEFAULT_JSON_BODY_BYTES,
      protobufBodyBytes: PROTOBUF_BODY_BYTES,
      ratePerSecond: 20,
      burst: DEFAULT_BURST,
      bodyBudgetBytes: DEFAULT_BODY_BUDGET_BYTES,
      maxConnections: DEFAULT_MAX_HTTP_CONNECTIONS,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('takes a listen address, body limit and rate', () => {
    const c = loadApiConfig({
      ...BASE,
      SWARM_HTTP_LISTEN: '[::1]:8080',
      SWARM_HTTP_JSON_LIMIT_BYTES: '65536',
      SWARM_HTTP_RATE_PER_S: '5',
      SWARM_HTTP_BURST: '7',
      SWARM_HTTP_BODY_BUDGET_BYTES: String(2 * PROTOBUF_BODY_BYTES),
      SWARM_HTTP_MAX_CONNECTIONS: '64',
    });
    expect(c.http).toMatchObject({
      listen: { host: '::1', port: 8080 },
      jsonBodyBytes: 65536,
      ratePerSecond: 5,
      burst: 7,
      bodyBudgetBytes: 2 * PROTOBUF_BODY_BYTES,
      maxConnections: 64,
    });
    // Fewer than 8 connections would leave an MCP call's own calls no room beside a few agents.
    expect(() => loadApiConfig({ ...BASE, SWARM_HTTP_MAX_CONNECTIONS: '7' })).toThrow(ConfigError);
    // Less than an MCP call's body and its task's, each of the largest kind, could refuse them on an idle node.
    expect(() => loadApiConfig({ ...BASE, SWARM_HTTP_BODY_BUDGET_BYTES: String(2 * PROTOBUF_BODY_BYTES - 1) })).toThrow(ConfigError);
    expect(formatHostPort(c.http.listen)).toBe('[::1]:8080');
  });

  it('lists every bad variable at once', () => {
    let err: unknown;
    try {
      loadApiConfig({ ...BASE, SWARM_HTTP_LISTEN: 'no-port', SWARM_HTTP_RATE_PER_S: '0' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(/^SWARM_HTTP_LISTEN: expected host:port/),
      expect.stringMatching(/^SWARM_HTTP_RATE_PER_S: expected an integer/),
    ]);
  });

  it('parses host:port as people write it', () => {
    expect(parseHostPort('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseHostPort('10.0.0.1:65536')).toBeUndefined();
    expect(parseHostPort(':80')).toBeUndefined();
  });
});

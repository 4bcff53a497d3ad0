import { ConfigError } from '@swarm/config';
import { DEFAULT_DHT_CALL_TIMEOUT_MS } from '@swarm/dht-gateway';
import { DEFAULT_POW_DIFFICULTY } from '@swarm/records';
import { DEFAULT_MAX_DEADLINE_MS, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_PEER_BURST, DEFAULT_PEER_MAX_INFLIGHT, DEFAULT_PEER_RATE_PER_SECOND, loadGatewayConfig } from './config';

const BASE = { SWARM_NATS_URL: 'nats://127.0.0.1:4222', SWARM_DATA_DIR: '/tmp/node' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadGatewayConfig({ ...BASE, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('gateway config - loadGatewayConfig', () => {
  it('listens on loopback on a free port by default, advertising what it binds, with named limits', () => {
    const c = loadGatewayConfig(BASE);
    expect(c).toMatchObject({
      listen: { host: '127.0.0.1', port: 0 },
      advertise: undefined,
      scope: 'auto',
      limits: {
        maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
        maxDeadlineMs: DEFAULT_MAX_DEADLINE_MS,
        peer: { maxInflight: DEFAULT_PEER_MAX_INFLIGHT, ratePerSecond: DEFAULT_PEER_RATE_PER_SECOND, burst: DEFAULT_PEER_BURST },
        shared: { host: { maxInflight: 64, ratePerSecond: 200, burst: 400, maxConnections: 32 }, maxInflightTotal: 256 },
      },
      dhtCallTimeoutMs: DEFAULT_DHT_CALL_TIMEOUT_MS,
      powDifficulty: DEFAULT_POW_DIFFICULTY,
      peerTasks: { maxRunning: 16, maxWaiting: 32, maxWaitMs: 2_000 },
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every gateway variable', () => {
    const c = loadGatewayConfig({
      ...BASE,
      SWARM_GATEWAY_LISTEN: '[::]:7700',
      SWARM_GATEWAY_ADVERTISE: 'node1.example.org:7700',
      SWARM_GATEWAY_SCOPE: 'public',
      SWARM_GATEWAY_MAX_MESSAGE_BYTES: '65536',
      SWARM_GATEWAY_MAX_DEADLINE_MS: '1000',
      SWARM_GATEWAY_PEER_MAX_INFLIGHT: '4',
      SWARM_GATEWAY_PEER_RATE: '10',
      SWARM_GATEWAY_PEER_BURST: '20',
      SWARM_GATEWAY_HOST_MAX_INFLIGHT: '8',
      SWARM_GATEWAY_HOST_RATE: '30',
      SWARM_GATEWAY_HOST_BURST: '40',
      SWARM_GATEWAY_HOST_MAX_CONNECTIONS: '5',
      SWARM_GATEWAY_MAX_INFLIGHT: '50',
      SWARM_GATEWAY_DHT_TIMEOUT_MS: '500',
      SWARM_POW_DIFFICULTY: '0',
      SWARM_GATEWAY_PEER_TASKS: '3',
      SWARM_GATEWAY_PEER_QUEUE: '0',
      SWARM_GATEWAY_PEER_QUEUE_WAIT_MS: '750',
    });
    expect(c).toMatchObject({
      listen: { host: '::', port: 7700 },
      advertise: { host: 'node1.example.org', port: 7700 },
      scope: 'public',
      limits: {
        maxMessageBytes: 65536,
        maxDeadlineMs: 1000,
        peer: { maxInflight: 4, ratePerSecond: 10, burst: 20 },
        shared: { host: { maxInflight: 8, ratePerSecond: 30, burst: 40, maxConnections: 5 }, maxInflightTotal: 50 },
      },
      dhtCallTimeoutMs: 500,
      powDifficulty: 0,
      peerTasks: { maxRunning: 3, maxWaiting: 0, maxWaitMs: 750 },
    });
  });

  it('takes the address peers are told written the one way their DHT takes it, and refuses one it has no such way for', () => {
    const advertised = (text: string) => loadGatewayConfig({ ...BASE, SWARM_GATEWAY_LISTEN: '[::]:7700', SWARM_GATEWAY_ADVERTISE: text }).advertise;
    expect(advertised('Node1.Example.org:7700')).toEqual({ host: 'node1.example.org', port: 7700 });
    expect(advertised('[2001:DB8:0:0::1]:7700')).toEqual({ host: '2001:db8::1', port: 7700 });
    expect(advertised('[::ffff:192.0.2.7]:7700')).toEqual({ host: '192.0.2.7', port: 7700 });
    expect(loadGatewayConfig({ ...BASE, SWARM_GATEWAY_LISTEN: 'LocalHost:7700' }).listen).toEqual({ host: 'localhost', port: 7700 });
    expect(problemsOf({ SWARM_GATEWAY_ADVERTISE: '127.1:7700' })).toEqual([
      expect.stringMatching(/^SWARM_GATEWAY_ADVERTISE: expected host:port \(IPv4 as four decimal numbers, .*got '127\.1:7700'$/),
    ]);
  });

  it('takes where peers reach this node from as auto or a scope, nothing else (undialable is no place to be reached)', () => {
    for (const scope of ['auto', 'public', 'private', 'link-local', 'loopback']) expect(loadGatewayConfig({ ...BASE, SWARM_GATEWAY_SCOPE: scope }).scope).toBe(scope);
    for (const bad of ['undialable', 'Public', 'lan']) {
      expect(problemsOf({ SWARM_GATEWAY_SCOPE: bad })).toEqual([`SWARM_GATEWAY_SCOPE: expected one of auto|public|private|link-local|loopback (default auto), got '${bad}'`]);
    }
  });

  it('lists every bad variable at once', () => {
    expect(problemsOf({ SWARM_GATEWAY_LISTEN: '127.0.0.1', SWARM_GATEWAY_ADVERTISE: 'host:0', SWARM_GATEWAY_PEER_RATE: '0' })).toEqual([
      "SWARM_GATEWAY_LISTEN: expected host:port (IPv4 as four decimal numbers, DNS name ending in a label that starts with a letter, or [IPv6], a port (0: any free port)) (default 127.0.0.1:0), got '127.0.0.1'",
      "SWARM_GATEWAY_ADVERTISE: expected host:port (IPv4 as four decimal numbers, DNS name ending in a label that starts with a letter, or [IPv6], a port), got 'host:0'",
      "SWARM_GATEWAY_PEER_RATE: expected an integer in [1, 1000000] (default 100), got '0'",
    ]);
  });

  it('refuses a proof-of-work difficulty beyond the records library maximum and a DHT timeout out of range', () => {
    expect(problemsOf({ SWARM_POW_DIFFICULTY: '41', SWARM_GATEWAY_DHT_TIMEOUT_MS: '50' })).toEqual([
      "SWARM_GATEWAY_DHT_TIMEOUT_MS: expected an integer in [100, 60000] (default 2000), got '50'",
      "SWARM_POW_DIFFICULTY: expected an integer in [0, 40] (default 16), got '41'",
    ]);
    expect(problemsOf({ SWARM_POW_DIFFICULTY: '-1' })).toEqual(["SWARM_POW_DIFFICULTY: expected an integer in [0, 40] (default 16), got '-1'"]);
  });

  it('refuses peer task limits out of range', () => {
    expect(problemsOf({ SWARM_GATEWAY_PEER_TASKS: '0', SWARM_GATEWAY_PEER_QUEUE: '-1', SWARM_GATEWAY_PEER_QUEUE_WAIT_MS: '60001' })).toEqual([
      "SWARM_GATEWAY_PEER_TASKS: expected an integer in [1, 10000] (default 16), got '0'",
      "SWARM_GATEWAY_PEER_QUEUE: expected an integer in [0, 10000] (default 32), got '-1'",
      "SWARM_GATEWAY_PEER_QUEUE_WAIT_MS: expected an integer in [1, 60000] (default 2000), got '60001'",
    ]);
  });

  it('needs an advertised address when listening on every interface', () => {
    expect(problemsOf({ SWARM_GATEWAY_LISTEN: '0.0.0.0:7700' })).toEqual([
      'SWARM_GATEWAY_ADVERTISE: expected the host:port peers should dial when SWARM_GATEWAY_LISTEN is a wildcard (0.0.0.0:7700), got nothing',
    ]);
  });
});

/**
 * SWARM_GATEWAY_SCOPE is for where DNS misleads the reading (docs/swarm.md). Where the node's
 * addresses are IP literals there is nothing to mislead, and a scope wider than they read lifts every
 * check on the addresses records name: `loopback` (an operator's reading of "a host whose name maps
 * to 127.0.1.1") has a node on the internet dial its own NATS port, 127.0.0.1:4222, for any record.
 */
describe('gateway config: SWARM_GATEWAY_SCOPE against the addresses the node is configured with (helper-174)', () => {
  it.each([
    ['203.0.113.5:7400', 'loopback'],
    ['203.0.113.5:7400', 'private'],
    ['203.0.113.5:7400', 'link-local'],
    ['192.168.1.5:7400', 'loopback'],
  ])('refuses advertising %s with SWARM_GATEWAY_SCOPE=%s (wider than its own address reads)', (advertise, scope) => {
    expect(problemsOf({ SWARM_GATEWAY_LISTEN: '0.0.0.0:7400', SWARM_GATEWAY_ADVERTISE: advertise, SWARM_GATEWAY_SCOPE: scope })).toEqual([
      expect.stringContaining('SWARM_GATEWAY_SCOPE'),
    ]);
  });

  it('takes a scope as narrow as or narrower than an IP address reads, and any scope for a name (what DNS may mislead)', () => {
    const scopeOf = (env: Record<string, string>) => loadGatewayConfig({ ...BASE, ...env }).scope;
    expect(scopeOf({ SWARM_GATEWAY_LISTEN: '0.0.0.0:7400', SWARM_GATEWAY_ADVERTISE: '203.0.113.5:7400', SWARM_GATEWAY_SCOPE: 'public' })).toBe('public');
    expect(scopeOf({ SWARM_GATEWAY_LISTEN: '0.0.0.0:7400', SWARM_GATEWAY_ADVERTISE: '192.168.1.5:7400', SWARM_GATEWAY_SCOPE: 'private' })).toBe('private');
    expect(scopeOf({ SWARM_GATEWAY_SCOPE: 'public' })).toBe('public'); // listening on 127.0.0.1, told public: narrower
    expect(scopeOf({ SWARM_GATEWAY_LISTEN: '0.0.0.0:7400', SWARM_GATEWAY_ADVERTISE: 'node1.lan:7400', SWARM_GATEWAY_SCOPE: 'private' })).toBe('private');
    expect(problemsOf({ SWARM_GATEWAY_LISTEN: '0.0.0.0:7400', SWARM_GATEWAY_ADVERTISE: '203.0.113.5:7400', SWARM_GATEWAY_SCOPE: 'loopback' })).toEqual([
      "SWARM_GATEWAY_SCOPE: expected no wider a scope than 203.0.113.5:7400 reads (public), got 'loopback'",
    ]);
  });
});

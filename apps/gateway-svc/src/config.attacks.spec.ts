import { ConfigError } from '@swarm/config';
import { loadGatewayConfig } from './config';

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

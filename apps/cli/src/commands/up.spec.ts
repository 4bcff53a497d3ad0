import { shellWord, singleNodeHints } from './up';

describe('swarm up - the hints for another terminal', () => {
  const node = { httpAddress: '127.0.0.1:8080', home: '/data/node' };

  it("exports the node's home, where every command finds the node and the key it needs (client or observer)", () => {
    const hints = singleNodeHints(node);
    expect(hints).toContain('export SWARM_HOME=/data/node; unset SWARM_NATS_URL SWARM_NATS_NKEY_FILE\n');
    expect(hints).not.toMatch(/export SWARM_NATS/);
    expect(hints).toMatch(/npx swarm agent add my-agent --budget 500 {3}# operator: /);
  });

  it('quotes a path the shell would split', () => {
    expect(shellWord("/home/a b/it's")).toBe(`'/home/a b/it'\\''s'`);
    expect(shellWord('/data/node-1/bus/client.nk')).toBe('/data/node-1/bus/client.nk');
    expect(singleNodeHints({ ...node, home: '/my home' })).toContain("export SWARM_HOME='/my home';");
  });
});

import { shellWord, singleNodeHints } from './up';

describe('swarm up - the hints for another terminal', () => {
  const node = { natsUrl: 'nats://127.0.0.1:4300', clientKeyFile: '/data/node/bus/client.nk', httpAddress: '127.0.0.1:8080', home: '/data/node' };

  it("names the node's home for `swarm agent add`, which needs its observer key rather than the exported client key", () => {
    const hints = singleNodeHints(node);
    expect(hints).toContain('export SWARM_NATS_URL=nats://127.0.0.1:4300 SWARM_NATS_NKEY_FILE=/data/node/bus/client.nk');
    expect(hints).toMatch(/npx swarm agent add my-agent --budget 500 --data-dir \/data\/node\s/);
  });

  it('quotes a path the shell would split', () => {
    expect(shellWord("/home/a b/it's")).toBe(`'/home/a b/it'\\''s'`);
    expect(shellWord('/data/node-1/bus/client.nk')).toBe('/data/node-1/bus/client.nk');
    expect(singleNodeHints({ ...node, home: '/my home' })).toContain("--data-dir '/my home'");
  });
});

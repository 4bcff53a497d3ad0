import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_FILE, swarmNodeHome } from '@swarm/node';
import { hintedTask, shellWord, singleNodeHints, swarmHints, upCommand } from './up';

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

  it('hints a task the node runs itself: matmul where its executors run it, else its first skill at its example size', () => {
    expect(hintedTask(['vecadd', 'matmul', 'mlp'])).toBe('--skill matmul --size 512');
    expect(hintedTask(['mlp'])).toBe('--skill mlp --size 64');
    expect(hintedTask(['vecadd'])).toMatch(/^--skill vecadd --size \d+$/);
    expect(singleNodeHints(node, ['mlp'])).toContain('\n  npx swarm submit --skill mlp --size 64\n');
  });

  it("exports a swarm's home too, so its commands work as printed in a new terminal", () => {
    const hints = swarmHints(3, '/data/swarm');
    expect(hints).toContain('\n  export SWARM_HOME=/data/swarm; unset SWARM_NATS_URL SWARM_NATS_NKEY_FILE\n');
    expect(hints).not.toContain('--data-dir');
    expect(hints).toContain('npx swarm ledger --node 3');
  });
});

describe('swarm up - beside a running swarm', () => {
  it('refuses a single node in a home whose swarm runs (it would take the home from node 1), before starting anything', async () => {
    const base = await mkdtemp(join(tmpdir(), 'swarm-up-beside-'));
    try {
      await mkdir(swarmNodeHome(base, 1), { recursive: true });
      await writeFile(join(swarmNodeHome(base, 1), NODE_FILE), JSON.stringify({ natsUrl: 'nats://127.0.0.1:1', nodeId: 'n1', pid: process.pid, startedAt: '' }));
      await expect(upCommand({ dataDir: base, executors: 1 })).rejects.toMatchObject({
        code: 'SWARM_NODE_RUNNING',
        message: expect.stringContaining('a swarm of nodes runs from'),
      });
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('refuses a swarm in homes one of whose nodes runs before it says it is starting (helper-177)', async () => {
    const base = await mkdtemp(join(tmpdir(), 'swarm-up-twice-'));
    const said: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (said.push(String(chunk)), true));
    try {
      await mkdir(swarmNodeHome(base, 2), { recursive: true });
      await writeFile(join(swarmNodeHome(base, 2), NODE_FILE), JSON.stringify({ natsUrl: 'nats://127.0.0.1:1', nodeId: 'n2', pid: process.pid, startedAt: '' }));
      await expect(upCommand({ dataDir: base, executors: 1, nodes: 3 })).rejects.toMatchObject({
        code: 'SWARM_NODE_RUNNING',
        message: expect.stringContaining(`a node already runs from ${swarmNodeHome(base, 2)}`),
      });
      expect(said.filter((line) => line.includes('starting'))).toEqual([]);
    } finally {
      write.mockRestore();
      await rm(base, { recursive: true, force: true });
    }
  });
});

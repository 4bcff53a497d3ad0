import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, TempDir } from '@swarm/testing';
import { InProcessNode, startInProcessNode } from './in-process-node';
import { runCli } from './run-cli';

describe('swarm CLI - against a running node', () => {
  let node: InProcessNode;
  let dir: TempDir;

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_GENESIS_GRANT: '100' });
    dir = await tempDir('swarm-cli-');
  }, 30_000);

  afterAll(async () => {
    await node.stop();
    await dir.remove();
  });

  it('submits from an input file and prints one JSON document', async () => {
    const file = join(dir.path, 'in.json');
    await writeFile(file, JSON.stringify({ inputs: [{ name: 'a', shape: [2, 2], data: [1, 2, 3, 4] }, { name: 'b', shape: [2, 2], data: [5, 6, 7, 8] }] }));
    const r = await runCli(['submit', '--skill', 'matmul', '--input', file, '--json', '--nats', node.natsUrl]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { outputs: Array<{ shape: number[]; data: number[] }>; cost: string; verification: string };
    expect(out.outputs[0]).toEqual({ name: 'c', shape: [2, 2], data: [19, 22, 43, 50] });
    expect(out.cost).toBe('1');
  });

  it('shows balance and skills as JSON and as tables (SWARM_NATS_URL finds the node)', async () => {
    const env = { SWARM_NATS_URL: node.natsUrl };
    const balance = JSON.parse((await runCli(['balance', '--json'], env)).stdout) as { account: string; available: string };
    expect(balance).toMatchObject({ account: node.nodeId, available: '100' });
    const skills = JSON.parse((await runCli(['skills', '--json'], env)).stdout) as { skills: Array<{ name: string }> };
    expect(skills.skills.map((s) => s.name).sort()).toEqual(['matmul', 'mlp', 'vecadd']);
    const table = await runCli(['skills'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/freivalds/);
  });

  it.each([
    ['no credits', ['submit', '--skill', 'matmul', '--size', '64', '--budget', '5000'], 'SWARM_INSUFFICIENT_CREDIT'],
    ['budget beyond uint64', ['submit', '--skill', 'matmul', '--size', '8', '--budget', '99999999999999999999999'], 'SWARM_BAD_ARGS'],
    ['timeout beyond uint32', ['submit', '--skill', 'matmul', '--size', '8', '--timeout', '99999999999'], 'SWARM_BAD_ARGS'],
    ['another account', ['submit', '--skill', 'vecadd', '--size', '8', '--account', 'mallory'], 'SWARM_BAD_ARGS'],
    ['unknown skill', ['submit', '--skill', 'teleport', '--size', '8'], 'SWARM_UNKNOWN_SKILL'],
    ['missing input', ['submit', '--skill', 'matmul', '--input', '/nonexistent/in.json'], 'SWARM_BAD_ARGS'],
    ['size and input both missing', ['submit', '--skill', 'matmul'], 'SWARM_BAD_ARGS'],
    ['unknown option', ['submit', '--skill', 'matmul', '--size', '8', '--turbo'], 'SWARM_BAD_ARGS'],
  ])('fails clearly: %s', async (_name, args, code) => {
    const r = await runCli([...args, '--nats', node.natsUrl]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(new RegExp(`^error ${code}: .+`));
  });

  it('fails clearly on a bad input file', async () => {
    const file = join(dir.path, 'bad.json');
    await writeFile(file, '{"inputs": [{"name": "a", "shape": [2, 2], "data": [1, 2, 3]}]}');
    const r = await runCli(['submit', '--skill', 'matmul', '--input', file, '--nats', node.natsUrl]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error SWARM_BAD_ARGS: input file .*bad.json: tensor 'a'/);
  });
});

describe('swarm CLI - without a node', () => {
  it('says no node is reachable', async () => {
    const r = await runCli(['balance', '--nats', 'nats://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error SWARM_NO_NODE: cannot reach a node's NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  it('says no node runs in an empty home', async () => {
    const home = await tempDir('swarm-home-');
    const r = await runCli(['skills', '--data-dir', home.path]);
    await home.remove();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error SWARM_NO_NODE: no running node found/);
  });
});

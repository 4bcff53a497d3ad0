/**
 * `swarm up --nodes N` and `npm start`'s demo with the real command: N nodes in `<data dir>/node-<i>`
 * joined into one swarm through node 1; `swarm peers` (its documented JSON Schema too) and every
 * other command reach node i with `--node i` (node 1 without it); Ctrl-C stops them all. The demo
 * is a swarm of three where only node 3 runs `mlp`: node 1's mlp task runs there.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import { documentedAs } from './cli-json-schema';
import { runCli } from './run-cli';
import type { BackgroundUp } from './swarm-processes';
import { alive, nodePids, spawnSwarmUp } from './swarm-processes';

const ENV = { SWARM_EXECUTOR_THREADS: '1', SWARM_LOG_LEVEL: 'warn' };
/** Bounds for a busy machine, not speeds. */
const START_MS = 90_000;
const DISCOVERY_MS = 45_000;

interface SwarmNodeSummary {
  node: number;
  nodeId: string;
  natsUrl: string;
  gatewayAddress: string;
  peerAddress: string;
  home: string;
  skills?: string[];
  services: Array<{ name: string; pid: number }>;
}

interface PeersDocument {
  peers: Array<{ nodeId: string; address: string; rttMs: number; lastSeenMs: string }>;
}

describe('swarm up --nodes 3 - one swarm on loopback, addressed node by node', () => {
  let base: TempDir;
  let up: BackgroundUp | undefined;
  let pids: number[] = [];

  afterAll(async () => {
    if (up?.process.running()) await up.process.stop(30_000, 'SIGINT');
    await base?.remove();
  }, 60_000);

  it('starts three nodes, lists each one’s peers, reaches node i with --node i, and stops all on Ctrl-C', async () => {
    base = await tempDir('swarm-up-nodes-');
    up = await spawnSwarmUp(['--nodes', '3', '--data-dir', base.path], ENV, START_MS);
    const nodes = up.summary['nodes'] as SwarmNodeSummary[];
    expect(nodes.map((n) => [n.node, n.home])).toEqual([1, 2, 3].map((i) => [i, join(base.path, `node-${i}`)]));
    for (const n of nodes) expect(n.peerAddress).toBe(`${n.nodeId}@${n.gatewayAddress}`);
    expect(new Set(nodes.map((n) => n.gatewayAddress)).size).toBe(3);
    pids = nodes.flatMap((n) => nodePids(n.home));

    // --node i reaches node i; without it, node 1 of the swarm in the data dir.
    const at = ['--data-dir', base.path];
    const accountOf = async (args: string[]) => (JSON.parse((await runCli(['balance', ...at, ...args, '--json'])).stdout) as { account: string }).account;
    expect(await accountOf([])).toBe(nodes[0]?.nodeId);
    expect(await accountOf(['--node', '3'])).toBe(nodes[2]?.nodeId);

    // Node 2 learns both others: node 1 is its seed, node 3 reached it through the DHT.
    const others = [nodes[0], nodes[2]].map((n) => n?.nodeId).sort();
    const doc = await waitFor(
      async () => {
        const r = await runCli(['peers', ...at, '--node', '2', '--json']);
        if (r.code !== 0) throw new Error(r.stderr);
        const d = JSON.parse(r.stdout) as PeersDocument;
        return d.peers
          .map((p) => p.nodeId)
          .sort()
          .join() === others.join()
          ? d
          : undefined;
      },
      { timeoutMs: DISCOVERY_MS, intervalMs: 500, what: 'node 2 knows nodes 1 and 3' },
    );
    documentedAs('peers', doc);
    expect(doc.peers.find((p) => p.nodeId === nodes[0]?.nodeId)?.address).toBe(nodes[0]?.gatewayAddress);
    const table = await runCli(['peers', ...at, '--node', '2']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`this node: ${nodes[1]?.peerAddress}`);
    expect(table.stdout).toContain(nodes[0]?.nodeId);

    // Node 2 audits node 3's chain fetched through both gateways: the genesis block, signed by node 3.
    const peerChain = await runCli(['ledger', ...at, '--node', '2', '--peer', nodes[2]?.nodeId ?? '', '--json']);
    expect({ code: peerChain.code, stderr: /^error .*/m.exec(peerChain.stderr)?.[0] }).toEqual({ code: 0, stderr: undefined });
    const chainDoc = JSON.parse(peerChain.stdout) as { nodeId: string; peer: boolean; ok: boolean; headSeq: string; balances: { available: string; locked: string } };
    documentedAs('ledger', chainDoc);
    expect(chainDoc).toMatchObject({ nodeId: nodes[2]?.nodeId, peer: true, ok: true, headSeq: '1', balances: { available: '100', locked: '900' } });
    // As tables print it: the first 16 characters of a peer node 2 knows name it.
    const byPrefix = await runCli(['ledger', ...at, '--node', '2', '--peer', (nodes[2]?.nodeId ?? '').slice(0, 16), '--json']);
    expect({ code: byPrefix.code, nodeId: (JSON.parse(byPrefix.stdout) as { nodeId: string }).nodeId }).toEqual({ code: 0, nodeId: nodes[2]?.nodeId });
    // Node 2's own id is no peer's: said so.
    const own = await runCli(['ledger', ...at, '--node', '2', '--peer', (nodes[1]?.nodeId ?? '').slice(0, 16)]);
    expect({ code: own.code, stderr: own.stderr.trim() }).toEqual({ code: 2, stderr: expect.stringMatching(/^error SWARM_BAD_ARGS: \w{16} is the start of this node's own id/) });
    const unknown = await runCli(['ledger', ...at, '--node', '2', '--peer', 'ffffffff00000000']);
    expect({ code: unknown.code, stderr: unknown.stderr.trim() }).toEqual({
      code: 2,
      stderr: expect.stringMatching(/^error SWARM_BAD_ARGS: no peer this node knows has an id starting with ffffffff00000000/),
    });

    // The command `swarm up` prints for a new terminal works as printed: matmul 512 costs more than a
    // new node's chain may pledge to other nodes (its starter allowance), so node 1 runs it itself.
    const hinted = await runCli(['submit', '--skill', 'matmul', '--size', '512', ...at, '--json']);
    expect({ code: hinted.code, stderr: /^error .*/m.exec(hinted.stderr)?.[0] }).toEqual({ code: 0, stderr: undefined });
    // And says why it did not go to another node.
    expect(JSON.parse(hinted.stdout)).toMatchObject({
      providerId: nodes[0]?.nodeId,
      settlement: 'TASK_STATE_PAID',
      placementNote: expect.stringMatching(
        /^could run on this node's own executors only, with no other node to fall back on: this node's chain could not pledge the task to another node/,
      ),
    });

    // A node that is not running: the usual SWARM_NO_NODE, as JSON too.
    const none = await runCli(['peers', ...at, '--node', '4', '--json']);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout)).toMatchObject({ error: { code: 'SWARM_NO_NODE', message: expect.stringContaining('node-4') } });

    // Ctrl-C: every process of every node stops, each home's node.json is removed.
    const exit = await up.process.stop(60_000, 'SIGINT');
    expect(exit.code).toBe(0);
    expect(alive(pids)).toEqual([]);
    expect(nodes.filter((n) => existsSync(join(n.home, 'node.json')))).toEqual([]);

    // Started again in the same homes: each gateway on the port it had, so node 1's peer address
    // (the seed nodes elsewhere joined by) is the same (they moved at every start: helper-177).
    up = await spawnSwarmUp(['--nodes', '3', '--data-dir', base.path], ENV, START_MS);
    const again = up.summary['nodes'] as SwarmNodeSummary[];
    expect(again.map((n) => n.peerAddress)).toEqual(nodes.map((n) => n.peerAddress));
    expect((await up.process.stop(60_000, 'SIGINT')).code).toBe(0);
  }, 240_000);
});

describe('swarm up --demo - npm start: a swarm of three, one skill only on node 3', () => {
  let base: TempDir;
  afterAll(async () => base?.remove());

  it('runs every demo task from node 1; mlp runs on node 3 and node 1 pays node 3', async () => {
    base = await tempDir('swarm-demo-');
    const r = await runCli(['up', '--demo', '--exit', '--json', '--data-dir', base.path], ENV, START_MS + DISCOVERY_MS);
    expect({ code: r.code, error: /^error .*/m.exec(r.stderr)?.[0] }).toEqual({ code: 0, error: undefined });
    documentedAs('up', JSON.parse(r.stdout));
    const out = JSON.parse(r.stdout) as {
      nodes: SwarmNodeSummary[];
      demo: { tasks: Array<{ skill: string; node: number; providerId: string; cost: string }>; balanceBefore: { available: string }; balanceAfter: { available: string } };
    };
    expect(out.nodes.map((n) => n.skills)).toEqual([['matmul', 'vecadd'], ['matmul', 'vecadd'], ['mlp']]);
    expect(out.demo.tasks.map((t) => [t.skill, t.node])).toEqual([
      ['matmul', 1],
      ['vecadd', 1],
      ['mlp', 3],
    ]);
    // Plain `swarm up` in that home afterwards starts a new, separate node: it says so, and how to start the swarm again.
    const single = await runCli(['up', '--exit', '--data-dir', base.path], ENV, START_MS);
    expect({ code: single.code, error: /^error .*/m.exec(single.stderr)?.[0] }).toEqual({ code: 0, error: undefined });
    expect(single.stderr).toMatch(/^note: .* holds the homes of a stopped swarm of 3 nodes \(node-1 …\); this starts a new, separate node .* swarm up --nodes 3$/m);
    expect(out.demo.tasks[2]?.providerId).toBe(out.nodes[2]?.nodeId);
    // Node 1's own executors cost it nothing; node 3's task is paid to node 3's id.
    const remoteCost = BigInt(out.demo.tasks[2]?.cost ?? '0');
    expect(remoteCost).toBeGreaterThan(0n);
    expect(BigInt(out.demo.balanceAfter.available)).toBe(BigInt(out.demo.balanceBefore.available) - remoteCost);
    expect(out.nodes.flatMap((n) => n.services.map((s) => s.pid)).filter((pid) => alive([pid]).length > 0)).toEqual([]);
  }, 180_000);
});

/**
 * The example agent (example-agent.ts) on a whole node: a matmul too big for one task (the test
 * lowers the per-task limit so the sizes stay small) is planned into tiles, quoted, hired in
 * parallel over the HTTP API within the budget, verified, assembled and compared with a local
 * product; what it paid is what left the agent's account.
 */
import { join } from 'node:path';
import type { SwarmClient } from '@swarm/client';
import { createAgentClient, connectSwarm } from '@swarm/client';
import { ErrorCode } from '@swarm/contracts';
import { referenceMatmul } from '@swarm/skills';
import { swarmErrorOf } from '@swarm/testing';
import { hireMatmul, planTiles } from './example-agent';
import type { InProcessNode } from './in-process-node';
import { startInProcessNode } from './in-process-node';

jest.setTimeout(60_000);

/** Small whole numbers: every product and sum is exact in f32, so tiles assemble to the same bits. */
function matrix(rows: number, cols: number, seed: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, (_, i) => ((i * 7 + seed) % 9) - 4);
}

describe('example agent - plans tiles that fit a task', () => {
  it('splits rows, and columns of b when b alone is too big; every tile fits', () => {
    const max = 1_000;
    const tiles = planTiles(40, 30, 36, max, 4);
    // b is 30×36 = 1080 > 1000: two column blocks of 18, then rows.
    expect(new Set(tiles.map((t) => t.cols))).toEqual(new Set([18]));
    for (const t of tiles) expect(t.rows * 30 + 30 * t.cols).toBeLessThanOrEqual(max);
    const cells = tiles.reduce((n, t) => n + t.rows * t.cols, 0);
    expect(cells).toBe(40 * 36);
    // The case: 1600×1600 with 2,000,000 values a task.
    const big = planTiles(1600, 1600, 1600, 2_000_000, 4);
    expect(big.length).toBeGreaterThanOrEqual(4);
    for (const t of big) expect(t.rows * 1600 + 1600 * t.cols).toBeLessThanOrEqual(2_000_000);
  });

  it('refuses a k no tile can hold', () => {
    expect(() => planTiles(2, 600, 2, 1_000)).toThrow(/too large to split/);
  });
});

describe('example agent - hires a big matmul on a whole node', () => {
  let node: InProcessNode;
  let operator: SwarmClient;

  beforeAll(async () => {
    node = await startInProcessNode({ SWARM_GENESIS_GRANT: '1000' }, { closedBus: true });
    operator = await connectSwarm(node.natsUrl, { nkeyFile: join(node.dataDir, 'bus', 'observer.nk'), role: 'observer' });
  }, 60_000);

  afterAll(async () => {
    await operator?.close();
    await node?.stop();
  });

  it('quotes, hires the tiles in parallel, checks each is verified, assembles the product and reports who was paid', async () => {
    const { token } = await operator.addAgent({ name: 'tiler', budget: 100n, ttlMs: 0n });
    const client = createAgentClient({ baseUrl: `http://${node.httpAddress}`, token });
    const [n, k, m] = [40, 30, 36];
    const job = { n, k, m, a: matrix(n, k, 1), b: matrix(k, m, 2) };
    const lines: string[] = [];
    const report = await hireMatmul(client, job, { budget: 50n, maxElements: 1_000, parallel: 3, log: (l) => lines.push(l) });

    expect(report.tiles.length).toBeGreaterThan(1);
    expect(Array.from(report.c)).toEqual(Array.from(referenceMatmul(job.a, job.b, { n, k, m })));
    expect(report.paid).toBe(report.quoted);
    expect(report.payments).toEqual([{ providerId: node.nodeId, tasks: report.tiles.length, cost: report.paid }]);
    expect(lines.filter((l) => /^subtask \d+\/\d+ rows .* credits to .*\((?:freivalds|recompute)/.test(l))).toHaveLength(report.tiles.length);
    expect(await client.balance()).toMatchObject({ available: 100n - report.paid, spent: report.paid, tasks: BigInt(report.tiles.length) });
  });

  it('stops before hiring anything when the quote exceeds the budget', async () => {
    const { token } = await operator.addAgent({ name: 'thrifty', budget: 100n, ttlMs: 0n });
    const client = createAgentClient({ baseUrl: `http://${node.httpAddress}`, token });
    const job = { n: 20, k: 20, m: 20, a: matrix(20, 20, 3), b: matrix(20, 20, 4) };
    const err = await swarmErrorOf(hireMatmul(client, job, { budget: 1n, maxElements: 500 }));
    expect(err.code).toBe(ErrorCode.ERROR_CODE_BUDGET_TOO_LOW);
    expect(await client.balance()).toMatchObject({ available: 100n, tasks: 0n });
  });
});

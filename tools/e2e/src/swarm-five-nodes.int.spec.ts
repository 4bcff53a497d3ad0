/**
 * Issue 13's swarm test with real processes: five nodes on loopback (startNode, as `swarm up` runs
 * them), joined through node 1's peer address. Only node 5 runs `mlp`: node 1 finds it on the DHT
 * and runs a task there (through both gateways, the result signed by node 5). Then node 5 dies
 * with kill -9 — launcher, nats-server and services — while it runs node 1's task: the task fails
 * cleanly (no other node has the skill to re-dispatch to) with its escrow refunded, and node 5's
 * records (3 s TTL) expire, so node 1 stops offering it. Node 5 runs under its own `swarm up`
 * process, so that killing its launcher leaves no supervisor to restart it.
 *
 * Then, on the four nodes left (issue 14, redundancy): node 1 runs a matmul with redundancy 3 on
 * three different nodes; every replica is verified and agrees, each provider's account in node 1's
 * ledger gets the price, node 1 pays three times it, and every node's ledger audits clean.
 * Then (issue 14, sharding) node 1 splits a matmul into four row blocks run on the four nodes at
 * once: each block verified, the product reassembled, each provider paid its blocks' share of the
 * price, the credit conserved, and every ledger still audits clean.
 */
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import type { SubmitTaskResponse } from '@swarm/contracts';
import { ErrorCode, fromTensor, isSwarmError, TaskState } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { busKeyFile } from '@swarm/identity';
import type { RunningNode } from '@swarm/node';
import { startNode } from '@swarm/node';
import { demoDenseInputs, demoInputs, getSkill, priceOf } from '@swarm/skills';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import type { BackgroundUp, RegistryProbe } from './swarm-processes';
import { alive, killNodeHard, registryProbe, spawnSwarmUp, upNodePids } from './swarm-processes';

const TEST_TIMEOUT_MS = 120_000;
jest.setTimeout(TEST_TIMEOUT_MS);

const SHARED_SKILLS = ['matmul', 'vecadd'];
const ONLY_ON_NODE_5 = 'mlp';
const NODE_5_RECORD_TTL_MS = 3_000;
/** mlp 800: about 1.5 s of kernel time here, long enough to be seen running and killed. */
const LONG_TASK_SIZE = 800;
/** mlp 800 costs about 1,000 credits, a new node's whole grant. */
const GENESIS_GRANT = '100000';
/**
 * Light nodes: five of them share two cores. The swarm's chain rules grant every node the local
 * grant, all of it spendable at once: mlp 800 costs more than a new node's starter allowance.
 */
const ENV = { SWARM_EXECUTOR_THREADS: '1', SWARM_LOG_LEVEL: 'warn', SWARM_CHAIN_GENESIS_GRANT: GENESIS_GRANT, SWARM_CHAIN_STARTER_ALLOWANCE: GENESIS_GRANT };
/** These bound a hang on a busy machine; they are not speeds. */
const START_MS = 60_000;
const DISCOVERY_MS = 45_000;
const RECORD_GONE_MS = NODE_5_RECORD_TTL_MS + 20_000;
/** A small product: three replicas of it take milliseconds; 128×128 costs 5 credits, so shares are visible. */
const REDUNDANT_SIZE = 128;
const REPLICAS = 3;
/** Four row blocks of 32 rows: one per node left, 5 credits split 2, 1, 1, 1 by Shapley value. */
const SHARDS = 4;

type Outcome = { ok: SubmitTaskResponse } | { err: unknown };

describe('swarm - five nodes, a skill only node 5 runs, node 5 killed mid-task', () => {
  const homes: TempDir[] = [];
  const nodes: RunningNode[] = [];
  let node5: BackgroundUp | undefined;
  let node5Pids: number[] = [];
  let registry: RegistryProbe | undefined;
  let client: SwarmClient | undefined;
  let observer5: SwarmClient | undefined;

  /** The multi-provider tests go on from the first test's connections to node 1. */
  const connected = () => {
    if (!client || !registry) throw new Error('the first test did not get as far as connecting to node 1');
    const submitter = client;
    const probe = registry;
    return {
      submitter,
      /** Until node 1 knows `count` providers of matmul. */
      matmulProviders: (count: number) =>
        waitFor(async () => new Set((await probe.providers('matmul')).providers.map((p) => p.nodeId)).size >= count, {
          timeoutMs: DISCOVERY_MS,
          intervalMs: 250,
          what: `node 1 knows ${count} providers of matmul`,
        }),
      /** `account`'s available credit in node 1's ledger; 0 before its first credit (a provider's account exists once it was first paid). */
      available: (account: string) =>
        submitter.balance(account).then(
          (b) => b.available,
          (err: unknown) => {
            if (isSwarmError(err, ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT)) return 0n;
            throw err;
          },
        ),
    };
  };

  afterAll(async () => {
    await observer5?.close().catch(() => undefined);
    await client?.close().catch(() => undefined);
    await registry?.close().catch(() => undefined);
    killNodeHard(alive(node5Pids));
    if (node5?.process.running()) await node5.process.stop(5_000, 'SIGINT');
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(homes.map((h) => h.remove()));
  }, 60_000);

  it('finds node 5 from node 1, runs its skill there, refunds the task it dies in, then forgets it', async () => {
    for (let i = 0; i < 5; i++) homes.push(await tempDir(`swarm-five-${i + 1}-`));
    const [home1, home2, home3, home4, home5] = homes.map((h) => h.path) as [string, string, string, string, string];

    // Node 1 starts a new swarm; the others join through its peer address, side by side.
    const node1 = await startNode({ home: home1, skills: SHARED_SKILLS, env: { ...ENV, SWARM_GENESIS_GRANT: GENESIS_GRANT } });
    nodes.push(node1);
    const seeds = [node1.peerAddress];
    expect(node1.peerAddress).toMatch(new RegExp(`^${node1.nodeId}@127\\.0\\.0\\.1:\\d+$`));
    const node5Env = { ...ENV, SWARM_SKILLS: ONLY_ON_NODE_5, SWARM_SEEDS: seeds.join(','), SWARM_RECORD_TTL_MS: String(NODE_5_RECORD_TTL_MS) };
    const starting = await Promise.allSettled([
      spawnSwarmUp(['--data-dir', home5], node5Env, START_MS).then((up) => {
        node5 = up;
      }),
      ...[home2, home3, home4].map(async (home) => {
        nodes.push(await startNode({ home, seeds, skills: SHARED_SKILLS, env: ENV }));
      }),
    ]);
    // Every node that did start is in `nodes` or `node5` for afterAll, whichever failed.
    for (const s of starting) if (s.status === 'rejected') throw s.reason;
    const up5 = node5 as BackgroundUp;
    const node5Id = String(up5.summary['nodeId']);
    node5Pids = upNodePids(home5, up5);
    expect(up5.summary['peerAddress']).toMatch(new RegExp(`^${node5Id}@127\\.0\\.0\\.1:\\d+$`));

    // Found: node 1's registry lists node 5, and only node 5, for the skill only node 5 has.
    registry = await registryProbe(node1.natsUrl, home1);
    const probe = registry;
    const found = await waitFor(async () => (await probe.providers(ONLY_ON_NODE_5)).providers.find((p) => p.nodeId === node5Id), {
      timeoutMs: DISCOVERY_MS,
      intervalMs: 250,
      what: `node 1 finds node 5 as a provider of ${ONLY_ON_NODE_5}`,
    });
    expect(found).toMatchObject({ local: false, endpoint: up5.summary['peerAddress'], skills: [ONLY_ON_NODE_5] });
    expect(found.expiresAtMs).toBeGreaterThan(0n);
    expect((await probe.providers(ONLY_ON_NODE_5)).providers.map((p) => p.nodeId)).toEqual([node5Id]);

    // Executed from node 1 on node 5: node 5 is the provider, node 1 pays it from its own ledger.
    client = await connectSwarm(node1.natsUrl, { nkeyFile: node1.clientKeyFile });
    const submitter = client;
    const task = (size: number, key: string, timeoutMs: number) => {
      const inputs = demoInputs(ONLY_ON_NODE_5, size, seededRandom(size));
      return submitter.submit({ skill: ONLY_ON_NODE_5, inputs, budget: priceOf(ONLY_ON_NODE_5, inputs.map(fromTensor)), timeoutMs, idempotencyKey: key });
    };
    const balance0 = await client.balance();
    const small = await task(32, 'five-nodes-small', 30_000);
    expect(small).toMatchObject({ providerId: node5Id, settlement: TaskState.TASK_STATE_PAID });
    expect((await client.balance()).available).toBe(balance0.available - small.cost);

    // kill -9 of every process of node 5 while it runs node 1's long task.
    const before = await client.balance();
    const outcome: Promise<Outcome> = task(LONG_TASK_SIZE, 'five-nodes-killed', 20_000).then(
      (ok) => ({ ok }),
      (err: unknown) => ({ err }),
    );
    observer5 = await connectSwarm(String(up5.summary['natsUrl']), { nkeyFile: busKeyFile(home5, 'observer'), role: 'observer' });
    const watcher = observer5;
    await waitFor(async () => Number((await watcher.health('executor', 500)).details['running'] ?? 0) > 0, {
      timeoutMs: 20_000,
      what: "node 5's executor running node 1's task",
    });
    await watcher.close();
    observer5 = undefined;
    const killedAt = Date.now();
    expect(killNodeHard(node5Pids)).toEqual(node5Pids);
    await waitFor(() => alive(node5Pids).length === 0, { timeoutMs: 5_000, what: "node 5's processes gone" });

    // Failed cleanly: a typed refusal, not INTERNAL, and every credit back where it was.
    const result = await outcome;
    if ('ok' in result) throw new Error(`the task finished on ${result.ok.providerId.slice(0, 16)}… although node 5, its only provider, was killed mid-task`);
    expect(isSwarmError(result.err)).toBe(true);
    expect(isSwarmError(result.err, ErrorCode.ERROR_CODE_INTERNAL)).toBe(false);
    await waitFor(async () => (await submitter.balance()).escrowed === before.escrowed, { timeoutMs: 10_000, what: 'escrow released' });
    // Every credit back where it was (its reserves counter still counts the task that was tried).
    expect(await client.balance()).toMatchObject({ available: before.available, escrowed: before.escrowed, spent: before.spent });
    const status = await client.task({ idempotencyKey: 'five-nodes-killed' });
    expect([TaskState.TASK_STATE_REFUNDED, TaskState.TASK_STATE_REJECTED]).toContain(status.state);

    // Node 5's records expire: node 1 stops returning it, and a task for its skill is refused unpaid.
    await waitFor(async () => !(await probe.providers(ONLY_ON_NODE_5)).providers.some((p) => p.nodeId === node5Id), {
      timeoutMs: RECORD_GONE_MS,
      intervalMs: 250,
      what: "node 5's records no longer returned",
    });
    expect(Date.now() - killedAt).toBeLessThan(RECORD_GONE_MS);
    const refused = await task(32, 'five-nodes-after', 10_000).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_NO_PROVIDER });
    // Every credit back where it was (its reserves counter still counts the task that was tried).
    expect(await client.balance()).toMatchObject({ available: before.available, escrowed: before.escrowed, spent: before.spent });
  });

  it(`runs a matmul on ${REPLICAS} different nodes with redundancy ${REPLICAS}, pays each the price, and every ledger audits clean`, async () => {
    const { submitter, matmulProviders, available } = connected();
    const [node1] = nodes as [RunningNode];
    const ids = nodes.map((n) => n.nodeId);
    await matmulProviders(REPLICAS);
    const before = new Map(await Promise.all(ids.map(async (id) => [id, await available(id)] as const)));
    const inputs = demoInputs('matmul', REDUNDANT_SIZE, seededRandom(REDUNDANT_SIZE));
    const price = priceOf('matmul', inputs.map(fromTensor));
    const res = await submitter.submit({
      skill: 'matmul',
      inputs,
      budget: BigInt(REPLICAS) * price,
      timeoutMs: 30_000,
      idempotencyKey: 'five-nodes-redundant',
      redundancy: REPLICAS,
    });

    expect(res).toMatchObject({
      settlement: TaskState.TASK_STATE_PAID,
      cost: BigInt(REPLICAS) * price,
      refunded: 0n,
      verification: `freivalds; ${REPLICAS} of ${REPLICAS} replicas agree`,
    });
    const dense = demoDenseInputs('matmul', REDUNDANT_SIZE, seededRandom(REDUNDANT_SIZE));
    expect(getSkill('matmul').agree(dense, getSkill('matmul').reference(dense), res.outputs.map(fromTensor))).toMatchObject({ ok: true });
    expect(res.contributions).toHaveLength(REPLICAS);
    const paidTo = res.contributions.map((c) => c.providerId);
    expect(new Set(paidTo).size).toBe(REPLICAS);
    for (const c of res.contributions) {
      expect(ids).toContain(c.providerId);
      expect(c).toMatchObject({ counted: true, paid: price, note: '' });
      expect(c.share).toBeCloseTo(1 / REPLICAS, 9);
    }
    // Node 1 pays from its own account; when it is one of the replicas it is also paid back its share.
    for (const id of ids) {
      const earned = paidTo.includes(id) ? price : 0n;
      const spent = id === node1.nodeId ? res.cost : 0n;
      expect({ id, available: await available(id) }).toEqual({ id, available: (before.get(id) ?? 0n) + earned - spent });
    }
    for (const node of nodes) {
      const audited = await connectSwarm(node.natsUrl, { nkeyFile: busKeyFile(node.home, 'observer'), role: 'observer' });
      try {
        expect(await audited.audit()).toMatchObject({ ok: true, problems: [] });
      } finally {
        await audited.close();
      }
    }
  });

  it(`splits a matmul into ${SHARDS} row blocks over the nodes, pays each provider its blocks' share, and credit is conserved`, async () => {
    const { submitter, matmulProviders, available } = connected();
    const [node1] = nodes as [RunningNode];
    const ids = nodes.map((n) => n.nodeId);
    await matmulProviders(SHARDS);
    const before = new Map(await Promise.all(ids.map(async (id) => [id, await available(id)] as const)));
    const total = async () => (await Promise.all(ids.map(available))).reduce((s, x) => s + x, 0n);
    const totalBefore = await total();
    const inputs = demoInputs('matmul', REDUNDANT_SIZE, seededRandom(REDUNDANT_SIZE + 1));
    const price = priceOf('matmul', inputs.map(fromTensor));
    const res = await submitter.submit({ skill: 'matmul', inputs, budget: price + 2n, timeoutMs: 30_000, idempotencyKey: 'five-nodes-sharded', shards: SHARDS });

    expect(res).toMatchObject({ settlement: TaskState.TASK_STATE_PAID, cost: price, refunded: 2n });
    expect(res.verification).toMatch(new RegExp(`^freivalds; ${SHARDS} of ${SHARDS} row blocks verified, on \\d provider\\(s\\)$`));
    const dense = demoDenseInputs('matmul', REDUNDANT_SIZE, seededRandom(REDUNDANT_SIZE + 1));
    expect(getSkill('matmul').agree(dense, getSkill('matmul').reference(dense), res.outputs.map(fromTensor))).toMatchObject({ ok: true });
    expect(res.shards.map((s) => [s.index, s.rowStart, s.rowEnd])).toEqual([0, 1, 2, 3].map((j) => [j, j * 32, j * 32 + 32]));
    const providers = new Set(res.shards.map((s) => s.providerId));
    expect(providers.size).toBeGreaterThanOrEqual(2);
    const paid = new Map(res.contributions.map((c) => [c.providerId, c.paid]));
    expect([...paid.values()].reduce((s, x) => s + x, 0n)).toBe(price);
    for (const c of res.contributions) {
      expect(ids).toContain(c.providerId);
      // Each block is a quarter of the work; a node is paid for the blocks it completed.
      const blocks = res.shards.filter((s) => s.providerId === c.providerId).length;
      expect(c).toMatchObject({ counted: true, note: '' });
      expect(c.share).toBeCloseTo(blocks / SHARDS, 9);
    }
    for (const id of ids) {
      const spent = id === node1.nodeId ? res.cost : 0n;
      expect({ id, available: await available(id) }).toEqual({ id, available: (before.get(id) ?? 0n) + (paid.get(id) ?? 0n) - spent });
    }
    // Asked later, the router names every node paid, as the submit's answer did.
    const status = await submitter.task({ taskId: res.taskId });
    expect(new Map(status.paidTo.map((p) => [p.providerId, p.paid]))).toEqual(new Map([...paid].filter(([, amount]) => amount > 0n)));
    // Only counted results are paid, and each entry says so.
    expect(status.paidTo.every((p) => p.counted)).toBe(true);
    // What node 1 paid, its providers earned: the sum over the accounts did not move.
    expect(await total()).toBe(totalBefore);
    for (const node of nodes) {
      const audited = await connectSwarm(node.natsUrl, { nkeyFile: busKeyFile(node.home, 'observer'), role: 'observer' });
      try {
        expect(await audited.audit()).toMatchObject({ ok: true, problems: [] });
      } finally {
        await audited.close();
      }
    }
  });
});

/**
 * Issue 14's receipts between real nodes (processes, as `swarm up` runs them): three brand-new
 * nodes under the default chain rules (1,000 granted, 100 spendable until a node first serves
 * another), each running one skill, so every task crosses nodes: node 1 has matmul and pays nodes 2
 * (mlp) and 3 (vecadd); node 2 pays nodes 3 and 1, node 3 pays node 2. Under that load credit-svc is
 * killed with kill -9 at random moments, the payer's and each payee's in turn (bounded: one kill
 * per round, a few seconds of load around it); the supervisor restarts it.
 *
 * Afterwards, audited from outside through each node's bus (the observer key): every escrow is
 * settled or refunded and every ledger audits clean; every chain verifies on its own (signatures,
 * hash links, balances, the genesis lock); every receipt appears exactly once in the payer's chain
 * and once in the payee's, with the same bytes; and the sum of available + locked + burned over the
 * chains equals the genesis issued. A swarm of only new nodes got going on starter allowances.
 */
import { busConnectOptions, createBusClient } from '@swarm/bus';
import type { BusClient } from '@swarm/bus';
import type { ChainAudit } from '@swarm/chain';
import { chainRules, checkCrossChain, verifyChain } from '@swarm/chain';
import type { SwarmClient } from '@swarm/client';
import { connectSwarm } from '@swarm/client';
import { CreditAudit, CreditChainBlocks, CreditHealth, fromTensor, isSwarmError } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { busKeyFile } from '@swarm/identity';
import type { RunningNode } from '@swarm/node';
import { startNode } from '@swarm/node';
import { demoInputs, priceOf } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { readNodeFileSync } from './swarm-processes';

jest.setTimeout(240_000);

/** Each node runs one skill, so that every task is run by another node. */
const SKILLS = [['matmul'], ['mlp'], ['vecadd']] as const;
/** Who submits what: [submitting node, skill]; the provider is the only node with the skill. */
type Skill = 'matmul' | 'mlp' | 'vecadd';
const FLOWS: ReadonlyArray<readonly [number, Skill]> = [
  [0, 'mlp'],
  [0, 'vecadd'],
  [1, 'vecadd'],
  [1, 'matmul'],
  [2, 'mlp'],
];
/** Light nodes: three share two cores. Short tasks, so the escrows of a killed settle expire soon. */
const ENV = { SWARM_EXECUTOR_THREADS: '1', SWARM_LOG_LEVEL: 'warn', SWARM_TASK_TIMEOUT_MS: '5000', SWARM_ESCROW_SWEEP_MS: '200' };
/** Whose credit-svc dies in each round: a payer, then each payee. Bounded. */
const KILL_ROUNDS = [0, 1, 2, 0] as const;
const START_MS = 60_000;
const DISCOVERY_MS = 45_000;

interface Node {
  readonly running: RunningNode;
  readonly home: string;
  readonly client: SwarmClient;
  readonly observer: NatsConnection;
  readonly bus: BusClient;
}

describe('swarm - receipts between three new nodes, credit-svc killed during settlement', () => {
  const homes: TempDir[] = [];
  const nodes: Node[] = [];
  const running: RunningNode[] = [];

  afterAll(async () => {
    for (const n of nodes) {
      await n.client.close().catch(() => undefined);
      await n.observer.close().catch(() => undefined);
    }
    await Promise.all(running.map((n) => n.stop()));
    await Promise.all(homes.map((h) => h.remove()));
  }, 60_000);

  const creditPid = (n: Node): number => {
    const pid = readNodeFileSync(n.home).supervision?.['credit-svc']?.pid;
    if (!pid) throw new Error('no credit-svc pid in node.json');
    return pid;
  };

  const chainOf = async (n: Node): Promise<ChainAudit> => {
    const blocks: Uint8Array[] = [];
    for (let from = 1n; ;) {
      const page = await n.bus.request(CreditChainBlocks, { fromSeq: from, limit: 0 });
      blocks.push(...page.blocks);
      from += BigInt(page.blocks.length);
      if (from > page.headSeq || page.blocks.length === 0) return verifyChain(blocks, chainRules(), { expectedNodeId: n.running.nodeId, nowMs: Date.now() });
    }
  };

  it('pays every provider by receipts that end up once in each of the two chains, through kills, with credit conserved', async () => {
    for (let i = 0; i < 3; i++) homes.push(await tempDir(`swarm-receipts-${i + 1}-`));
    const first = await startNode({ home: homes[0].path, skills: [...SKILLS[0]], env: ENV });
    running.push(first);
    await Promise.all(
      [1, 2].map(async (i) => {
        running[i] = await startNode({ home: homes[i].path, seeds: [first.peerAddress], skills: [...SKILLS[i]], env: ENV });
      }),
    );
    for (let i = 0; i < 3; i++) {
      const r = running[i];
      const observer = await connect({
        servers: r.natsUrl,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 100,
        ...(await busConnectOptions('observer', busKeyFile(r.home, 'observer'))),
      });
      nodes.push({ running: r, home: r.home, client: await connectSwarm(r.natsUrl, { nkeyFile: r.clientKeyFile }), observer, bus: createBusClient(observer, silentLogger()) });
    }
    expect(running.every((r) => r.nodeId.length === 64)).toBe(true);

    const random = seededRandom(14);
    const inputsOf = { matmul: demoInputs('matmul', 8, random), mlp: demoInputs('mlp', 16, random), vecadd: demoInputs('vecadd', 64, random) };
    const priceOfSkill = (skill: Skill) => priceOf(skill, inputsOf[skill].map(fromTensor));
    // Each node can see its provider before the load starts.
    for (const [from, skill] of FLOWS) {
      await waitFor(
        async () => {
          try {
            await nodes[from].client.submit({ skill, inputs: inputsOf[skill], budget: priceOfSkill(skill), timeoutMs: 5_000 });
            return true;
          } catch (err) {
            if (isSwarmError(err)) return false;
            throw err;
          }
        },
        { timeoutMs: DISCOVERY_MS, intervalMs: 500, what: `node ${from + 1} runs ${skill} on another node` },
      );
    }

    let paid = 0;
    let failed = 0;
    for (const victim of KILL_ROUNDS) {
      let stop = false;
      const load = FLOWS.map(async ([from, skill]) => {
        while (!stop) {
          try {
            await nodes[from].client.submit({ skill, inputs: inputsOf[skill], budget: priceOfSkill(skill), timeoutMs: 5_000 });
            paid += 1;
          } catch {
            // A killed credit-svc fails tasks (or leaves their outcome to the ledger): fine here.
            failed += 1;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      });
      await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 1_200)));
      process.kill(creditPid(nodes[victim]), 'SIGKILL');
      await waitFor(async () => (await nodes[victim].client.health('credit', 1_000)).status === 'ok', {
        timeoutMs: START_MS,
        intervalMs: 200,
        what: `credit-svc of node ${victim + 1} back`,
      });
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await Promise.all(load);
    }
    expect(paid).toBeGreaterThan(0);

    // Every escrow closes (a killed settle's escrow at its expiry), every ledger audits clean.
    for (const n of nodes) {
      await waitFor(async () => (await n.bus.request(CreditHealth, {})).details['openEscrows'] === '0', { timeoutMs: 60_000, intervalMs: 500, what: 'every escrow closed' });
      const audit = await n.bus.request(CreditAudit, {}, { timeoutMs: 30_000 });
      expect({ ok: audit.ok, problems: audit.problems }).toEqual({ ok: true, problems: [] });
    }
    // Every receipt delivered: each is in both chains once, and the credit is conserved.
    const report = await waitFor(
      async () => {
        const r = checkCrossChain(await Promise.all(nodes.map(chainOf)));
        return r.conserved ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'every receipt in both chains' },
    );
    expect(report).toMatchObject({ chains: 3, problemCount: 0, genesisIssued: 3_000n, total: 3_000n });
    expect(report.receipts).toBeGreaterThan(0);
    // Each node served another: its genesis lock is gone.
    const audits = await Promise.all(nodes.map(chainOf));
    for (const a of audits) expect(a.head.balances.locked).toBe(0n);
    process.stderr.write(`swarm receipts: ${JSON.stringify({ paid, failed, receipts: report.receipts })}\n`);
  });
});

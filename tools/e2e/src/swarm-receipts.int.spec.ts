/**
 * Issue 14's receipts between real nodes (processes, as `swarm up` runs them): five brand-new nodes
 * under the default chain rules (1,000 granted, 100 spendable until a node first serves another),
 * with skill sets chosen so that every task crosses nodes, paying each other for 1,000 tasks. Under
 * that load, at random moments: kill -9 of credit-svc on a payer and on payees (the supervisor
 * restarts it), and kill -9 of a whole payee node — launcher, nats-server and services — which is
 * then started again from its data dir (its receipts wait in the payers' outboxes meanwhile).
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
import type { BackgroundUp } from './swarm-processes';
import { alive, killNodeHard, nodePids, readNodeFileSync, spawnSwarmUp } from './swarm-processes';

jest.setTimeout(300_000);

type Skill = 'matmul' | 'mlp' | 'vecadd';
/**
 * Nodes 1-4 run in this test's launcher; node 5, the only matmul provider, under its own
 * `swarm up`, so that it can die whole and be started again.
 */
const SKILLS: readonly Skill[][] = [['mlp'], ['vecadd'], ['mlp'], ['vecadd'], ['matmul']];
/** [submitting node, skill]: no node submits a skill it runs, so every task is paid to another. */
const FLOWS: ReadonlyArray<readonly [number, Skill]> = [
  [0, 'vecadd'],
  [0, 'matmul'],
  [1, 'mlp'],
  [1, 'matmul'],
  [2, 'vecadd'],
  [2, 'matmul'],
  [3, 'mlp'],
];
const TASKS = 1_000;
/** Light nodes: five share two cores. Short tasks, so the escrows of a killed settle expire soon. */
const ENV = { SWARM_EXECUTOR_THREADS: '1', SWARM_LOG_LEVEL: 'warn', SWARM_TASK_TIMEOUT_MS: '5000', SWARM_ESCROW_SWEEP_MS: '200' };
/** Each round kills one thing under load: credit-svc of a payer, of payees, then node 5 whole. */
const KILLS = [{ creditOf: 0 }, { creditOf: 1 }, { node5: true }, { creditOf: 3 }, { creditOf: 2 }] as const;
/** Bounds on a busy machine; they are not speeds. */
const START_MS = 90_000;
const DISCOVERY_MS = 60_000;
const LOAD_MS = 150_000;

interface Observed {
  readonly nodeId: string;
  readonly observer: NatsConnection;
  readonly bus: BusClient;
}

describe('swarm - receipts between five new nodes for 1,000 tasks, credit-svc and a whole payee killed during settlement', () => {
  const homes: TempDir[] = [];
  const running: RunningNode[] = [];
  const clients: SwarmClient[] = [];
  const observers: NatsConnection[] = [];
  let node5: BackgroundUp | undefined;

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const o of observers) await o.close().catch(() => undefined);
    if (homes[4]) killNodeHard(alive(nodePids(homes[4].path)));
    if (node5?.process.running()) await node5.process.stop(5_000, 'SIGINT');
    await Promise.all(running.map((n) => n.stop()));
    await Promise.all(homes.map((h) => h.remove()));
  }, 60_000);

  const observe = async (home: string): Promise<Observed> => {
    const file = readNodeFileSync(home);
    const observer = await connect({
      servers: file.natsUrl,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      ...(await busConnectOptions('observer', busKeyFile(home, 'observer'))),
    });
    observers.push(observer);
    return { nodeId: file.nodeId, observer, bus: createBusClient(observer, silentLogger()) };
  };

  const chainOf = async (n: Observed): Promise<ChainAudit> => {
    const blocks: Uint8Array[] = [];
    for (let from = 1n; ;) {
      // A whole page (up to 1 MiB) from each of five nodes at once, on a box busy with the other
      // suites: as long as the audit gets (a CI run once took over the default 5 s).
      const page = await n.bus.request(CreditChainBlocks, { fromSeq: from, limit: 0 }, { timeoutMs: 30_000 });
      blocks.push(...page.blocks);
      from += BigInt(page.blocks.length);
      if (from > page.headSeq || page.blocks.length === 0) return verifyChain(blocks, chainRules(), { expectedNodeId: n.nodeId, nowMs: Date.now() });
    }
  };

  it('pays every provider by receipts that end up once in each of the two chains, through kills, with credit conserved', async () => {
    for (let i = 0; i < 5; i++) homes.push(await tempDir(`swarm-receipts-${i + 1}-`));
    const first = await startNode({ home: homes[0].path, skills: SKILLS[0], env: ENV });
    running.push(first);
    const seeds = [first.peerAddress];
    const up5 = (): Promise<BackgroundUp> => spawnSwarmUp(['--data-dir', homes[4].path], { ...ENV, SWARM_SKILLS: SKILLS[4].join(','), SWARM_SEEDS: seeds.join(',') }, START_MS);
    const started = await Promise.allSettled([
      up5().then((up) => {
        node5 = up;
      }),
      ...[1, 2, 3].map(async (i) => {
        running[i] = await startNode({ home: homes[i].path, seeds, skills: SKILLS[i], env: ENV });
      }),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    for (const r of running) clients.push(await connectSwarm(r.natsUrl, { nkeyFile: r.clientKeyFile }));

    const random = seededRandom(14);
    const inputsOf = { matmul: demoInputs('matmul', 8, random), mlp: demoInputs('mlp', 16, random), vecadd: demoInputs('vecadd', 64, random) };
    const submit = (from: number, skill: Skill) =>
      clients[from].submit({ skill, inputs: inputsOf[skill], budget: priceOf(skill, inputsOf[skill].map(fromTensor)), timeoutMs: 5_000 });
    // Each flow reaches a provider on another node before the load starts.
    for (const [from, skill] of FLOWS) {
      await waitFor(
        () =>
          submit(from, skill).then(
            () => true,
            (err: unknown) => (isSwarmError(err) ? false : Promise.reject(err)),
          ),
        {
          timeoutMs: DISCOVERY_MS,
          intervalMs: 500,
          what: `node ${from + 1} runs ${skill} on another node`,
        },
      );
    }

    // Tasks paid for: each paid one node by one receipt. A verified result whose settle could not
    // go through (credit-svc killed) comes back unpaid, its escrow refunded.
    let paid = 0;
    let unpaid = 0;
    let failed = 0;
    let stop = false;
    // The load goes on until both: TASKS paid, and every kill done under it.
    let killed = 0;
    const load = FLOWS.map(async ([from, skill]) => {
      while (!stop) {
        try {
          const r = await submit(from, skill);
          if (r.cost > 0n) paid += 1;
          else unpaid += 1;
          if (paid >= TASKS && killed === KILLS.length) stop = true;
        } catch {
          // A killed credit-svc or provider fails tasks (or leaves their outcome to the ledger).
          failed += 1;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
    const bound = setTimeout(() => {
      stop = true;
    }, LOAD_MS);
    try {
      for (const kill of KILLS) {
        if (stop) break;
        await new Promise((r) => setTimeout(r, 1_000 + Math.floor(random() * 2_000)));
        if ('creditOf' in kill) {
          const pid = readNodeFileSync(homes[kill.creditOf].path).supervision?.['credit-svc']?.pid;
          if (!pid) throw new Error('no credit-svc pid in node.json');
          process.kill(pid, 'SIGKILL');
          await waitFor(async () => (await clients[kill.creditOf].health('credit', 1_000)).status === 'ok', {
            timeoutMs: START_MS,
            intervalMs: 200,
            what: `credit-svc of node ${kill.creditOf + 1} back`,
          });
        } else {
          killNodeHard(nodePids(homes[4].path));
          await node5?.process.exited;
          await new Promise((r) => setTimeout(r, 1_000));
          node5 = await up5();
        }
        killed += 1;
      }
      await Promise.all(load);
    } finally {
      clearTimeout(bound);
      stop = true;
    }
    expect({ paid: paid >= TASKS, killed }).toEqual({ paid: true, killed: KILLS.length });

    // Every escrow closes (a killed settle's escrow at its expiry), every ledger audits clean.
    const nodes = await Promise.all(homes.map((h) => observe(h.path)));
    for (const n of nodes) {
      await waitFor(async () => (await n.bus.request(CreditHealth, {})).details['openEscrows'] === '0', { timeoutMs: 60_000, intervalMs: 500, what: 'every escrow closed' });
      const audit = await n.bus.request(CreditAudit, {}, { timeoutMs: 30_000 });
      expect({ ok: audit.ok, problems: audit.problems }).toEqual({ ok: true, problems: [] });
    }
    // Every receipt delivered (node 5's after it came back): no node has credit pledged any more (a
    // receipt still in an outbox is in no chain yet, so the chains alone would not show it missing).
    for (const n of nodes) {
      await waitFor(async () => (await n.bus.request(CreditHealth, {})).details['chainPledged'] === '0', {
        timeoutMs: 150_000,
        intervalMs: 1_000,
        what: 'every receipt out of the outboxes',
      });
    }
    // Each receipt in both chains once, credit conserved.
    const report = checkCrossChain(await Promise.all(nodes.map(chainOf)));
    expect(report).toMatchObject({ chains: 5, problemCount: 0, genesisIssued: 5_000n, total: 5_000n });
    // Besides the tasks counted, the discovery tasks and any whose reply a kill lost were paid too.
    expect(report.receipts).toBeGreaterThanOrEqual(paid);
    // A node that served another has its genesis unlocked; node 5, the only matmul provider, did,
    // before and after it was killed whole.
    const audits = await Promise.all(nodes.map(chainOf));
    for (const a of audits) expect(a.head.balances.locked).toBe(a.head.balances.received > 0n ? 0n : 900n);
    expect(audits[4].head.balances.received).toBeGreaterThan(0n);
    // Payees read their payers' chains before countersigning (payer-views.ts), and every chain audited.
    const healths = await Promise.all(nodes.map(async (n) => (await n.bus.request(CreditHealth, {})).details));
    expect(healths.reduce((reads, d) => reads + Number(d['payerChainReads']), 0)).toBeGreaterThan(0);
    expect(healths.map((d) => d['payerChainsRefused'])).toEqual(['0', '0', '0', '0', '0']);
    // Payees published their sightings of their payers' chains in the DHT and compared each other's
    // (sighting-watch.ts): honest chains, several payees each, found the same and convicted nobody.
    const sum = (key: string) => healths.reduce((n, d) => n + Number(d[key]), 0);
    expect({ published: sum('sightingsPublished') > 0, consistent: sum('sightingsConsistent') > 0 }).toEqual({ published: true, consistent: true });
    expect(healths.map((d) => [d['sightingForks'], d['payerChainForks']])).toEqual(Array.from({ length: 5 }, () => ['0', '0']));
    const sightings = { published: sum('sightingsPublished'), consistent: sum('sightingsConsistent'), failed: sum('sightingsFailed') };
    process.stderr.write(`swarm receipts: ${JSON.stringify({ paid, unpaid, failed, killed, receipts: report.receipts, sightings })}\n`);
  });
});

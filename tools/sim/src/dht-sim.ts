/**
 * The DHT simulation (issue 13): N nodes of @swarm/dht on one memory network and one virtual
 * clock, the same code a node runs. Measures provider lookups (success = every live provider of
 * the skill found), hops and messages per lookup against ⌈log2 N⌉, with no churn, after 10% and
 * then 30% of the nodes die (cumulative), each before and after one refresh round (one refresh
 * interval of virtual time passes, then every live node runs its periodic refresh, as its timer
 * would, and live owners republish).
 */
import { createMemoryNetwork, DEFAULT_CONCURRENCY, DEFAULT_REFRESH_INTERVAL_MS, randomHexId, startDhtNode } from '@swarm/dht';
import type { DhtNode } from '@swarm/dht';
import type { Random, VirtualTime } from '@swarm/determinism';
import { seededRandom, virtualTime } from '@swarm/determinism';
import { plainRecord, providerOf, validatePlainRecord } from './plain-records';

export interface DhtSimOptions {
  readonly nodes: number;
  readonly seed: number;
  /** Provider lookups per measurement. */
  readonly lookups: number;
  /** Distinct skills; about `providers / skills` providers each. */
  readonly skills: number;
  readonly providers: number;
}

export interface DhtSimRow {
  readonly nodes: number;
  readonly phase: string;
  readonly alive: number;
  readonly successRate: number;
  readonly meanHops: number;
  readonly maxHops: number;
  readonly meanMessages: number;
  readonly log2Ceil: number;
  /** α·(log2 N + 2), the target for messages per lookup. */
  readonly messageBound: number;
}

const START_MS = Date.UTC(2026, 0, 1);
const RECORD_TTL_MS = 24 * 60 * 60 * 1000;
const TIMEOUT_MS = 1_000;
const STEP_MS = 250;
const MAX_STEPS = 10_000;

/** Moves virtual time until the promise settles. */
async function drive<T>(vt: VirtualTime, promise: Promise<T>): Promise<T> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < MAX_STEPS && !settled; i++) await vt.advance(settled ? 0 : STEP_MS);
  if (!settled) throw new Error('the simulation stalled: a promise did not settle within its virtual time bound');
  return promise;
}

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)];
}

export async function runDhtSim(options: DhtSimOptions, onRow: (row: DhtSimRow) => void = () => undefined): Promise<DhtSimRow[]> {
  const random = seededRandom(options.seed);
  const vt = virtualTime(START_MS);
  const net = createMemoryNetwork({ scheduler: vt.scheduler, random, timeoutMs: TIMEOUT_MS, copyMessages: false });
  const nodes: DhtNode[] = [];
  for (let i = 0; i < options.nodes; i++) {
    const seeds = i === 0 ? [] : [pick(nodes, random).endpoint];
    const components = { transport: net.transport(`node-${i}`), clock: vt.clock, scheduler: vt.scheduler, random, validate: validatePlainRecord };
    nodes.push(await drive(vt, startDhtNode(components, { id: randomHexId(random), seeds, maintenance: false })));
  }

  const providersOf = new Map<string, DhtNode[]>();
  for (let i = 0; i < options.providers; i++) {
    const node = nodes[i % nodes.length];
    const skill = `skill-${Math.floor(random() * options.skills)}`;
    if (providersOf.get(skill)?.includes(node)) continue;
    providersOf.set(skill, [...(providersOf.get(skill) ?? []), node]);
    await drive(
      vt,
      node.provide(skill, () => plainRecord(node.id, vt.clock.now(), vt.clock.now() + RECORD_TTL_MS)),
    );
  }
  const skills = [...providersOf.keys()];
  const alive = () => nodes.filter((n) => net.isAlive(n.endpoint));
  const rows: DhtSimRow[] = [];

  async function measure(phase: string): Promise<void> {
    const live = alive();
    let found = 0;
    let hops = 0;
    let maxHops = 0;
    let messages = 0;
    for (let i = 0; i < options.lookups; i++) {
      const from = pick(live, random);
      const skill = pick(skills, random);
      const wanted = (providersOf.get(skill) ?? []).filter((p) => net.isAlive(p.endpoint)).map((p) => p.id);
      const result = await drive(vt, from.findProviders(skill));
      const got = new Set(result.values.map(providerOf));
      if (wanted.every((id) => got.has(id))) found++;
      hops += result.hops;
      maxHops = Math.max(maxHops, result.hops);
      messages += result.messages;
    }
    const row: DhtSimRow = {
      nodes: options.nodes,
      phase,
      alive: live.length,
      successRate: found / options.lookups,
      meanHops: hops / options.lookups,
      maxHops,
      meanMessages: messages / options.lookups,
      log2Ceil: Math.ceil(Math.log2(options.nodes)),
      messageBound: DEFAULT_CONCURRENCY * (Math.log2(options.nodes) + 2),
    };
    rows.push(row);
    onRow(row);
  }

  /** The production refresh: its timer fires one interval on, and every bucket no lookup targeted since is stale. */
  async function refreshRound(): Promise<void> {
    await vt.advance(DEFAULT_REFRESH_INTERVAL_MS);
    for (const node of alive()) {
      await drive(vt, node.refresh());
      await drive(vt, node.republish());
    }
  }

  function kill(share: number): void {
    const target = Math.round(options.nodes * share);
    const live = alive();
    for (let dead = options.nodes - live.length; dead < target; dead++) {
      const victim = live.splice(Math.floor(random() * live.length), 1)[0];
      net.kill(victim.endpoint);
    }
  }

  await measure('no churn');
  kill(0.1);
  await measure('10% dead');
  await refreshRound();
  await measure('10% dead + refresh');
  kill(0.3);
  await measure('30% dead');
  await refreshRound();
  await measure('30% dead + refresh');
  for (const node of nodes) await node.stop();
  return rows;
}

export function formatDhtSimTable(rows: readonly DhtSimRow[]): string {
  const lines = ['| N | phase | alive | success | hops mean (max) | ⌈log2 N⌉ | msgs/lookup | α·(log2 N + 2) |', '|---:|---|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(
      `| ${r.nodes} | ${r.phase} | ${r.alive} | ${(r.successRate * 100).toFixed(1)}% | ${r.meanHops.toFixed(2)} (${r.maxHops}) | ${r.log2Ceil} | ${r.meanMessages.toFixed(1)} | ${r.messageBound.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

import { connectSwarm } from '@swarm/client';
import type { SwarmClient } from '@swarm/client';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, listSkills, priceOf, SKILL_NAMES, skillsNamedIn } from '@swarm/skills';
import type { SkillSpec } from '@swarm/skills';
import type { SubmitTaskResponse } from '@swarm/contracts';
import { ErrorCode, fromTensor, isSwarmError } from '@swarm/contracts';
import type { RunningNode } from '@swarm/node';
import { isAlive, NodeError, readNodeFile, refuseRunningNode, resolveHome, swarmNodeHome } from '@swarm/node';
import { KEY_FILE } from '@swarm/identity';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { launchSwarm } from '../node-launcher';
import { DEMO_NODES } from '../up-limits';
import { credits, ms, printGrid, printJson, printTable } from '../output';

export interface UpOptions {
  dataDir?: string;
  executors: number;
  /** Nodes of one swarm on loopback (default 1; DEMO_NODES with --demo). */
  nodes?: number;
  demo?: boolean;
  exit?: boolean;
  json?: boolean;
}

/** In the demo this skill runs on the last node only, so node 1's task for it crosses the gateways. */
export /** A swarm node's home inside the base (swarmNodeHome). */
const SWARM_NODE_DIR = /^node-\d+$/;
const DEMO_REMOTE_SKILL = 'mlp';
/** How long a demo task waits for node 1 to find a provider on the DHT (records still spreading). */
export const DEMO_DISCOVERY_TIMEOUT_MS = 30_000;
const DEMO_RETRY_MS = 500;
const DEMO_TASK_TIMEOUT_MS = 60_000;
/** Enough of a node id to tell nodes apart in a table; `--json` has them whole. */
const SHORT_ID_CHARS = 16;

export async function upCommand(opts: UpOptions): Promise<void> {
  const base = resolveHome(opts.dataDir);
  const count = opts.nodes ?? (opts.demo ? DEMO_NODES : 1);
  // One node keeps the home itself (the layout every command and older home expects).
  const homes = count === 1 ? [base] : Array.from({ length: count }, (_, i) => swarmNodeHome(base, i + 1));
  const skillsOf = opts.demo && count > 1 ? demoSkills(count) : undefined;
  if (count === 1) await refuseBesideSwarm(base);
  if (count === 1) await noteBesideStoppedSwarm(base);
  // A home in use is refused before the start is announced (a second `npm start` said it was starting).
  for (const home of homes) await refuseRunningNode(home);
  process.stderr.write(
    count === 1
      ? `starting a SwarmHarness node in ${base}\n`
      : `starting a swarm of ${count} SwarmHarness nodes in ${swarmNodeHome(base, 1)} … ${swarmNodeHome(base, count)} (node 1 first, then the others with node 1 as their seed)\n`,
  );
  const launched = await launchSwarm({ homes, executors: opts.executors, ...(skillsOf ? { skillsOf } : {}) });
  if (launched.interrupted) {
    process.exitCode = await launched.stopped;
    return;
  }
  const { nodes } = launched;
  const summaries = nodes.map((node, i) => summaryOf(node, skillsOf?.(i + 1)));
  try {
    const demo = opts.demo ? await runDemo(nodes, opts.json === true) : undefined;
    const withDemo = demo ? { demo } : {};
    if (opts.json) printJson(count === 1 ? { ...summaries[0], ...withDemo } : { nodes: summaries.map((s, i) => ({ node: i + 1, ...s })), ...withDemo });
    else if (count === 1) printNode(nodes[0]);
    else printSwarm(nodes, skillsOf);
  } catch (err) {
    await launched.stop('the demo failed');
    throw err;
  }
  if (opts.exit) {
    process.exitCode = await launched.stop('--exit');
    return;
  }
  process.stderr.write(count === 1 ? singleNodeHints(nodes[0], installedSkills(process.env['SWARM_SKILLS'])) : swarmHints(count, base));
  process.exitCode = await launched.stopped;
}

/**
 * A swarm's nodes keep their homes inside this one (node-1, node-2, …): a single node started here
 * beside a running swarm would take the home itself, and every command would then talk to it
 * rather than to the swarm's node 1.
 */
async function refuseBesideSwarm(base: string): Promise<void> {
  const first = await readNodeFile(swarmNodeHome(base, 1));
  if (first && isAlive(first.pid)) {
    throw new NodeError('SWARM_NODE_RUNNING', `a swarm of nodes runs from ${base} (node 1: pid ${first.pid}); stop it first, or start this node with --data-dir elsewhere`);
  }
}

/**
 * A stopped swarm's homes (node-1, node-2, …) in this one, and no node of its own yet: the node
 * about to start is a new one, beside that swarm, and commands without --node will talk to it. Said
 * before it starts, with how to start the swarm again.
 */
async function noteBesideStoppedSwarm(base: string): Promise<void> {
  const ownNode = await access(join(base, KEY_FILE)).then(
    () => true,
    () => false,
  );
  if (ownNode) return;
  const swarm = (await readdir(base).catch(() => [] as string[])).filter((name) => SWARM_NODE_DIR.test(name)).length;
  if (swarm === 0) return;
  process.stderr.write(
    `note: ${base} holds the homes of a stopped swarm of ${swarm} nodes (node-1 …); this starts a new, separate node in ${base} itself, ` +
      `and commands without --node will talk to it. To start that swarm again instead: swarm up --nodes ${swarm}\n`,
  );
}

/** The skills this node's executors run: SWARM_SKILLS as executor-svc reads it (all by default). */
function installedSkills(list: string | undefined): readonly string[] {
  const named = skillsNamedIn(list ?? '');
  return named.length > 0 ? named : SKILL_NAMES;
}

/** The demo's skills per node: the last node runs DEMO_REMOTE_SKILL alone, the others the rest. */
function demoSkills(count: number): (node: number) => readonly string[] {
  const others = SKILL_NAMES.filter((s) => s !== DEMO_REMOTE_SKILL);
  return (node) => (node === count ? [DEMO_REMOTE_SKILL] : others);
}

function summaryOf(node: RunningNode, skills: readonly string[] | undefined) {
  return {
    natsUrl: node.natsUrl,
    nodeId: node.nodeId,
    gatewayAddress: node.gatewayAddress,
    peerAddress: node.peerAddress,
    httpAddress: node.httpAddress,
    home: node.home,
    logs: node.logDir,
    clientKeyFile: node.clientKeyFile,
    ...(skills ? { skills } : {}),
    services: node.services,
  };
}

function printNode(node: RunningNode): void {
  printTable([
    ['node id', node.nodeId],
    ['NATS URL', node.natsUrl],
    ['gateway', node.gatewayAddress],
    ['peer address', `${node.peerAddress} (what a node joining through this one puts in SWARM_SEEDS)`],
    ['agent HTTP API', `http://${node.httpAddress} (tokens from \`swarm agent add\`; GET /openapi.json)`],
    ['data dir', node.home],
    ['logs', node.logDir],
    ['client key', `${node.clientKeyFile} (submit and read only)`],
    ['services', node.services.map((s) => `${s.name} (pid ${s.pid})`).join('\n')],
  ]);
}

function printSwarm(nodes: readonly RunningNode[], skillsOf: ((node: number) => readonly string[]) | undefined): void {
  printGrid(
    ['node', 'node id', 'NATS URL', 'gateway address', 'agent HTTP API', ...(skillsOf ? ['skills'] : [])],
    nodes.map((n, i) => [String(i + 1), `${n.nodeId.slice(0, SHORT_ID_CHARS)}…`, n.natsUrl, n.gatewayAddress, n.httpAddress, ...(skillsOf ? [skillsOf(i + 1).join(', ')] : [])]),
  );
  process.stdout.write(`peer address of node 1 (SWARM_SEEDS of a node joining this swarm): ${nodes[0]?.peerAddress ?? ''}\n`);
}

/**
 * What to try next, commands that work as printed in a new terminal. The hint exports the node's
 * home (a new terminal may not share this one's SWARM_HOME, or the home came from --data-dir): every
 * command then finds the node and the key its request needs there, the client key or, for the
 * operator's (`ledger`, `trust`, `agent`), the observer key. Exporting the client key instead would
 * have every operator's command refused; the unset drops such variables (they win over SWARM_HOME).
 * Every line pastes into a POSIX shell as printed (notes are comments).
 */
export function singleNodeHints(node: Pick<RunningNode, 'httpAddress' | 'home'>, skills: readonly string[] = SKILL_NAMES): string {
  return (
    `\nnode is running. In another terminal:\n${exportHome(node.home)}  npx swarm submit ${hintedTask(skills)}\n  npx swarm balance\n  npx swarm ledger\n` +
    `  npx swarm agent add my-agent --budget 500   # operator: the node's observer key; a token for the HTTP API on http://${node.httpAddress}\nCtrl-C stops it.\n`
  );
}

/** The hint's line that points a new terminal at `home` (SWARM_NATS_* would win over it). */
function exportHome(home: string): string {
  return `  export SWARM_HOME=${shellWord(home)}; unset SWARM_NATS_URL SWARM_NATS_NKEY_FILE\n`;
}

/**
 * A task the node runs on its own executors: matmul 512 where they run matmul, else the first skill
 * they run at its example size. A new node may pledge only its starter allowance to other nodes
 * (docs/chain.md), less than matmul 512 costs, so a task only a peer could run would be refused.
 */
export function hintedTask(skills: readonly string[]): string {
  if (skills.includes('matmul')) return '--skill matmul --size 512';
  const spec = listSkills().find((s) => skills.includes(s.name));
  return spec ? `--skill ${spec.name} --size ${spec.demo.exampleSize}` : '--skill matmul --size 512';
}

/** A path as one word of a POSIX shell command, to paste as printed. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function swarmHints(count: number, home: string): string {
  return (
    `\nswarm of ${count} nodes is running. In another terminal (commands talk to node 1; --node i for node i):\n${exportHome(home)}` +
    `  npx swarm submit --skill matmul --size 512\n  npx swarm peers --node 2\n  npx swarm balance --node ${count}\n` +
    `  npx swarm ledger --node ${count}    # its signed chain: receipts paid and received\nCtrl-C stops every node.\n`
  );
}

interface DemoRow {
  skill: string;
  size: number;
  /** Which node ran it (1-based; 0: a node this launcher did not start). */
  node: number;
  providerId: string;
  taskId: string;
  cost: bigint;
  verification: string;
  executor: string;
  backend: string;
  totalMs: number;
}

/**
 * One task of each skill from node 1, at the skill's example size. One node runs the skills its
 * executors have; in a swarm every skill of the catalog is asked, and the one node 1 lacks runs on
 * the node that has it (the reply's provider id says which).
 */
async function runDemo(nodes: readonly RunningNode[], quiet: boolean) {
  const first = nodes[0];
  const client: SwarmClient = await connectSwarm(first.natsUrl, { name: 'swarm-demo', nkeyFile: first.clientKeyFile });
  const nodeOf = new Map(nodes.map((n, i) => [n.nodeId, i + 1]));
  const say = (line: string) => (quiet ? undefined : process.stderr.write(`  demo: ${line}\n`));
  try {
    const before = await client.balance();
    const advertised = new Set<string>((await client.skills()).skills.map((s) => s.name));
    const skills = nodes.length === 1 ? listSkills().filter((s) => advertised.has(s.name)) : listSkills();
    const random = seededRandom(1);
    const rows: DemoRow[] = [];
    for (const skill of skills) {
      const size = skill.demo.exampleSize;
      const r = await submitDemoTask(client, skill, random, say);
      rows.push({
        skill: skill.name,
        size,
        node: nodeOf.get(r.providerId) ?? 0,
        providerId: r.providerId,
        taskId: r.taskId,
        cost: r.cost,
        verification: r.verification,
        executor: r.executorId,
        backend: r.backend,
        totalMs: r.timing?.totalMs ?? 0,
      });
    }
    const after = await client.balance();
    if (!quiet) printDemo(rows, before.available, after.available, after.account, nodes.length);
    return { tasks: rows, balanceBefore: before, balanceAfter: after };
  } finally {
    await client.close();
  }
}

/**
 * Submits one demo task; NO_PROVIDER (nothing charged) is asked again until DEMO_DISCOVERY_TIMEOUT_MS:
 * right after start-up, node 1 may not have found the other nodes' records on the DHT yet.
 */
async function submitDemoTask(client: SwarmClient, skill: SkillSpec, random: () => number, say: (line: string) => void): Promise<SubmitTaskResponse> {
  const size = skill.demo.exampleSize;
  const inputs = demoInputs(skill, size, random);
  const budget = priceOf(skill, inputs.map(fromTensor));
  say(`${skill.name} size ${size}, budget ${credits(budget)}…`);
  const deadline = Date.now() + DEMO_DISCOVERY_TIMEOUT_MS;
  let waiting = false;
  for (;;) {
    try {
      return await client.submit({ skill: skill.name, inputs, budget, timeoutMs: DEMO_TASK_TIMEOUT_MS });
    } catch (err) {
      if (!isSwarmError(err, ErrorCode.ERROR_CODE_NO_PROVIDER) || Date.now() > deadline) throw err;
      if (!waiting) say(`no provider of ${skill.name} known to node 1 yet; waiting for the DHT (up to ${DEMO_DISCOVERY_TIMEOUT_MS / 1000} s)…`);
      waiting = true;
      await new Promise((resolve) => setTimeout(resolve, DEMO_RETRY_MS));
    }
  }
}

function printDemo(rows: DemoRow[], before: bigint, after: bigint, account: string, nodeCount: number): void {
  const swarm = nodeCount > 1;
  const ranOn = (r: DemoRow) => (r.node > 0 ? `node ${r.node}` : `${r.providerId.slice(0, SHORT_ID_CHARS)}…`);
  printGrid(
    ['demo task', ...(swarm ? ['ran on'] : []), 'verified by', 'cost', 'executor (backend)', 'time'],
    rows.map((r) => [`${r.skill} ${r.size}`, ...(swarm ? [ranOn(r)] : []), r.verification, `${r.cost}`, `${r.executor} (${r.backend})`, ms(r.totalMs)]),
  );
  const who = `${account.slice(0, SHORT_ID_CHARS)}…`;
  if (!swarm) {
    process.stdout.write(`balance of ${who}: ${before} → ${after} available (the node paid its own executors)\n`);
    return;
  }
  const remote = rows.filter((r) => r.node !== 1);
  const paidOut = remote.reduce((sum, r) => sum + r.cost, 0n);
  const to = remote.map((r) => `${r.skill} on ${ranOn(r)}`).join(', ');
  process.stdout.write(
    `balance of node 1 (${who}): ${before} → ${after} available (its own executors cost it nothing; ${credits(paidOut)} went to other nodes${to ? `: ${to}` : ''})\n`,
  );
}

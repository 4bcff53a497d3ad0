import { mkdir } from 'node:fs/promises';
import { connectSwarm, SwarmClient } from '@swarm/client';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, listSkills, priceOf } from '@swarm/skills';
import { fromTensor } from '@swarm/contracts';
import { claimNodeFile, NodeFile, removeNodeFile, resolveHome, writeNodeFile } from '../node-file';
import { RunningNode, startNode, SupervisionReport } from '../node-launcher';
import { credits, ms, printGrid, printJson, printTable } from '../output';

export interface UpOptions {
  dataDir?: string;
  executors: number;
  demo?: boolean;
  exit?: boolean;
  json?: boolean;
}

export async function upCommand(opts: UpOptions): Promise<void> {
  const home = resolveHome(opts.dataDir);
  // Everything the node writes (ledger, logs, keys) is the owner's alone, whatever the user's
  // umask: services inherit this one.
  process.umask(0o077);
  await mkdir(home, { recursive: true, mode: 0o700 });
  await claimNodeFile(home);
  const say = (line: string) => process.stderr.write(`  ${line}\n`);
  // Services run in their own process groups, so Ctrl-C reaches only this process, which stops
  // them in order. Handlers go in before anything starts: a signal during start-up stops cleanly too.
  let node: RunningNode | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      process.stderr.write('stopping the node…\n');
      await node?.stop();
      await writing; // a node.json update still queued must not recreate the file after removal
      await removeNodeFile(home);
      process.stderr.write('node stopped\n');
    })();
    return stopping;
  };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    if (node) void shutdown().then(() => process.exit(0), () => process.exit(1));
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);

  const startedAt = new Date().toISOString();
  let supervision: SupervisionReport | undefined;
  const nodeFileOf = (n: RunningNode, natsPid: number): NodeFile => ({ natsUrl: n.natsUrl, nodeId: n.nodeId, pid: process.pid, natsPid, startedAt, ...(supervision ? { supervision } : {}) });
  // One write at a time, in order: each carries the whole current state.
  let writing: Promise<void> = Promise.resolve();
  const updateNodeFile = () => {
    if (!node || stopping) return;
    const n = node;
    writing = writing.then(() => writeNodeFile(home, nodeFileOf(n, n.natsPid()))).catch(() => undefined);
  };
  process.stderr.write(`starting a SwarmHarness node in ${home}\n`);
  try {
    node = await startNode({
      home,
      executors: opts.executors,
      onEvent: say,
      onBusRestart: updateNodeFile,
      onSupervision: (report) => {
        supervision = report;
        updateNodeFile();
      },
    });
  } catch (err) {
    await removeNodeFile(home);
    throw err;
  }
  if (interrupted) {
    await shutdown();
    process.exitCode = 130;
    return;
  }
  await writeNodeFile(home, nodeFileOf(node, node.natsPid()));

  const summary = { natsUrl: node.natsUrl, nodeId: node.nodeId, home, logs: node.logDir, clientKeyFile: node.clientKeyFile, services: node.services };
  try {
    const demo = opts.demo ? await runDemo(node.natsUrl, node.clientKeyFile, opts.json === true) : undefined;
    if (opts.json) printJson({ ...summary, ...(demo ? { demo } : {}) });
    else {
      printTable([
        ['node id', node.nodeId],
        ['NATS URL', node.natsUrl],
        ['data dir', home],
        ['logs', node.logDir],
        ['client key', `${node.clientKeyFile} (submit and read only)`],
        ['services', node.services.map((s) => `${s.name} (pid ${s.pid})`).join('\n')],
      ]);
    }
  } catch (err) {
    await shutdown();
    throw err;
  }
  if (opts.exit) {
    await shutdown();
    return;
  }
  process.stderr.write(
    `\nnode is running. In another terminal:\n  export SWARM_NATS_URL=${node.natsUrl} SWARM_NATS_NKEY_FILE=${node.clientKeyFile}\n  npx swarm submit --skill matmul --size 512\n  npx swarm balance\nCtrl-C stops it.\n`,
  );
  await new Promise<never>(() => undefined);
}

async function runDemo(natsUrl: string, clientKeyFile: string, quiet: boolean) {
  const client: SwarmClient = await connectSwarm(natsUrl, { name: 'swarm-demo', nkeyFile: clientKeyFile });
  try {
    const before = await client.balance();
    // Each skill the node's executors run (SWARM_SKILLS), at its own example size, in catalog order.
    const advertised = new Set<string>((await client.skills()).skills.map((s) => s.name));
    const random = seededRandom(1);
    const rows = [];
    for (const skill of listSkills().filter((s) => advertised.has(s.name))) {
      const size = skill.demo.exampleSize;
      const inputs = demoInputs(skill, size, random);
      const budget = priceOf(skill, inputs.map(fromTensor));
      if (!quiet) process.stderr.write(`  demo: ${skill.name} size ${size}, budget ${credits(budget)}…\n`);
      const r = await client.submit({ skill: skill.name, inputs, budget, timeoutMs: 60_000 });
      rows.push({ skill: skill.name, size, taskId: r.taskId, cost: r.cost, verification: r.verification, executor: r.executorId, backend: r.backend, totalMs: r.timing?.totalMs ?? 0 });
    }
    const after = await client.balance();
    if (!quiet) {
      printGrid(
        ['demo task', 'verified by', 'cost', 'executor (backend)', 'time'],
        rows.map((r) => [`${r.skill} ${r.size}`, r.verification, `${r.cost}`, `${r.executor} (${r.backend})`, ms(r.totalMs)]),
      );
      process.stdout.write(`balance of ${after.account.slice(0, 16)}…: ${before.available} → ${after.available} available (the node paid its own executors)\n`);
    }
    return { tasks: rows, balanceBefore: before, balanceAfter: after };
  } finally {
    await client.close();
  }
}

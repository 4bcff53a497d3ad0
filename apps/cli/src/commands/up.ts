import { connectSwarm } from '@swarm/client';
import type { SwarmClient } from '@swarm/client';
import { seededRandom } from '@swarm/determinism';
import { demoInputs, listSkills, priceOf } from '@swarm/skills';
import { fromTensor } from '@swarm/contracts';
import { resolveHome } from '@swarm/node';
import { launchNode } from '../node-launcher';
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
  process.stderr.write(`starting a SwarmHarness node in ${home}\n`);
  const launched = await launchNode({ home, executors: opts.executors });
  if (launched.interrupted) {
    process.exitCode = await launched.stopped;
    return;
  }
  const { node } = launched;

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
    await launched.stop('the demo failed');
    throw err;
  }
  if (opts.exit) {
    process.exitCode = await launched.stop('--exit');
    return;
  }
  process.stderr.write(
    `\nnode is running. In another terminal:\n  export SWARM_NATS_URL=${node.natsUrl} SWARM_NATS_NKEY_FILE=${node.clientKeyFile}\n  npx swarm submit --skill matmul --size 512\n  npx swarm balance\nCtrl-C stops it.\n`,
  );
  process.exitCode = await launched.stopped;
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
      rows.push({
        skill: skill.name,
        size,
        taskId: r.taskId,
        cost: r.cost,
        verification: r.verification,
        executor: r.executorId,
        backend: r.backend,
        totalMs: r.timing?.totalMs ?? 0,
      });
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

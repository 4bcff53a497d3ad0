import { ListSkillsResponse } from '@swarm/contracts';
import { agentClientFor } from '../agent-mode';
import { skillsReply } from '../agent-replies';
import type { NodeTarget } from '../node-file';
import { connectToNode } from '../node-file';
import { printGrid, printJson, protoJson, wrapText } from '../output';

/** `swarm skills`: from the node's bus, or as an agent from its HTTP API (agent-mode.ts); the same table and JSON. */
export async function skillsCommand(opts: NodeTarget & { json?: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const r = await listSkills(opts, env);
  if (opts.json) return printJson(protoJson(ListSkillsResponse, r));
  printGrid(
    ['skill', 'inputs → outputs', 'verified by', 'price', 'description'],
    r.skills.map((s) => [s.name, `${s.inputs} → ${s.outputs}`, s.verification, `${s.pricePerMwork}/Mwork`, s.description]),
    // About 110 columns in all: wrapped cells instead of one very wide line per skill.
    [9, 30, 24, 13, 34],
  );
  // The bounds are sentences, too wide for a table column: one block per skill below it.
  for (const s of r.skills) {
    process.stdout.write(`${wrapText(`${s.name} (${s.verification}): ${s.verificationBound}`)}\n  ${wrapText(`cost: ${s.verificationCost}`, 118, '    ')}\n`);
  }
  process.stdout.write(`gpu.js backend: ${r.backend}\n`);
}

async function listSkills(opts: NodeTarget, env: NodeJS.ProcessEnv): Promise<ListSkillsResponse> {
  const agent = await agentClientFor(opts, env);
  if (agent) return skillsReply(await agent.skills());
  const client = await connectToNode(opts, 'client', env);
  try {
    return await client.skills();
  } finally {
    await client.close();
  }
}

import { ListSkillsResponse } from '@swarm/contracts';
import type { NodeTarget } from '../node-file';
import { connectToNode } from '../node-file';
import { printGrid, printJson, protoJson } from '../output';

export async function skillsCommand(opts: NodeTarget & { json?: boolean }): Promise<void> {
  const client = await connectToNode(opts);
  try {
    const r = await client.skills();
    if (opts.json) return printJson(protoJson(ListSkillsResponse, r));
    printGrid(
      ['skill', 'inputs → outputs', 'verified by', 'price', 'description'],
      r.skills.map((s) => [s.name, `${s.inputs} → ${s.outputs}`, s.verification, `${s.pricePerMwork}/Mwork`, s.description]),
      // About 110 columns in all: wrapped cells instead of one very wide line per skill.
      [9, 30, 24, 13, 34],
    );
    // The bounds are sentences, too wide for a table column: one block per skill below it.
    for (const s of r.skills) {
      process.stdout.write(`${s.name} (${s.verification}): ${s.verificationBound}\n  cost: ${s.verificationCost}\n`);
    }
    process.stdout.write(`gpu.js backend: ${r.backend}\n`);
  } finally {
    await client.close();
  }
}

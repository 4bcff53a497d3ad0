import { connectSwarm } from '@swarm/client';
import { resolveNatsUrl } from '../node-file';
import { printGrid, printJson } from '../output';

export async function skillsCommand(opts: { nats?: string; dataDir?: string; json?: boolean }): Promise<void> {
  const client = await connectSwarm(await resolveNatsUrl(opts));
  try {
    const r = await client.skills();
    if (opts.json) return printJson(r);
    printGrid(
      ['skill', 'inputs → outputs', 'verified by', 'price', 'description'],
      r.skills.map((s) => [s.name, `${s.inputs} → ${s.outputs}`, s.verification, `${s.pricePerMwork}/Mwork`, s.description]),
    );
    process.stdout.write(`gpu.js backend: ${r.backend}\n`);
  } finally {
    await client.close();
  }
}

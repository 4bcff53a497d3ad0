/**
 * Runs the example agent (example-agent.ts) against a running node as the agent whose token is in
 * SWARM_AGENT_TOKEN, on random square matrices:
 *
 *   SWARM_AGENT_TOKEN=swt_… node bin/run-ts.js tools/e2e/src/example-agent-main.ts --size 1600 --budget 9000 [--parallel 4]
 *
 * The node's API comes from SWARM_API_URL, or the running node's node.json (SWARM_HOME).
 */
import { createAgentClient, resolveApiUrl } from '@swarm/client';
import { DEFAULT_PARALLEL, hireMatmul } from './example-agent';

function arg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a whole number from 1`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const size = arg(argv, 'size', 1600);
  const client = createAgentClient({ baseUrl: await resolveApiUrl({}), token: process.env['SWARM_AGENT_TOKEN'] ?? '' });
  const random = () => Math.random() * 2 - 1;
  const job = { n: size, k: size, m: size, a: Float32Array.from({ length: size * size }, random), b: Float32Array.from({ length: size * size }, random) };
  const started = Date.now();
  const report = await hireMatmul(client, job, {
    budget: BigInt(arg(argv, 'budget', 10_000)),
    parallel: arg(argv, 'parallel', DEFAULT_PARALLEL),
    log: (line) => console.log(line),
  });
  console.log(
    `${size}×${size} product assembled from ${report.tiles.length} verified subtasks in ${((Date.now() - started) / 1000).toFixed(1)} s; paid ${report.paid} of ${report.quoted} credits quoted:`,
  );
  for (const p of report.payments) console.log(`  ${p.providerId}: ${p.tasks} subtasks, ${p.cost} credits`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { codeName?: string; message?: string };
  console.error(`error ${e.codeName ?? 'SWARM_INTERNAL'}: ${e.message ?? String(err)}`);
  process.exitCode = 1;
});

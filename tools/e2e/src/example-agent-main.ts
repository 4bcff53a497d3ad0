/**
 * Runs the example agent (example-agent.ts) against a running node as the agent whose token is in
 * SWARM_AGENT_TOKEN, on random square matrices:
 *
 *   SWARM_AGENT_TOKEN=swt_… node bin/run-ts.js tools/e2e/src/example-agent-main.ts --size 1600 --budget 9000 [--parallel 4] [--node N]
 *
 * The node's API comes from SWARM_API_URL, or the running node's node.json (SWARM_HOME; `--node N`:
 * node N of `swarm up --nodes`, the one whose `swarm agent add` made the token).
 */
import { createAgentClient, resolveApiUrl } from '@swarm/client';
import { DEFAULT_PARALLEL, hireMatmul } from './example-agent';

function arg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a whole number from 1`);
  return value;
}

const USAGE = `usage: SWARM_AGENT_TOKEN=swt_… node bin/run-ts.js tools/e2e/src/example-agent-main.ts [--size N] [--budget CREDITS] [--parallel P] [--node N]
  Hires square matmuls of size N (default 1600) as tiles from the node's agent API, within --budget (default 10000).
  The API: SWARM_API_URL, else the running node in SWARM_HOME (--node N: node N of \`swarm up --nodes\`, whose agent the token is).`;

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const size = arg(argv, 'size', 1600);
  const node = argv.includes('--node') ? { node: arg(argv, 'node', 1) } : {};
  const client = createAgentClient({ baseUrl: await resolveApiUrl(node), token: process.env['SWARM_AGENT_TOKEN'] ?? '' });
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
  // A SwarmError names its code in codeName; the client's own errors (no node found) in code.
  const e = err as { codeName?: string; code?: unknown; message?: string };
  const code = e.codeName ?? (typeof e.code === 'string' && e.code.startsWith('SWARM_') ? e.code : undefined);
  console.error(`error ${code ?? 'SWARM_INTERNAL'}: ${e.message ?? String(err)}`);
  process.exitCode = 1;
});

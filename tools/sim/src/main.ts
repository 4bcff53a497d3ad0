/**
 * `node bin/run-ts.js tools/sim/src/main.ts [--nodes 100,1000,5000] [--seed 1] [--lookups 500]`:
 * prints the DHT simulation table (markdown) on stdout, progress on stderr.
 */
import { formatDhtSimTable, runDhtSim } from './dht-sim';
import type { DhtSimRow } from './dht-sim';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

function wholeNumber(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name}: expected a whole number >= 1, got '${text}'`);
  return n;
}

async function main(): Promise<void> {
  const sizes = flag('nodes', '100,1000,5000')
    .split(',')
    .map((s) => wholeNumber(s, 'nodes'));
  const seed = wholeNumber(flag('seed', '1'), 'seed');
  const lookups = wholeNumber(flag('lookups', '500'), 'lookups');
  const rows: DhtSimRow[] = [];
  for (const nodes of sizes) {
    const started = performance.now();
    // CPU time beside wall time: on a shared machine the wall time depends on the neighbours.
    const cpuAtStart = process.cpuUsage();
    process.stderr.write(`dht-sim: N = ${nodes}...\n`);
    const skills = Math.max(10, Math.round(nodes / 20));
    rows.push(
      ...(await runDhtSim({ nodes, seed, lookups, skills, providers: skills * 3 }, (r) =>
        process.stderr.write(`  ${r.phase}: ${(r.successRate * 100).toFixed(1)}% found, ${r.meanMessages.toFixed(1)} msgs\n`),
      )),
    );
    const cpu = process.cpuUsage(cpuAtStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    process.stderr.write(`dht-sim: N = ${nodes} took ${((performance.now() - started) / 1000).toFixed(1)} s (CPU ${cpuSeconds.toFixed(1)} s)\n`);
  }
  process.stdout.write(`${formatDhtSimTable(rows)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`dht-sim failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});

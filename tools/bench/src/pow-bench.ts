/**
 * Cost of the NodeRecord proof of work (libs/records) per difficulty: hashes and wall time to find a
 * nonce (once per node, at its first start) and the time to check one (on every store and read).
 * The search is geometric, so the mean of several node ids is shown with its spread.
 * Run: `node bin/run-ts.js tools/bench/src/pow-bench.ts [--max-difficulty 20]`; bounded by the ids
 * and difficulties listed.
 */
import { createHash } from 'node:crypto';
import { systemStopwatch } from '@swarm/determinism';
import { findPowNonce, hasProofOfWork } from '@swarm/records';
import Table from 'cli-table3';

const IDS_PER_DIFFICULTY = 8;
const CHECKS = 20_000;
const flag = process.argv.indexOf('--max-difficulty');
const maxDifficulty = flag > 0 ? Number(process.argv[flag + 1]) : 20;

const table = new Table({
  head: ['difficulty (bits)', 'expected hashes', 'mean hashes', 'mean find ms', 'max find ms', 'check µs'],
  ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
});
for (let difficulty = 8; difficulty <= maxDifficulty; difficulty += 4) {
  const finds: { hashes: number; ms: number }[] = [];
  let lastId = '';
  let lastNonce = 0n;
  for (let i = 0; i < IDS_PER_DIFFICULTY; i++) {
    lastId = createHash('sha256').update(`bench-node-${difficulty}-${i}`).digest('hex');
    const start = systemStopwatch.now();
    lastNonce = findPowNonce(lastId, difficulty);
    finds.push({ hashes: Number(lastNonce) + 1, ms: systemStopwatch.now() - start });
  }
  const checkStart = systemStopwatch.now();
  for (let i = 0; i < CHECKS; i++) hasProofOfWork(lastId, lastNonce, difficulty);
  const checkUs = ((systemStopwatch.now() - checkStart) * 1000) / CHECKS;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  table.push([
    difficulty,
    2 ** difficulty,
    Math.round(mean(finds.map((f) => f.hashes))),
    mean(finds.map((f) => f.ms)).toFixed(1),
    Math.max(...finds.map((f) => f.ms)).toFixed(1),
    checkUs.toFixed(2),
  ]);
}
console.log(`NodeRecord proof of work: sha256("swarm-pow-v1" ‖ id ‖ nonce), ${IDS_PER_DIFFICULTY} node ids per difficulty`);
console.log(table.toString());

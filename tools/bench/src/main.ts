/**
 * `npm run bench`: prints two tables.
 *   1. The node pipeline for a tiny vecadd (five processes, as `swarm up` runs them) next to a raw
 *      NATS request/reply on the same nats-server, the physical floor, in the same run.
 *   2. matmul 256/512 GFLOP/s of the gpu.js kernel vs a plain-JS loop, in the same run.
 * Bounded: fixed request counts; `--quick` runs a smaller set.
 */
import { availableParallelism } from 'node:os';
import Table from 'cli-table3';
import { benchKernels } from './kernel-bench';
import { benchPipeline } from './pipeline-bench';

const quick = process.argv.includes('--quick');
const f = (x: number, d = 2) => x.toFixed(d);

/** Plain tables when piped (CI logs, files); colours only on a terminal. */
const table = (head: string[]) => new Table({ head, ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }) });

async function main(): Promise<void> {
  const base = { sequential: quick ? 100 : 500, concurrent: quick ? 300 : 2000, concurrency: 16, vecaddSize: 16, executors: 1 };
  process.stderr.write('bench: starting a node (swarm up) for the pipeline run…\n');
  const p = await benchPipeline({ ...base, syncWrites: true });
  process.stderr.write('bench: again with ledger fsync off…\n');
  const q = await benchPipeline({ ...base, syncWrites: false });
  const t1 = table(['path', 'in flight', 'requests', 'ops/s', 'p50 ms', 'p99 ms']);
  const row = (name: string, inflight: number, s: { count: number; opsPerSec: number; p50Ms: number; p99Ms: number }) =>
    t1.push([name, String(inflight), String(s.count), f(s.opsPerSec, 0), f(s.p50Ms, 3), f(s.p99Ms, 3)]);
  row('raw NATS request/reply (floor)', 1, p.rawSeq);
  row('raw NATS request/reply (floor)', 16, p.rawPar);
  row('submit vecadd n=16, whole pipeline', 1, p.seq);
  row('submit vecadd n=16, whole pipeline', 16, p.par);
  row('same, ledger fsync off', 1, q.seq);
  row('same, ledger fsync off', 16, q.par);
  process.stdout.write(`\nNode pipeline vs raw NATS (loopback, ${availableParallelism()} cores)\n${t1.toString()}\n`);

  process.stderr.write('bench: matmul kernels…\n');
  const k = await benchKernels([256, 512], quick ? 2 : 3, Math.min(2, availableParallelism()));
  const t2 = table(['implementation', 'n', 'best ms', 'GFLOP/s']);
  for (const r of k.rows) t2.push([r.impl, String(r.n), f(r.bestMs, 1), f(r.gflops, 2)]);
  process.stdout.write(`\nmatmul f32 (gpu.js backend: ${k.backend})\n${t2.toString()}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);

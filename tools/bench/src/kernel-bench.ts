/**
 * matmul GFLOP/s: the gpu.js kernel through the executor's worker pool (the path tasks take) vs the
 * plain-JS reference loop, measured in the same run on the same inputs; beside the N-task row, the
 * plain loop on N threads at once (spin-reference.ts), so a busy core shows.
 */
import type { DenseTensor } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import { createKernelPool } from '@swarm/kernels';
import { demoDenseInputs, getSkill } from '@swarm/skills';
import { silentLogger } from '@swarm/telemetry';
import { spinReference } from './spin-reference';
import { best } from './stats';

export interface KernelRow {
  impl: string;
  n: number;
  bestMs: number;
  gflops: number;
}

const flops = (n: number) => 2 * n * n * n;

export async function benchKernels(sizes: number[], reps: number, threads: number): Promise<{ rows: KernelRow[]; backend: string }> {
  const rows: KernelRow[] = [];
  const pool = await createKernelPool({ threads, maxQueue: 16, backend: 'auto', log: silentLogger() });
  try {
    for (const n of sizes) {
      const inputs: DenseTensor[] = demoDenseInputs('matmul', n, seededRandom(n));
      const matmul = getSkill('matmul');
      const refMs = await best(reps, () => matmul.reference(inputs));
      rows.push({ impl: 'plain JS i-k-j loop (1 thread)', n, bestMs: refMs, gflops: flops(n) / refMs / 1e6 });

      const runOne = () => pool.run('matmul', inputs, { timeoutMs: 120_000 });
      await Promise.all(Array.from({ length: threads }, runOne)); // compile the kernel in every worker
      const oneMs = await best(reps, runOne);
      rows.push({ impl: `gpu.js ${pool.backend}, 1 task`, n, bestMs: oneMs, gflops: flops(n) / oneMs / 1e6 });
      if (threads > 1) {
        const allMs = await best(reps, () => Promise.all(Array.from({ length: threads }, runOne)));
        rows.push({ impl: `gpu.js ${pool.backend}, ${threads} tasks on ${threads} threads`, n, bestMs: allMs, gflops: (threads * flops(n)) / allMs / 1e6 });
        // Beside it, the plain loop alone and on as many threads at once: with a core busy with other
        // work the second takes longer than the first, and the kernel row above suffers alike.
        const spinOneMs = await spinReference(n, 1, reps);
        rows.push({ impl: 'spin reference: plain JS loop on 1 worker thread', n, bestMs: spinOneMs, gflops: flops(n) / spinOneMs / 1e6 });
        const spinMs = await spinReference(n, threads, reps);
        rows.push({ impl: `spin reference: the same on ${threads} worker threads at once`, n, bestMs: spinMs, gflops: (threads * flops(n)) / spinMs / 1e6 });
      }
    }
    return { rows, backend: pool.backend };
  } finally {
    await pool.stop();
  }
}

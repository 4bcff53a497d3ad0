/**
 * A CPU reference beside the kernels' "N tasks on N threads" row: the same plain-JS i-k-j loop run
 * on N worker threads at once. On N idle cores it takes about as long as one loop alone; a core
 * that other work holds shows as a slower spin, so a slow N-task kernel row can be told apart from
 * a busy machine. Each worker computes its own product of two n×n matrices of a fixed pattern.
 */
import { Worker } from 'node:worker_threads';

/** The worker: waits for n, runs the loop once, answers its ms. Plain JavaScript, nothing imported. */
const SPIN_WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (n) => {
  const a = new Float32Array(n * n);
  const b = new Float32Array(n * n);
  const c = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) { a[i] = ((i * 7) % 13) / 13 - 0.5; b[i] = ((i * 5) % 11) / 11 - 0.5; }
  const t0 = performance.now();
  for (let i = 0; i < n; i++) for (let p = 0; p < n; p++) { const x = a[i * n + p]; for (let j = 0; j < n; j++) c[i * n + j] += x * b[p * n + j]; }
  parentPort.postMessage(performance.now() - t0);
});
`;

/** The best of `reps` rounds of `threads` loops at once: the slowest loop of each round, in ms. */
export async function spinReference(n: number, threads: number, reps: number): Promise<number> {
  const workers = Array.from({ length: threads }, () => new Worker(SPIN_WORKER, { eval: true }));
  try {
    const round = () =>
      Promise.all(
        workers.map(
          (w) =>
            new Promise<number>((resolve, reject) => {
              w.once('message', resolve);
              w.once('error', reject);
              w.postMessage(n);
            }),
        ),
      );
    await round(); // warm-up: JIT
    let best = Infinity;
    for (let r = 0; r < reps; r++) best = Math.min(best, Math.max(...(await round())));
    return best;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

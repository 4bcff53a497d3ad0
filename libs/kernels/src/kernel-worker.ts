/**
 * Body of a pool worker thread: compiles each (skill, shape) once, keeps the most recent few
 * compiled (kernel-cache.ts), runs tasks and hands the outputs back by transfer. Loaded through
 * worker.js.
 */
import type { GPU } from 'gpu.js';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import type { KernelBackend } from './backend';
import { createGpu } from './create-gpu';
import { createKernelCache } from './kernel-cache';
import type { KernelTask } from './kernel-task';
import { unpackInputs } from './kernel-task';

export interface KernelWorkerData {
  readonly backend: KernelBackend;
}

let gpuReady: Promise<GPU> | undefined;
const kernels = createKernelCache();

export async function runKernelTask(task: KernelTask): Promise<unknown> {
  const started = performance.now();
  gpuReady ??= createGpu((workerData as KernelWorkerData).backend);
  // The worker's time on the task: its first one loads gpu.js too.
  const result = { ...(await kernels.run(await gpuReady, task, unpackInputs(task))), executeMs: performance.now() - started };
  const buffers = [...new Set(result.outputs.map((o) => o.data.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  return move({
    get [transferableSymbol]() {
      return buffers;
    },
    get [valueSymbol]() {
      return result;
    },
  });
}

/**
 * Body of a pool worker thread: compiles each (skill, shape) once, keeps the most recent few
 * compiled, runs tasks and hands the outputs back by transfer. Loaded through worker.js.
 */
import { getSkill } from '@swarm/skills';
import type { GPU } from 'gpu.js';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import type { KernelBackend } from './backend';
import { createGpu } from './create-gpu';
import type { KernelTask, KernelTaskResult } from './kernel-task';
import { shapeKey, unpackInputs } from './kernel-task';
import type { CompiledSkill } from './skill-kernels';
import { compileSkill } from './skill-kernels';

/**
 * Compiled kernel sets kept per worker. Each holds its own wasm memory or device buffers sized for
 * its shape (up to tens of MB for the largest accepted tasks), so the cache stays small.
 */
export const KERNEL_CACHE_SIZE = 8;

export interface KernelWorkerData {
  readonly backend: KernelBackend;
}

let gpuReady: Promise<GPU> | undefined;
const cache = new Map<string, CompiledSkill>();

export async function runKernelTask(task: KernelTask): Promise<unknown> {
  const started = performance.now();
  gpuReady ??= createGpu((workerData as KernelWorkerData).backend);
  const compiled = lookup(await gpuReady, task);
  let outputs;
  try {
    outputs = await compiled.run(unpackInputs(task));
  } catch (err) {
    // A kernel that failed to build or run is not kept: the next task of this shape starts afresh.
    cache.delete(shapeKey(task));
    compiled.destroy();
    throw err;
  }
  // gpu.js's cpu backend can hand the same output arrays back on the next run of a kernel (seen with
  // mlp at 1×1), and a transferred buffer is detached for good: that run then failed. Its outputs are
  // copied first; the other backends return fresh buffers, which go back without a copy.
  if (compiled.backend === 'cpu') outputs = outputs.map((o) => ({ ...o, data: o.data.slice() }));
  const result: KernelTaskResult = { outputs, backend: compiled.backend, executeMs: performance.now() - started };
  const buffers = [...new Set(outputs.map((o) => o.data.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  return move({
    get [transferableSymbol]() {
      return buffers;
    },
    get [valueSymbol]() {
      return result;
    },
  });
}

function lookup(gpu: GPU, task: KernelTask): CompiledSkill {
  const key = shapeKey(task);
  const hit = cache.get(key);
  if (hit) {
    // Map order is insertion order: re-inserting keeps the least recently used first.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const compiled = compileSkill(gpu, getSkill(task.skill), task.shapes);
  cache.set(key, compiled);
  if (cache.size > KERNEL_CACHE_SIZE) {
    const [oldestKey, oldest] = cache.entries().next().value as [string, CompiledSkill];
    cache.delete(oldestKey);
    oldest.destroy();
  }
  return compiled;
}

/**
 * Compiled kernel sets by skill and input shape, and a run on them: each pool worker has one, and so
 * has the pool's inline lane (inline-lane.ts) on the executor's own thread. Each set holds its own
 * wasm memory or device buffers sized for its shape (up to tens of MB for the largest accepted
 * tasks), so only the most recently used few are kept.
 */
import type { GPU } from 'gpu.js';
import { getSkill } from '@swarm/skills';
import type { KernelTaskResult } from './kernel-task';
import { shapeKey } from './kernel-task';
import type { CompiledSkill } from './skill-kernels';
import { compileSkill } from './skill-kernels';

export const KERNEL_CACHE_SIZE = 8;

/** What a run needs to know of a task besides its inputs. */
export interface KernelCall {
  readonly skill: string;
  readonly shapes: ReadonlyArray<readonly number[]>;
}

export interface KernelCache {
  /**
   * When `call`'s kernels are compiled already: keeps them from eviction until `unpin` (so a run
   * queued behind others does not compile after all) and answers true; else false.
   */
  pin(call: KernelCall): boolean;
  unpin(call: KernelCall): void;
  /** Kernel sets compiled so far. */
  compiles(): number;
  /** Runs `call` on `inputs`, compiling its kernels first when they are not kept. */
  run(gpu: GPU, call: KernelCall, inputs: readonly Float32Array[]): Promise<KernelTaskResult>;
}

export function createKernelCache(size = KERNEL_CACHE_SIZE): KernelCache {
  const kept = new Map<string, CompiledSkill>();
  /** Pins per key; a pinned set is not evicted (the cache may then hold more than `size` a while). */
  const pins = new Map<string, number>();
  let compiles = 0;

  function lookup(gpu: GPU, call: KernelCall, key: string): CompiledSkill {
    const hit = kept.get(key);
    if (hit) {
      // Map order is insertion order: re-inserting keeps the least recently used first.
      kept.delete(key);
      kept.set(key, hit);
      return hit;
    }
    const compiled = compileSkill(gpu, getSkill(call.skill), call.shapes);
    compiles += 1;
    kept.set(key, compiled);
    for (const [oldKey, old] of kept) {
      if (kept.size <= size) break;
      if (pins.has(oldKey) || oldKey === key) continue;
      kept.delete(oldKey);
      old.destroy();
    }
    return compiled;
  }

  return {
    pin(call) {
      const key = shapeKey(call);
      if (!kept.has(key)) return false;
      pins.set(key, (pins.get(key) ?? 0) + 1);
      return true;
    },
    compiles: () => compiles,
    unpin(call) {
      const key = shapeKey(call);
      const left = (pins.get(key) ?? 0) - 1;
      if (left > 0) pins.set(key, left);
      else pins.delete(key);
    },
    async run(gpu, call, inputs) {
      const started = performance.now();
      const key = shapeKey(call);
      const compiled = lookup(gpu, call, key);
      let outputs;
      try {
        outputs = await compiled.run(inputs);
      } catch (err) {
        // A kernel that failed to build or run is not kept: the next task of this shape starts afresh.
        if (kept.get(key) === compiled) kept.delete(key);
        compiled.destroy();
        throw err;
      }
      // gpu.js's cpu backend can hand the same output arrays back on the next run of a kernel (seen
      // with mlp at 1×1): a transferred buffer is then detached for good, and on the inline lane a
      // later run would overwrite an answer not yet sent. Its outputs are copied first; the other
      // backends return fresh buffers, kept without a copy.
      if (compiled.backend === 'cpu') outputs = outputs.map((o) => ({ ...o, data: o.data.slice() }));
      return { outputs, backend: compiled.backend, executeMs: performance.now() - started };
    },
  };
}

/**
 * Tiny tasks on the executor's own thread. Handing a task to a pool worker and taking its answer
 * back costs two thread wake-ups: about 0.2 ms of a tiny vecadd's 2.5 ms on a 2-core machine, and as
 * much CPU (issue 12), while its kernel runs in microseconds. A task of at most `maxWork` work units
 * (the skill's `work`: 16,384 by default, tens of microseconds on webasm) runs here instead when its
 * kernels are compiled here already or a compile may be spent on it now. Compiling a new shape and
 * its first run take 1–12 ms of this thread, so one is spent at most every `compileEveryMs`: a
 * stream of ever-new shapes goes to the pool, as every task did before, and cannot hold up this
 * thread's other requests. A run here is not abortable; its work bound makes that moot.
 * A WebGPU pool has no lane: its device lives in the workers. gpu.js is loaded on this thread at the
 * first compile here (about 50 ms, once), not at start: an executor given no tiny task never loads it.
 */
import type { GPU } from 'gpu.js';
import type { DenseTensor } from '@swarm/contracts';
import { getSkill } from '@swarm/skills';
import type { KernelBackend } from './backend';
import { createKernelCache } from './kernel-cache';
import type { KernelTaskResult } from './kernel-task';

/** Work units (a skill's `work`: floating-point operations) of the largest task executor-svc runs inline by default. */
export const INLINE_MAX_WORK = 16_384;
/** Least time between two compiles on the executor's thread. */
export const INLINE_COMPILE_EVERY_MS = 250;

export interface InlineLaneOptions {
  /** The pool's backend, after its probe. */
  readonly backend: KernelBackend;
  readonly maxWork: number;
  readonly compileEveryMs?: number;
  /** Monotonic ms (performance.now by default). */
  readonly now?: () => number;
}

export interface InlineLane {
  /**
   * The task's run here, or undefined when it belongs in the pool. A run whose `signal` has aborted
   * by its turn is not begun (it rejects with the signal's reason); the runs ahead of it are tiny.
   */
  tryRun(skill: string, inputs: readonly DenseTensor[], signal?: AbortSignal): Promise<KernelTaskResult> | undefined;
  /** Tasks taken so far (a few may have been cancelled before their turn), and kernel sets compiled for them. */
  stats(): { readonly runs: number; readonly compiles: number };
}

/** The lane for a pool on `backend`, or undefined where there is none (WebGPU, or maxWork 0). */
export function createInlineLane(opts: InlineLaneOptions): InlineLane | undefined {
  if (opts.backend === 'webgpu' || !(opts.maxWork > 0)) return undefined;
  const { backend, maxWork } = opts;
  const compileEveryMs = opts.compileEveryMs ?? INLINE_COMPILE_EVERY_MS;
  const now = opts.now ?? (() => performance.now());
  const kernels = createKernelCache();
  let gpu: Promise<GPU> | undefined;
  let lastCompileAt = -Infinity;
  let previous: Promise<unknown> = Promise.resolve();
  let runs = 0;
  return {
    tryRun(skill, inputs, signal) {
      if (getSkill(skill).work(inputs) > maxWork) return undefined;
      const call = { skill, shapes: inputs.map((t) => t.shape) };
      // A compiled set stays kept until this run is done: runs queue here (one at a time) and a
      // compile among them must not evict it, or this run would compile past the limit (a helper
      // had 9 compiles run back to back where 1 was allowed).
      const pinned = kernels.pin(call);
      if (!pinned) {
        const at = now();
        if (at - lastCompileAt < compileEveryMs) return undefined;
        lastCompileAt = at;
      }
      // A failed start is not kept: the next compile tries again.
      gpu ??= import('./create-gpu')
        .then(({ createGpu }) => createGpu(backend))
        .catch((err: unknown) => {
          gpu = undefined;
          throw err;
        });
      const ready = gpu;
      runs += 1;
      // One run at a time, as on a worker: a skill's stages await between kernels, and a second run
      // of the same compiled set in between would overwrite the first one's intermediate buffers.
      const run = previous
        .then(async () => {
          signal?.throwIfAborted();
          return kernels.run(
            await ready,
            call,
            inputs.map((t) => t.data),
          );
        })
        .finally(() => {
          if (pinned) kernels.unpin(call);
        });
      previous = run.catch(() => undefined);
      return run;
    },
    stats: () => ({ runs, compiles: kernels.compiles() }),
  };
}

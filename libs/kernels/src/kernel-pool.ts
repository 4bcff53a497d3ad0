/**
 * Runs skill kernels on a pool of worker threads (piscina), so a long kernel never blocks the
 * service's event loop. Every run has a time limit covering its wait in the queue and its execution;
 * past it the task is aborted (piscina terminates a worker that is running it and starts a fresh one).
 * Admission is bounded: `threads` running plus `maxQueue` waiting, one more is refused as OVERLOADED.
 * Tiny tasks skip the hand-over to a worker and run on the caller's thread (inline-lane.ts); they
 * count against the same bound, and as running while they run or wait there.
 */
import { resolve } from 'node:path';
import type { DenseTensor } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { getSkill } from '@swarm/skills';
import type { Logger } from '@swarm/telemetry';
import { Piscina } from 'piscina';
import type { BackendChoice, KernelBackend } from './backend';
import { webgpuInstalled } from './backend';
import { deadlineSignal } from './deadline-signal';
import type { InlineLane } from './inline-lane';
import { createInlineLane } from './inline-lane';
import type { KernelTaskResult } from './kernel-task';
import { packTask } from './kernel-task';
import type { KernelWorkerData } from './kernel-worker';

/** Plain-JS entry that loads the TypeScript worker in every setting (see worker.js). */
export const WORKER_FILE = resolve(__dirname, 'worker.js');
/** First task of a fresh pool: worker start-up (TypeScript loader, gpu.js) is slow on a busy CI box. */
export const PROBE_TIMEOUT_MS = 60_000;
const PROBE_INPUTS: DenseTensor[] = [
  { name: 'a', shape: [4], data: Float32Array.of(1, 2, 3, 4) },
  { name: 'b', shape: [4], data: Float32Array.of(10, 20, 30, 40) },
];

export interface KernelPoolOptions {
  threads: number;
  /** Tasks that may wait for a free thread; beyond them a run is refused with OVERLOADED. */
  maxQueue: number;
  backend: BackendChoice;
  log: Logger;
  /** Largest task (in its skill's work units) run on this thread instead of a worker; 0: none (inline-lane.ts). */
  inlineMaxWork?: number;
}

export interface KernelRunOptions {
  /** Limit on queueing plus execution. */
  timeoutMs: number;
  /** The caller's deadline or cancellation; aborting it aborts the task. */
  signal?: AbortSignal;
}

export interface KernelRun {
  readonly outputs: DenseTensor[];
  readonly backend: KernelBackend;
  /** Worker time on the task (includes compiling the kernel on its first call per shape). */
  readonly executeMs: number;
}

export interface KernelPoolStats {
  readonly backend: KernelBackend;
  readonly threads: number;
  readonly running: number;
  readonly queued: number;
  readonly completed: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly overloaded: number;
  /** Tasks taken on the caller's thread (the inline lane), and kernel sets compiled there. */
  readonly inlineRuns: number;
  readonly inlineCompiles: number;
}

export interface KernelPool {
  readonly backend: KernelBackend;
  /** Inputs must have passed the skill's validate(). Rejects with a SwarmError only. */
  run(skill: string, inputs: readonly DenseTensor[], opts: KernelRunOptions): Promise<KernelRun>;
  stats(): KernelPoolStats;
  /** Terminates the workers; runs still pending reject with UNAVAILABLE. */
  stop(): Promise<void>;
}

export async function createKernelPool(opts: KernelPoolOptions): Promise<KernelPool> {
  if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new RangeError(`threads must be a positive integer, got ${opts.threads}`);
  if (!Number.isInteger(opts.maxQueue) || opts.maxQueue < 0) throw new RangeError(`maxQueue must be a non-negative integer, got ${opts.maxQueue}`);
  const { log } = opts;
  if (opts.backend === 'webgpu' || (opts.backend === 'auto' && webgpuInstalled())) {
    try {
      return await startPool('webgpu', opts);
    } catch (err) {
      if (opts.backend === 'webgpu') {
        throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `the webgpu backend is unusable here: ${rootMessage(err)}`, false, { cause: err });
      }
      log.warn({ reason: rootMessage(err) }, 'WebGPU is installed but unusable; falling back to webasm');
    }
  } else if (opts.backend === 'auto') {
    log.info("the optional 'webgpu' package is not installed; backend auto picks webasm");
  }
  return startPool(opts.backend === 'cpu' ? 'cpu' : 'webasm', opts);
}

async function startPool(requested: KernelBackend, opts: KernelPoolOptions): Promise<KernelPool> {
  const { threads, maxQueue, log } = opts;
  if (requested === 'webgpu' && !webgpuInstalled()) {
    throw new Error("it needs the optional 'webgpu' npm package (Dawn bindings for navigator.gpu), which is not installed");
  }
  const workerData: KernelWorkerData = { backend: requested };
  const piscina = new Piscina({
    filename: WORKER_FILE,
    // A WebGPU pool starts with the one worker its probe needs and grows as tasks queue: on the many
    // machines where the package is installed but no adapter answers, the probe fails and a pool of
    // `threads` workers (each loading gpu.js and Dawn) would have been started for nothing.
    minThreads: requested === 'webgpu' ? 1 : threads,
    maxThreads: threads,
    maxQueue,
    idleTimeout: Infinity,
    // Per-task run and wait histograms nobody reads.
    recordTiming: false,
    workerData,
    // WebGPU readback is asynchronous; the default 'sync' atomics would park the worker between tasks.
    ...(requested === 'webgpu' ? { atomics: 'disabled' as const } : {}),
  });
  piscina.on('error', (err: unknown) => log.error({ err }, 'kernel worker failed outside a task'));

  let backend: KernelBackend = requested;
  // Made once the probe has told the backend (the probe itself runs on a worker).
  let lane: InlineLane | undefined;
  // The start-up probe's failure is reported by whoever called createKernelPool, not logged here.
  let probing = true;
  let stopped = false;
  let inFlight = 0;
  const counts = { completed: 0, failed: 0, timedOut: 0, overloaded: 0 };

  async function run(skill: string, inputs: readonly DenseTensor[], runOpts: KernelRunOptions): Promise<KernelRun> {
    getSkill(skill);
    if (stopped) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the kernel pool is stopping');
    if (inFlight >= threads + maxQueue) {
      counts.overloaded += 1;
      throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, `executor busy: ${threads} running and ${maxQueue} queued`);
    }
    const deadline = deadlineSignal(runOpts);
    try {
      return await settle(
        () => {
          // A run on the lane cannot be stopped once begun, but one already cancelled is not begun.
          const inline = deadline.signal.aborted ? undefined : lane?.tryRun(skill, inputs, deadline.signal);
          if (inline) return inline;
          const task = packTask(skill, inputs);
          return piscina.run(task, { signal: deadline.signal, transferList: [task.packed] }) as Promise<KernelTaskResult>;
        },
        skill,
        runOpts,
        () => deadline.timedOut(),
      );
    } finally {
      deadline.clear();
    }
  }

  /** Counts a run in flight until it ends, and its outcome (a throw from starting it too) once it has. */
  async function settle(start: () => Promise<KernelTaskResult>, skill: string, runOpts: KernelRunOptions, timedOut: () => boolean): Promise<KernelRun> {
    inFlight += 1;
    try {
      const res = await start();
      counts.completed += 1;
      return { outputs: res.outputs, backend: res.backend, executeMs: res.executeMs };
    } catch (err) {
      throw translate(err, skill, runOpts, timedOut());
    } finally {
      inFlight -= 1;
    }
  }

  function translate(err: unknown, skill: string, runOpts: KernelRunOptions, timedOut: boolean): SwarmError {
    if (timedOut) {
      counts.timedOut += 1;
      return new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `${skill} did not finish within ${runOpts.timeoutMs} ms; the kernel was aborted`, undefined, { cause: err });
    }
    if (runOpts.signal?.aborted) {
      counts.timedOut += 1;
      return new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `${skill} was aborted by its caller`, undefined, { cause: err });
    }
    const message = (err as Error | undefined)?.message ?? '';
    if (message === 'Task queue is at limit' || message.startsWith('No task queue available')) {
      counts.overloaded += 1;
      return new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, `executor busy: ${threads} running and ${maxQueue} queued`, undefined, { cause: err });
    }
    if (stopped) return new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the kernel pool stopped before the kernel finished', undefined, { cause: err });
    counts.failed += 1;
    if (!probing) log.error({ err, skill }, 'kernel failed');
    // Retryable: inputs were validated before the run, so a fault is the worker's (a crash, memory)
    // and another executor, or this one again, may well succeed; the router bounds the attempts.
    return new SwarmError(ErrorCode.ERROR_CODE_EXECUTION_FAILED, `${skill} kernel failed on ${backend}`, undefined, { cause: err });
  }

  const pool: KernelPool = {
    get backend() {
      return backend;
    },
    run,
    stats() {
      const queued = Math.min(piscina.queueSize, inFlight);
      const inline = lane?.stats() ?? { runs: 0, compiles: 0 };
      return { backend, threads, running: inFlight - queued, queued, ...counts, inlineRuns: inline.runs, inlineCompiles: inline.compiles };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await piscina.destroy();
    },
  };

  try {
    const probe = await run('vecadd', PROBE_INPUTS, { timeoutMs: PROBE_TIMEOUT_MS });
    if (Array.from(probe.outputs[0]?.data ?? []).join() !== '11,22,33,44') throw new Error('probe kernel returned a wrong result');
    backend = probe.backend;
    lane = createInlineLane({ backend, maxWork: opts.inlineMaxWork ?? 0 });
    probing = false;
    // The probe is no task: `swarm health` counts tasks run.
    counts.completed = 0;
  } catch (err) {
    await pool.stop();
    throw err;
  }
  log.info({ backend, threads, maxQueue }, `kernel pool ready on ${backend}`);
  return pool;
}

function rootMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Result verification on worker threads. Verifying a 512x512 matmul (Freivalds, 20 rounds) takes
 * ~200 ms of CPU; on the event loop that is 200 ms in which the router reads no request, so under
 * a flood requests wait unread until their clients give up. Here the event loop only copies the
 * tensors to a worker and keeps reading (and refusing) requests. The router's in-flight limit
 * bounds the tasks waiting for a worker.
 *
 * Small results are checked here, on the event loop: the hop to a worker (clone, wake a thread,
 * answer) costs ~0.1-0.3 ms of CPU and a wake-up's latency, far more than checking a few thousand
 * values, which is what most tasks are.
 */
import { resolve } from 'node:path';
import type { DenseTensor, Tensor } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';
import type { ResultVerifier } from '@swarm/pipeline';
import { verifyResult } from '@swarm/pipeline';
import type { Verdict } from '@swarm/skills';
import { Piscina } from 'piscina';
import type { VerifyTask } from './verify-worker';

/** Plain-JS entry that loads the worker from dist/ or, under jest, from its TypeScript source (see verify-thread.js). */
export const VERIFY_WORKER_FILE = resolve(__dirname, 'verify-thread.js');

export interface VerifyPool extends ResultVerifier {
  /** Results checked so far on the event loop and on the threads. */
  counts(): { readonly inline: number; readonly threaded: number };
  stop(): Promise<void>;
}

/**
 * Input and output values (all tensors together) up to which a result is checked on the event
 * loop: every check reads each value a bounded number of times (Freivalds: 20 rounds of matrix-
 * vector products), so at this size a check takes at most ~0.1 ms here (an 18×18 matmul 61 µs, an
 * mlp 12 wide 42 µs, a vecadd of 341 2 µs), less than the hop to a thread.
 */
export const INLINE_VERIFY_MAX_VALUES = 1_024;

/** Counted from the bytes received, not the shapes claimed (an executor's shape may lie). */
const bytesIn = (tensors: readonly (DenseTensor | Tensor)[]) => tensors.reduce((n, t) => n + t.data.byteLength, 0);
const INLINE_VERIFY_MAX_BYTES = INLINE_VERIFY_MAX_VALUES * Float32Array.BYTES_PER_ELEMENT;

/**
 * `random`: the CSPRNG small checks draw from; a worker's checks draw from the worker's own. The
 * threads start with the first result too large for the event loop: a router that checks none (most
 * test nodes, a node that only submits small tasks) never pays their start (~120 CPU-ms each), and the
 * first large check waits for one once.
 */
export function createVerifyPool(threads: number, random: Random): VerifyPool {
  const piscina = new Piscina({ filename: VERIFY_WORKER_FILE, minThreads: 0, maxThreads: threads, idleTimeout: Infinity, recordTiming: false });
  let inline = 0;
  let threaded = 0;
  return {
    verify: async (skill, inputs, outputs) => {
      if (bytesIn(inputs) + bytesIn(outputs) <= INLINE_VERIFY_MAX_BYTES) {
        inline += 1;
        return verifyResult(skill, inputs, outputs, random);
      }
      threaded += 1;
      // Structured clone copies the tensors; the originals stay with the task for its retries.
      return (await piscina.run({ skill, inputs, outputs } satisfies VerifyTask)) as Verdict;
    },
    counts: () => ({ inline, threaded }),
    stop: () => piscina.destroy(),
  };
}

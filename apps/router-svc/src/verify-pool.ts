/**
 * Result verification on worker threads. Verifying a 512x512 matmul (Freivalds, 20 rounds) takes
 * ~200 ms of CPU; on the event loop that is 200 ms in which the router reads no request, so under
 * a flood requests wait unread until their clients give up. Here the event loop only copies the
 * tensors to a worker and keeps reading (and refusing) requests. The router's in-flight limit
 * bounds the tasks waiting for a worker.
 */
import { resolve } from 'node:path';
import type { ResultVerifier } from '@swarm/pipeline';
import type { Verdict } from '@swarm/skills';
import { Piscina } from 'piscina';
import type { VerifyTask } from './verify-worker';

/** Plain-JS entry that loads the worker from dist/ or, under jest, from its TypeScript source (see verify-thread.js). */
export const VERIFY_WORKER_FILE = resolve(__dirname, 'verify-thread.js');

export interface VerifyPool extends ResultVerifier {
  stop(): Promise<void>;
}

export function createVerifyPool(threads: number): VerifyPool {
  const piscina = new Piscina({ filename: VERIFY_WORKER_FILE, minThreads: threads, maxThreads: threads, idleTimeout: Infinity });
  return {
    // Structured clone copies the tensors; the originals stay with the task for its retries.
    verify: async (skill, inputs, outputs) => (await piscina.run({ skill, inputs, outputs } satisfies VerifyTask)) as Verdict,
    stop: () => piscina.destroy(),
  };
}

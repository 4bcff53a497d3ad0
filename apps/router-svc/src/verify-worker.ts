/** Runs in a verification worker thread (see verify-pool.ts). */
import type { DenseTensor, Tensor } from '@swarm/contracts';
import { systemRandom } from '@swarm/determinism';
import { verifyResult } from '@swarm/pipeline';
import type { Verdict } from '@swarm/skills';

export interface VerifyTask {
  readonly skill: string;
  readonly inputs: DenseTensor[];
  readonly outputs: Tensor[];
}

// The challenge vectors come from this thread's own generator: executors never see them.
export function runVerifyTask(task: VerifyTask): Verdict {
  return verifyResult(task.skill, task.inputs, task.outputs, systemRandom);
}

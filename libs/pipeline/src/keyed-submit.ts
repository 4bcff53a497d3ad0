/**
 * A keyed submit is one task: the same idempotency key again, from the same account, is a retry of
 * it only when it asks for the same thing. Whoever answers a retry (the router from its task table,
 * api-svc from the agent's task it holds) compares fingerprints first, and refuses the same key for
 * a different task with the same error.
 */
import { createHash } from 'node:crypto';
import type { SubmitTaskRequest } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';

/**
 * SHA-256 of what makes a submit the task it is: skill, budget, replicas, shards, input names, shapes
 * and every input byte (not its deadline: a retry may wait longer). The bytes matter: a key reused
 * for other data of the same shape must be refused, not answered with another task's result (a
 * client could otherwise squat a key and feed a later submitter the wrong output). SHA-256 of 8 MB
 * is ~10-20 ms here, small beside running such a task.
 */
export function submitFingerprint(req: SubmitTaskRequest): string {
  // Redundancy (and shards) 0 and 1 are the same task (one provider, the whole product).
  const parts: unknown[] = [req.skill, String(req.budget), Math.max(1, req.redundancy), req.inputs.map((t) => [t.name, t.shape, t.data.byteLength])];
  // Appended only when sharded, so the fingerprints of unsharded tasks stay what they were.
  if (req.shards > 1) parts.push(['shards', req.shards]);
  const h = createHash('sha256').update(JSON.stringify(parts));
  for (const t of req.inputs) h.update(t.data);
  return h.digest('hex');
}

/** The refusal of a key already used for another task (`taskId`, the key's). */
export function keyReusedError(taskId: string): SwarmError {
  return new SwarmError(
    ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    `this idempotency key was already used for a different task (${taskId}: other skill, budget, redundancy, shards or inputs); use a new key`,
  );
}

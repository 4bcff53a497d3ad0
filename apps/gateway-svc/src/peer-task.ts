/**
 * The shape every task crossing the gateways must have, checked by the submitting gateway before
 * it dials and by the providing one before it runs anything. Pure; bounds only, not the skill's own
 * input rules (the provider's executor checks those, and the submitter's router checked them first).
 */
import type { ExecuteRequest } from '@swarm/contracts';
import { ErrorCode, isSkillName, SKILL_NAME_PATTERN, SwarmError, TASK_MAX_TIMEOUT_MS } from '@swarm/contracts';

/** Router task ids are `task-` + 32 hex; room for other submitters without letting a peer send megabytes. */
export const MAX_TASK_ID_CHARS = 128;
/** More inputs than any installed skill takes (matmul and mlp take 2 and 3). */
export const MAX_TASK_INPUTS = 16;
/** How much of a peer's text a message may quote. */
const QUOTED_CHARS = 64;

/** `task` when it fits; otherwise INVALID_ARGUMENT naming the field, quoting at most a little of it. */
export function checkPeerTask(task: ExecuteRequest | undefined, maxTimeoutMs: number = TASK_MAX_TIMEOUT_MS): ExecuteRequest {
  if (task === undefined) throw invalid('task is missing');
  if (task.taskId.length === 0 || task.taskId.length > MAX_TASK_ID_CHARS) throw invalid(`task_id must have 1 to ${MAX_TASK_ID_CHARS} characters, got ${task.taskId.length}`);
  if (!isSkillName(task.skill)) throw invalid(`skill must match ${SKILL_NAME_PATTERN}, got '${task.skill.slice(0, QUOTED_CHARS)}' (${task.skill.length} characters)`);
  // 0 would mean "the executor's default": a peer must say how long it waits.
  if (!Number.isInteger(task.timeoutMs) || task.timeoutMs < 1 || task.timeoutMs > maxTimeoutMs) throw invalid(`timeout_ms must be in [1, ${maxTimeoutMs}], got ${task.timeoutMs}`);
  if (task.inputs.length === 0 || task.inputs.length > MAX_TASK_INPUTS) throw invalid(`a task has 1 to ${MAX_TASK_INPUTS} inputs, got ${task.inputs.length}`);
  return task;
}

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `remote task refused: ${message}`);
}

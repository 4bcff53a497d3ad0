/**
 * One task's status as agents read it (GET /v1/tasks/:id and the SSE events), from the router's
 * record or the ledger (authoritative); the routes attach the result while this API still holds it
 * (heldResult), charged to the agent (result-reads.ts). When the router does not know the task yet
 * (or cannot be asked), the API's own record answers.
 */
import type { SubmitTaskResponse, TaskStatusResponse } from '@swarm/contracts';
import { ErrorCode, TaskState } from '@swarm/contracts';
import type { TaskJob } from './agent-tasks';
import { shownTaskError } from './http-errors';
import type { TaskStatus } from './http-schemas';

const REFUSALS = new Set([
  ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
  ErrorCode.ERROR_CODE_MALFORMED_MESSAGE,
  ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
  ErrorCode.ERROR_CODE_UNKNOWN_SKILL,
  ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT,
  ErrorCode.ERROR_CODE_BUDGET_TOO_LOW,
  ErrorCode.ERROR_CODE_UNKNOWN_ACCOUNT,
  ErrorCode.ERROR_CODE_OVERLOADED,
  ErrorCode.ERROR_CODE_PERMISSION_DENIED,
  ErrorCode.ERROR_CODE_RATE_LIMITED,
]);

/** Refused before anything was reserved: nothing ran and nothing moved. */
export function isRefusal(code: ErrorCode): boolean {
  return REFUSALS.has(code);
}

function stateName(state: TaskState): string {
  return TaskState[state] ?? 'TASK_STATE_UNSPECIFIED';
}

/** The result a status of this job carries while the API holds it: a finished task's outputs. */
export function heldResult(job: TaskJob | undefined): SubmitTaskResponse | undefined {
  return job?.state === 'done' && job.result && job.result.outputs.length > 0 ? job.result : undefined;
}

/** A task running, as this API knows it: no cost, provider or attempts yet. */
export function runningStatus(taskId: string): TaskStatus {
  return { ...apiStatusBase(taskId), state: stateName(TaskState.TASK_STATE_RUNNING) };
}

function apiStatusBase(taskId: string) {
  return { taskId, cost: '0', refunded: '0', providerId: '', source: 'api', attempts: 0, note: '' };
}

/** The API's own view of a task it holds (without its result: http-routes.ts attaches it, charged: result-reads.ts). */
export function jobStatus(job: TaskJob): TaskStatus {
  const base = apiStatusBase(job.taskId);
  if (job.state === 'running') return runningStatus(job.taskId);
  if (job.state === 'failed' && job.error) {
    const error = shownTaskError(job.error.code, job.error.message, job.error.retryable);
    // Anything but a refusal may have reserved credit: the router's record says how it closed.
    const state = isRefusal(job.error.code) ? TaskState.TASK_STATE_REJECTED : TaskState.TASK_STATE_UNKNOWN;
    return { ...base, state: stateName(state), error };
  }
  const res = job.result;
  if (!res) return { ...base, state: stateName(TaskState.TASK_STATE_UNKNOWN) };
  return {
    ...base,
    state: stateName(res.settlement || TaskState.TASK_STATE_PAID),
    cost: String(res.cost),
    refunded: String(res.refunded),
    providerId: res.providerId,
    attempts: res.attempts,
    note: res.settlementNote,
  };
}

/** The router's answer (without the result, as jobStatus). */
export function routerStatus(res: TaskStatusResponse): TaskStatus {
  const status: TaskStatus = {
    taskId: res.taskId,
    state: stateName(res.state),
    cost: String(res.cost),
    refunded: String(res.refunded),
    providerId: res.providerId,
    source: res.source,
    attempts: res.attempts,
    note: res.note,
  };
  if (res.error && res.error.code !== ErrorCode.ERROR_CODE_UNSPECIFIED) {
    status.error = shownTaskError(res.error.code, res.error.message, res.error.retryable);
  }
  return status;
}

/** Whether the status is final: done (a verified result) or failed (refunded, rejected, unknown). */
export function isFinal(status: TaskStatus): boolean {
  return status.state !== stateName(TaskState.TASK_STATE_RUNNING);
}

export function isDone(status: TaskStatus): boolean {
  return status.state === stateName(TaskState.TASK_STATE_PAID) || status.result !== undefined;
}

/**
 * An agent's task as the router takes it, from either body: JSON (`data` numbers or `dataBase64`
 * little-endian f32) or a protobuf SubmitTaskRequest (for large tensors). Checks here are the
 * shape rules every skill shares (the router checks each skill's own); whatever the agent put in
 * `account` or `task_id` is replaced, so an agent can only ever pay from its own account.
 */
import type { SubmitTaskResponse, Tensor } from '@swarm/contracts';
import {
  elementCount,
  ErrorCode,
  SubmitTaskRequest,
  SwarmError,
  TASK_MAX_ELEMENTS,
  TASK_MAX_INPUTS,
  TASK_MAX_RANK,
  TASK_MAX_REDUNDANCY,
  IDEMPOTENCY_KEY_TEXT,
  isIdempotencyKey,
  isSkillName,
  SKILL_NAME_TEXT,
  TASK_MAX_SHARDS,
  TASK_MAX_TIMEOUT_MS,
  TaskState,
  toTensor,
} from '@swarm/contracts';
import { f32FromBase64 } from '@swarm/client';
import type { SubmitBody, TaskResult } from './http-schemas';

const MAX_TENSOR_NAME_CHARS = 64;
const MAX_UINT64 = (1n << 64n) - 1n;

function invalid(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message);
}

/** What an agent asked for, before its account and idempotency key are set. */
export interface TaskInput {
  readonly skill: string;
  readonly inputs: Tensor[];
  /** 0n: the quoted price. */
  readonly budget: bigint;
  /** 0: the router's default. */
  readonly timeoutMs: number;
  /** '' when the agent gave none. */
  readonly idempotencyKey: string;
  /** How many different providers run it: 0 or 1 is one; 2..TASK_MAX_REDUNDANCY (the budget default is K × the price). */
  readonly redundancy: number;
  /** Row blocks of a sharded matmul: 0 or 1 is none; 2..TASK_MAX_SHARDS (the router checks the skill and rows). */
  readonly shards: number;
}

export function taskFromJson(body: SubmitBody): TaskInput {
  let total = 0;
  const inputs = body.inputs.map((t, i) => {
    const count = checkShape(t.name, t.shape, i);
    total += count;
    if (total > TASK_MAX_ELEMENTS) throw tooLarge(total);
    if ((t.data === undefined) === (t.dataBase64 === undefined)) throw invalid(`input '${t.name}': give exactly one of data and dataBase64`);
    let values: Float32Array;
    if (t.data !== undefined) {
      if (t.data.length !== count) throw invalid(`input '${t.name}' has ${t.data.length} values but shape [${t.shape.join(',')}] needs ${count}`);
      values = Float32Array.from(t.data);
    } else {
      values = fromBase64(t.name, t.dataBase64 as string, count);
    }
    return toTensor(t.name, t.shape, values);
  });
  return {
    skill: body.skill,
    inputs,
    budget: budgetOf(body.budget),
    timeoutMs: body.timeoutMs ?? 0,
    idempotencyKey: body.idempotencyKey ?? '',
    redundancy: body.redundancy ?? 1,
    shards: body.shards ?? 0,
  };
}

/** A protobuf body: decoded by the caller (MALFORMED_MESSAGE there), checked here like a JSON one. */
export function taskFromProtobuf(req: SubmitTaskRequest): TaskInput {
  if (!isSkillName(req.skill)) throw invalid(`skill must be ${SKILL_NAME_TEXT}`);
  if (req.inputs.length < 1 || req.inputs.length > TASK_MAX_INPUTS) throw invalid(`a task takes 1 to ${TASK_MAX_INPUTS} inputs, got ${req.inputs.length}`);
  let total = 0;
  req.inputs.forEach((t, i) => {
    const count = checkShape(t.name, t.shape, i);
    total += count;
    if (total > TASK_MAX_ELEMENTS) throw tooLarge(total);
    if (t.data.byteLength !== count * 4) throw invalid(`input '${capName(t.name)}': shape [${t.shape.join(',')}] needs ${count * 4} bytes, got ${t.data.byteLength}`);
  });
  if (req.timeoutMs > TASK_MAX_TIMEOUT_MS) throw invalid(`timeoutMs must be at most ${TASK_MAX_TIMEOUT_MS}`);
  if (req.idempotencyKey !== '' && !isIdempotencyKey(req.idempotencyKey)) throw invalid(`idempotencyKey must be ${IDEMPOTENCY_KEY_TEXT}`);
  if (req.redundancy > TASK_MAX_REDUNDANCY) throw invalid(`redundancy must be 1 to ${TASK_MAX_REDUNDANCY} (0: one provider)`);
  if (req.shards > TASK_MAX_SHARDS) throw invalid(`shards must be 1 to ${TASK_MAX_SHARDS} (0: the whole product on one provider)`);
  return { skill: req.skill, inputs: req.inputs, budget: req.budget, timeoutMs: req.timeoutMs, idempotencyKey: req.idempotencyKey, redundancy: req.redundancy, shards: req.shards };
}

/** The request sent on `router.submit-agent`: the agent's account, the key that names the task. */
export function agentSubmitRequest(input: TaskInput, account: string, idempotencyKey: string, budget: bigint): SubmitTaskRequest {
  return SubmitTaskRequest.fromPartial({
    skill: input.skill,
    inputs: input.inputs,
    budget,
    timeoutMs: input.timeoutMs,
    account,
    taskId: '',
    idempotencyKey,
    redundancy: input.redundancy,
    shards: input.shards,
  });
}

function capName(name: string): string {
  return name.length > MAX_TENSOR_NAME_CHARS ? `${name.slice(0, MAX_TENSOR_NAME_CHARS)}…` : name;
}

function checkShape(name: string, shape: readonly number[], index: number): number {
  if (name.length < 1 || name.length > MAX_TENSOR_NAME_CHARS) throw invalid(`input ${index}: name must be 1-${MAX_TENSOR_NAME_CHARS} characters`);
  if (shape.length < 1 || shape.length > TASK_MAX_RANK) throw invalid(`input '${name}': shape must have 1 to ${TASK_MAX_RANK} dimensions`);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 1)) throw invalid(`input '${name}': every dimension must be a whole number from 1`);
  const count = elementCount(shape);
  // A product past the limit (or past 2^53) is too large whatever the data says.
  if (!Number.isSafeInteger(count) || count > TASK_MAX_ELEMENTS) throw tooLarge(count);
  return count;
}

function tooLarge(count: number): SwarmError {
  const what = Number.isSafeInteger(count) ? `${count} elements` : 'more than 2^53 elements';
  return new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `the inputs hold ${what}; a task takes at most ${TASK_MAX_ELEMENTS}`);
}

function fromBase64(name: string, text: string, count: number): Float32Array {
  const decoded = f32FromBase64(text, count);
  if ('notBase64' in decoded) throw invalid(`input '${name}': dataBase64 is not base64 of the ${count} f32 values its shape holds`);
  if ('bytes' in decoded) throw invalid(`input '${name}': shape needs ${count * 4} bytes of f32, dataBase64 holds ${decoded.bytes}`);
  return decoded.values;
}

function budgetOf(budget: number | string | undefined): bigint {
  if (budget === undefined) return 0n;
  const value = BigInt(budget);
  if (value < 1n || value > MAX_UINT64) throw invalid('budget must be a whole number of credits from 1 to 2^64-1');
  return value;
}

/** An output's values as float32: decoded bytes may sit at any offset, so they are copied into an aligned buffer. */
export function floatsOf(t: Tensor): Float32Array {
  const values = new Float32Array(t.data.byteLength >>> 2);
  new Uint8Array(values.buffer).set(t.data.subarray(0, values.length * 4));
  return values;
}

/** The router's answer as the API's JSON: outputs as numbers, or as base64 when asked. */
export function taskResultJson(res: SubmitTaskResponse, encoding: 'json' | 'base64'): TaskResult {
  return {
    taskId: res.taskId,
    idempotencyKey: res.idempotencyKey,
    outputs: res.outputs.map((t) => {
      const shape = [...t.shape];
      if (encoding === 'base64') return { name: t.name, shape, dataBase64: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64') };
      return { name: t.name, shape, data: Array.from(floatsOf(t)) };
    }),
    cost: String(res.cost),
    refunded: String(res.refunded),
    account: res.account,
    providerId: res.providerId,
    executorId: res.executorId,
    backend: res.backend,
    verification: res.verification,
    attempts: res.attempts,
    settlement: TaskState[res.settlement] ?? 'TASK_STATE_UNSPECIFIED',
    settlementNote: res.settlementNote,
    ...(res.replayed ? { replayed: true } : {}),
    ...(res.placementNote ? { placementNote: res.placementNote } : {}),
    timing: {
      escrowMs: res.timing?.escrowMs ?? 0,
      executeMs: res.timing?.executeMs ?? 0,
      verifyMs: res.timing?.verifyMs ?? 0,
      settleMs: res.timing?.settleMs ?? 0,
      totalMs: res.timing?.totalMs ?? 0,
    },
    // Only a redundant task has them; a one-provider task's JSON stays as it was.
    ...(res.contributions.length > 0
      ? {
          contributions: res.contributions.map((c) => ({
            providerId: c.providerId,
            executorId: c.executorId,
            counted: c.counted,
            paid: String(c.paid),
            share: c.share,
            note: c.note,
            executeMs: c.executeMs,
          })),
        }
      : {}),
    ...(res.shards.length > 0 ? { shards: res.shards.map((s) => ({ ...s })) } : {}),
  };
}

/** Bytes a result holds, to bound what the API keeps for agents to fetch later. */
export function resultBytes(res: SubmitTaskResponse): number {
  return res.outputs.reduce((n, t) => n + t.data.byteLength, 0);
}

/**
 * The agent API's JSON to and from the SDK's types. Answers are checked as they are read (a proxy's
 * page or a different server must not turn into half-filled objects): anything off the documented
 * shape is a MALFORMED_MESSAGE error naming the field, never the value.
 */
import type { DenseTensor } from '@swarm/contracts';
import { elementCount } from '@swarm/contracts';
import type { AgentBalance, AgentPeer, AgentSkills, InputTensor, TaskContribution, TaskQuote, TaskResult, TaskShard, TaskStatus, TaskTiming } from './agent-api-types';
import { AgentApiError } from './api-error';

type Json = Record<string, unknown>;

function malformed(what: string): AgentApiError {
  return new AgentApiError('SWARM_MALFORMED_MESSAGE', `the agent API answered an unexpected document: ${what}`, 0, false);
}

function obj(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(`${what} is not an object`);
  return v as Json;
}

function str(o: Json, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw malformed(`${what}.${key} is not a string`);
  return v;
}

function num(o: Json, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw malformed(`${what}.${key} is not a number`);
  return v;
}

function arr(o: Json, key: string, what: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw malformed(`${what}.${key} is not an array`);
  return v;
}

/** uint64 as the API writes it: a decimal string. */
function credits(o: Json, key: string, what: string): bigint {
  const v = o[key];
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) throw malformed(`${what}.${key} is not a decimal uint64`);
  return BigInt(v);
}

export function skillsFromJson(body: unknown): AgentSkills {
  const o = obj(body, 'skills');
  return {
    backend: str(o, 'backend', 'skills'),
    maxElements: num(o, 'maxElements', 'skills'),
    skills: arr(o, 'skills', 'skills').map((s, i) => {
      const what = `skills[${i}]`;
      const k = obj(s, what);
      const shapes = (key: string) =>
        arr(k, key, what).map((x, j) => {
          const n = obj(x, `${what}.${key}[${j}]`);
          return { name: str(n, 'name', what), shape: arr(n, 'shape', what).map(String) };
        });
      return {
        name: str(k, 'name', what),
        description: str(k, 'description', what),
        inputs: shapes('inputs'),
        outputs: shapes('outputs'),
        pricePerMwork: credits(k, 'pricePerMwork', what),
        verification: str(k, 'verification', what),
        verificationBound: str(k, 'verificationBound', what),
        verificationCost: str(k, 'verificationCost', what),
      };
    }),
  };
}

export function quoteFromJson(body: unknown): TaskQuote {
  const o = obj(body, 'quote');
  return {
    skill: str(o, 'skill', 'quote'),
    price: credits(o, 'price', 'quote'),
    pricePerMwork: credits(o, 'pricePerMwork', 'quote'),
    work: num(o, 'work', 'quote'),
    maxElements: num(o, 'maxElements', 'quote'),
  };
}

/** Little-endian f32 bytes as a Float32Array (copied: decoded bytes may sit at any offset). */
export function f32FromBytes(bytes: Uint8Array): Float32Array {
  const values = new Float32Array(bytes.byteLength >>> 2);
  new Uint8Array(values.buffer).set(bytes.subarray(0, values.length * 4));
  return values;
}

/** Base64, standard or URL-safe alphabet. */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * `count` little-endian f32 values as an input's `dataBase64` holds them (api-svc, and `swarm
 * submit --input`): the values (a fresh, aligned copy), or what is wrong: text that is not base64 of
 * that many values, longer than theirs (checked before anything is decoded), or the bytes it holds.
 */
export function f32FromBase64(text: string, count: number): { readonly values: Float32Array } | { readonly notBase64: true } | { readonly bytes: number } {
  if (!Number.isSafeInteger(count) || text.length > 4 * Math.ceil((count * 4) / 3) || !BASE64.test(text)) return { notBase64: true };
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== count * 4) return { bytes: bytes.byteLength };
  const values = new Float32Array(count);
  new Uint8Array(values.buffer).set(bytes);
  return { values };
}

export function f32ToBase64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function tensorFromJson(v: unknown, what: string): DenseTensor {
  const t = obj(v, what);
  const shape = arr(t, 'shape', what).map((d) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw malformed(`${what}.shape holds a non-integer`);
    return d;
  });
  let data: Float32Array;
  if (typeof t['dataBase64'] === 'string') data = f32FromBytes(Buffer.from(t['dataBase64'], 'base64'));
  else {
    const values = arr(t, 'data', what);
    data = new Float32Array(values.length);
    values.forEach((x, i) => {
      if (typeof x !== 'number') throw malformed(`${what}.data holds a non-number`);
      data[i] = x;
    });
  }
  if (data.length !== elementCount(shape)) throw malformed(`${what} has ${data.length} values for shape [${shape.join(',')}]`);
  return { name: str(t, 'name', what), shape, data };
}

function timingFromJson(v: unknown): TaskTiming {
  const t = obj(v, 'timing');
  return {
    escrowMs: num(t, 'escrowMs', 'timing'),
    executeMs: num(t, 'executeMs', 'timing'),
    verifyMs: num(t, 'verifyMs', 'timing'),
    settleMs: num(t, 'settleMs', 'timing'),
    totalMs: num(t, 'totalMs', 'timing'),
  };
}

function bool(o: Json, key: string, what: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw malformed(`${what}.${key} is not a boolean`);
  return v;
}

function contributionFromJson(v: unknown, what: string): TaskContribution {
  const c = obj(v, what);
  return {
    providerId: str(c, 'providerId', what),
    executorId: str(c, 'executorId', what),
    counted: bool(c, 'counted', what),
    paid: credits(c, 'paid', what),
    share: num(c, 'share', what),
    note: str(c, 'note', what),
    executeMs: num(c, 'executeMs', what),
  };
}

function shardFromJson(v: unknown, what: string): TaskShard {
  const s = obj(v, what);
  return {
    index: num(s, 'index', what),
    rowStart: num(s, 'rowStart', what),
    rowEnd: num(s, 'rowEnd', what),
    providerId: str(s, 'providerId', what),
    executorId: str(s, 'executorId', what),
    attempts: num(s, 'attempts', what),
    share: num(s, 'share', what),
    executeMs: num(s, 'executeMs', what),
  };
}

export function resultFromJson(body: unknown): TaskResult {
  const o = obj(body, 'result');
  return {
    taskId: str(o, 'taskId', 'result'),
    outputs: arr(o, 'outputs', 'result').map((t, i) => tensorFromJson(t, `result.outputs[${i}]`)),
    cost: credits(o, 'cost', 'result'),
    refunded: credits(o, 'refunded', 'result'),
    account: str(o, 'account', 'result'),
    providerId: str(o, 'providerId', 'result'),
    executorId: str(o, 'executorId', 'result'),
    backend: str(o, 'backend', 'result'),
    verification: str(o, 'verification', 'result'),
    attempts: num(o, 'attempts', 'result'),
    settlement: str(o, 'settlement', 'result'),
    settlementNote: str(o, 'settlementNote', 'result'),
    timing: timingFromJson(o['timing']),
    // Only a redundant task has them; a server without the field leaves it out.
    ...(o['contributions'] === undefined ? {} : { contributions: arr(o, 'contributions', 'result').map((c, i) => contributionFromJson(c, `result.contributions[${i}]`)) }),
    ...(o['shards'] === undefined ? {} : { shards: arr(o, 'shards', 'result').map((s, i) => shardFromJson(s, `result.shards[${i}]`)) }),
    ...(o['replayed'] === undefined ? {} : { replayed: bool(o, 'replayed', 'result') }),
    ...(o['placementNote'] === undefined ? {} : { placementNote: str(o, 'placementNote', 'result') }),
  };
}

export function statusFromJson(body: unknown): TaskStatus {
  const o = obj(body, 'status');
  const error = o['error'] === undefined ? undefined : obj(o['error'], 'status.error');
  return {
    taskId: str(o, 'taskId', 'status'),
    state: str(o, 'state', 'status'),
    cost: credits(o, 'cost', 'status'),
    refunded: credits(o, 'refunded', 'status'),
    ...(error ? { error: { code: str(error, 'code', 'status.error'), message: str(error, 'message', 'status.error'), retryable: error['retryable'] === true } } : {}),
    providerId: str(o, 'providerId', 'status'),
    source: str(o, 'source', 'status'),
    attempts: num(o, 'attempts', 'status'),
    note: str(o, 'note', 'status'),
    ...(o['result'] === undefined ? {} : { result: resultFromJson(o['result']) }),
    ...(o['resultRetryAfterMs'] === undefined ? {} : { resultRetryAfterMs: num(o, 'resultRetryAfterMs', 'status') }),
  };
}

export function balanceFromJson(body: unknown): AgentBalance {
  const o = obj(body, 'balance');
  return {
    account: str(o, 'account', 'balance'),
    available: credits(o, 'available', 'balance'),
    escrowed: credits(o, 'escrowed', 'balance'),
    budget: credits(o, 'budget', 'balance'),
    spent: credits(o, 'spent', 'balance'),
    tasks: credits(o, 'tasks', 'balance'),
  };
}

export function peersFromJson(body: unknown): AgentPeer[] {
  const o = obj(body, 'peers');
  return arr(o, 'peers', 'peers').map((p, i) => {
    const what = `peers[${i}]`;
    const q = obj(p, what);
    return { nodeId: str(q, 'nodeId', what), address: str(q, 'address', what), rttMs: num(q, 'rttMs', what), lastSeenMs: credits(q, 'lastSeenMs', what) };
  });
}

/** An input as the JSON body carries it: base64 of little-endian f32 (about half the bytes of numbers as text). */
export function inputToJson(t: InputTensor): { name: string; shape: number[]; dataBase64: string } {
  const values = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  return { name: t.name, shape: [...t.shape], dataBase64: f32ToBase64(values) };
}

/**
 * The HTTP API's request and response schemas, declared once (TypeBox, i.e. JSON Schema): fastify
 * validates requests and serialises responses with them, and @fastify/swagger serves them as the
 * OpenAPI document at /openapi.json. uint64 values travel as decimal strings, as in the proto3
 * JSON mapping the CLI prints; budgets are accepted as a whole number or such a string.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import {
  IDEMPOTENCY_KEY_PATTERN,
  SKILL_NAME_PATTERN,
  TASK_ID_PATTERN,
  TASK_MAX_ELEMENTS,
  TASK_MAX_INPUTS,
  TASK_MAX_RANK,
  TASK_MAX_REDUNDANCY,
  TASK_MAX_SHARDS,
  TASK_MAX_TIMEOUT_MS,
} from '@swarm/contracts';

/** Ranks and input counts any skill of the catalog needs, with room to grow. */
const MAX_DIM = 2 ** 31 - 1;
/** A uint64 as JSON text: at most 20 decimal digits (http-errors.ts says it in words). */
export const UINT64_PATTERN = '^[0-9]{1,20}$';

const Uint64 = Type.String({ pattern: UINT64_PATTERN, description: 'uint64 as a decimal string' });
const Shape = Type.Array(Type.Integer({ minimum: 1, maximum: MAX_DIM }), { minItems: 1, maxItems: TASK_MAX_RANK });
const TensorName = Type.String({ minLength: 1, maxLength: 64 });

export const ErrorReply = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'SWARM_… (docs/errors.md)' }),
        message: Type.String(),
        retryable: Type.Boolean(),
        retryAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, $id: 'ErrorReply' },
);

export const TensorInput = Type.Object(
  {
    name: TensorName,
    shape: Shape,
    data: Type.Optional(Type.Array(Type.Number(), { maxItems: TASK_MAX_ELEMENTS, description: 'row-major values (f32)' })),
    dataBase64: Type.Optional(Type.String({ description: 'little-endian f32, row-major, base64' })),
  },
  { additionalProperties: false, description: 'exactly one of data and dataBase64' },
);

export const SubmitBody = Type.Object(
  {
    skill: Type.String({ pattern: SKILL_NAME_PATTERN }),
    inputs: Type.Array(TensorInput, { minItems: 1, maxItems: TASK_MAX_INPUTS }),
    budget: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: UINT64_PATTERN })], { description: 'most credits to pay; default the quoted price' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: TASK_MAX_TIMEOUT_MS })),
    idempotencyKey: Type.Optional(Type.String({ pattern: IDEMPOTENCY_KEY_PATTERN, description: 'the same key again is the same task: never run or charged twice' })),
    redundancy: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: TASK_MAX_REDUNDANCY,
        description: 'how many different providers run it (default 1); K >= 2: every result verified and compared, the agreeing ones paid, the default budget K × the price',
      }),
    ),
    shards: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: TASK_MAX_SHARDS,
        description:
          "matmul only, not with redundancy: row blocks of a (default 1); S >= 2: each block run on a provider and verified, paid the whole product's price only when all are",
      }),
    ),
  },
  { additionalProperties: false },
);
export type SubmitBody = Static<typeof SubmitBody>;

const ResultEncoding = Type.Union([Type.Literal('json'), Type.Literal('base64')], { description: 'outputs as numbers (json, default) or dataBase64' });

export const SubmitQuery = Type.Object(
  {
    async: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: answer 202 with the task id at once' })),
    encoding: Type.Optional(ResultEncoding),
  },
  { additionalProperties: false },
);
export type SubmitQuery = Static<typeof SubmitQuery>;

/** The query of a route that takes none: any parameter is refused, never ignored (http-server.ts gives it to every such route). */
export const NoQuery = Type.Object({}, { additionalProperties: false });

/** A status's (or its last event's) result: as numbers or as base64. */
export const ResultQuery = Type.Object({ encoding: Type.Optional(ResultEncoding) }, { additionalProperties: false });
export type ResultQuery = Static<typeof ResultQuery>;

export const TensorOutput = Type.Object(
  { name: Type.String(), shape: Type.Array(Type.Integer()), data: Type.Optional(Type.Array(Type.Number())), dataBase64: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export const Contribution = Type.Object(
  {
    providerId: Type.String(),
    executorId: Type.String(),
    counted: Type.Boolean({ description: 'verified, in time, and in agreement with the result returned' }),
    paid: Uint64,
    share: Type.Number({ description: 'its Shapley value in the replica game, as a share of the pool (0..1)' }),
    note: Type.String({ description: 'why it was not counted; empty when counted' }),
    executeMs: Type.Number(),
  },
  { additionalProperties: false },
);

export const ShardResult = Type.Object(
  {
    index: Type.Integer(),
    rowStart: Type.Integer({ description: 'first row of a (and of the result) in the block' }),
    rowEnd: Type.Integer({ description: 'one past its last row' }),
    providerId: Type.String(),
    executorId: Type.String(),
    attempts: Type.Integer({ description: 'dispatches the block took' }),
    share: Type.Number({ description: "its share of the product's work, and so of the pay (0..1)" }),
    executeMs: Type.Number(),
  },
  { additionalProperties: false },
);

export const TaskResult = Type.Object(
  {
    taskId: Type.String(),
    idempotencyKey: Type.String({ description: "the task's key (the agent's, or the one drawn for it): the same submit with it again is a retry" }),
    outputs: Type.Array(TensorOutput),
    cost: Uint64,
    refunded: Uint64,
    account: Type.String(),
    providerId: Type.String(),
    executorId: Type.String(),
    backend: Type.String(),
    verification: Type.String(),
    attempts: Type.Integer(),
    settlement: Type.String({ description: 'TASK_STATE_PAID or TASK_STATE_REFUNDED' }),
    settlementNote: Type.String(),
    timing: Type.Object(
      { escrowMs: Type.Number(), executeMs: Type.Number(), verifyMs: Type.Number(), settleMs: Type.Number(), totalMs: Type.Number() },
      { additionalProperties: false },
    ),
    contributions: Type.Optional(
      Type.Array(Contribution, { description: 'a redundant task (redundancy >= 2): each replica that returned a result; a sharded one (shards >= 2): each provider node' }),
    ),
    shards: Type.Optional(Type.Array(ShardResult, { description: 'a sharded task (shards >= 2): who computed each row block' })),
    replayed: Type.Optional(Type.Boolean({ description: 'true: the recorded answer of an earlier submit with the same idempotency key; not run or charged again' })),
    placementNote: Type.Optional(
      Type.String({ description: "why the task ran where it did when the usual choice was not open (e.g. only on the node's own executors); absent otherwise" }),
    ),
  },
  { additionalProperties: false, $id: 'TaskResult' },
);
export type TaskResult = Static<typeof TaskResult>;

export const TaskAccepted = Type.Object(
  { taskId: Type.String(), idempotencyKey: Type.String(), status: Type.String({ description: 'GET this for the outcome' }), events: Type.String({ description: 'SSE' }) },
  { additionalProperties: false },
);

export const TaskIdParams = Type.Object({ id: Type.String({ pattern: TASK_ID_PATTERN }) }, { additionalProperties: false });
export type TaskIdParams = Static<typeof TaskIdParams>;

const ErrorInfo = Type.Object({ code: Type.String(), message: Type.String(), retryable: Type.Boolean() }, { additionalProperties: false });

export const TaskStatus = Type.Object(
  {
    taskId: Type.String(),
    state: Type.String({ description: 'TASK_STATE_RUNNING, _PAID, _REFUNDED or _REJECTED' }),
    cost: Uint64,
    refunded: Uint64,
    error: Type.Optional(ErrorInfo),
    providerId: Type.String(),
    source: Type.String({ description: 'router, ledger or api (this API still holds the task)' }),
    attempts: Type.Integer(),
    note: Type.String(),
    result: Type.Optional(Type.Ref(TaskResult)),
    resultRetryAfterMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'an event stream’s last event only: the result is held but this agent had results handed back too often lately; GET the task after this many ms',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TaskStatus = Static<typeof TaskStatus>;

export const QuoteBody = Type.Object(
  {
    skill: Type.String({ pattern: SKILL_NAME_PATTERN }),
    shapes: Type.Array(Type.Object({ name: TensorName, shape: Shape }, { additionalProperties: false }), { minItems: 1, maxItems: TASK_MAX_INPUTS }),
  },
  { additionalProperties: false },
);
export type QuoteBody = Static<typeof QuoteBody>;

export const Quote = Type.Object(
  { skill: Type.String(), price: Uint64, pricePerMwork: Uint64, work: Type.Number({ description: 'work units (floating-point operations)' }), maxElements: Type.Integer() },
  { additionalProperties: false },
);

const NamedShape = Type.Object({ name: Type.String(), shape: Type.Array(Type.String(), { description: 'dimension names, e.g. ["n","k"]' }) }, { additionalProperties: false });

export const Skills = Type.Object(
  {
    backend: Type.String(),
    maxElements: Type.Integer({ description: 'largest element count of all inputs together' }),
    skills: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          description: Type.String(),
          inputs: Type.Array(NamedShape),
          outputs: Type.Array(NamedShape),
          pricePerMwork: Uint64,
          verification: Type.String(),
          verificationBound: Type.String(),
          verificationCost: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const Balance = Type.Object({ account: Type.String(), available: Uint64, escrowed: Uint64, budget: Uint64, spent: Uint64, tasks: Uint64 }, { additionalProperties: false });

export const Peers = Type.Object(
  {
    peers: Type.Array(Type.Object({ nodeId: Type.String(), address: Type.String(), rttMs: Type.Number(), lastSeenMs: Uint64 }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

/** Every error status a route may answer, with the one error body. */
export function withErrors(responses: Record<number, TSchema>): Record<number | string, TSchema> {
  return { ...responses, '4xx': Type.Ref(ErrorReply), '5xx': Type.Ref(ErrorReply) };
}

/** Shared schemas registered once with fastify (addSchema), referenced by $id. */
export const SHARED_SCHEMAS: readonly TSchema[] = [ErrorReply, TaskResult];

/**
 * The SDK's HTTP client for a node's agent API (api-svc): what a remote agent uses, with its bearer
 * token, where the NATS client (swarm-client.ts) is for programs on the node's own bus. Typed
 * answers (agent-api-types.ts), every error a SwarmError with the server's code (api-error.ts).
 *
 * Every submit carries an idempotency key (the caller's or a random one), so a retry is the same
 * task: a RATE_LIMITED answer is retried after the server's hint, and nothing runs or is paid twice.
 * Aborting a call (its `signal`) stops waiting, not the task: a task the node accepted runs to its
 * end and is paid or refunded; `task(id)` tells which.
 */
import { randomUUID } from 'node:crypto';
import { elementCount, ErrorCode, isSwarmError, SubmitTaskRequest, SwarmError, TASK_DEFAULT_TIMEOUT_MS, TASK_MAX_REDUNDANCY, TASK_MAX_SHARDS, toTensor } from '@swarm/contracts';
import type { AgentBalance, AgentPeer, AgentSkills, AgentTask, InputTensor, TaskAccepted, TaskEvent, TaskQuote, TaskResult, TaskStatus } from './agent-api-types';
import { balanceFromJson, inputToJson, peersFromJson, quoteFromJson, resultFromJson, skillsFromJson, statusFromJson } from './agent-api-wire';
import { AgentApiError, apiErrorOf, errorFromResponse, foreignAnswer, isJsonResponse } from './api-error';
import { readSse } from './sse-events';

/** Inputs up to this many values go as JSON (base64, ~5.3 bytes a value, under api-svc's 8 MiB JSON cap); larger ones as protobuf. */
export const JSON_BODY_MAX_VALUES = 1_000_000;
export const PROTOBUF_MEDIA_TYPE = 'application/x-protobuf';
/** RATE_LIMITED answers retried (after the server's Retry-After) before the error reaches the caller. */
export const DEFAULT_RATE_LIMIT_RETRIES = 3;
/** Longest wait honoured from a Retry-After; a longer one is returned as the error. */
export const MAX_RETRY_WAIT_MS = 10_000;
/** How often a task is asked about when its event stream ended before the task did. */
export const STATUS_POLL_MS = 500;
/**
 * How long a call other than a submit waits for the API's whole answer (a stream's: its headers).
 * api-svc's longest read waits 10 s on its bus (a task's status from the ledger); 5 s more for its
 * answer to arrive. A server that takes the connection and never answers is given up on then.
 */
export const REQUEST_TIMEOUT_MS = 15_000;
/**
 * A task is waited for its deadline (the router's default when it names none) and this much more:
 * api-svc's 2 s to hear the router's answer, and 1 s for its own to arrive.
 */
export const SUBMIT_ANSWER_SLACK_MS = 3_000;

export interface AgentClientOptions {
  /** The node's agent API, e.g. http://127.0.0.1:8080 (a node's `node.json` has it as httpAddress). */
  readonly baseUrl: string;
  /** The agent's token, `swt_…` (from `swarm agent add`). */
  readonly token: string;
  /** Default the global fetch. */
  readonly fetch?: typeof fetch;
  readonly rateLimitRetries?: number;
  /** A fresh idempotency key for a submit that names none; default `sdk-<uuid>`. */
  readonly newKey?: () => string;
  /** How long a call other than a submit waits for its answer; default REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number;
  /** How long past a task's deadline a submit waits for its answer (a slow link may need more); default SUBMIT_ANSWER_SLACK_MS. */
  readonly submitAnswerSlackMs?: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface WaitOptions extends CallOptions {
  /** Each event of the task's stream as it arrives (accepted, running, done or failed). */
  readonly onEvent?: (event: TaskEvent) => void;
}

export interface AgentClient {
  readonly baseUrl: string;
  /** Skills the node runs: input and output shapes, prices, verification bounds. */
  skills(opts?: CallOptions): Promise<AgentSkills>;
  /** The price of a task with inputs of these shapes (what the router escrows). */
  quote(skill: string, shapes: ReadonlyArray<{ name: string; shape: readonly number[] }>, opts?: CallOptions): Promise<TaskQuote>;
  /**
   * Runs a task and returns its verified result. With `onEvent` it is submitted asynchronously and
   * followed on its event stream (progress for long tasks); without, one synchronous request.
   */
  submit(task: AgentTask, opts?: WaitOptions): Promise<TaskResult>;
  /** Starts a task and answers its id at once (follow it with `wait`, `events` or `task`). */
  submitAsync(task: AgentTask, opts?: CallOptions): Promise<TaskAccepted>;
  /** The task's result once it ends; rejects with the task's error if it failed. */
  wait(taskId: string, opts?: WaitOptions): Promise<TaskResult>;
  /** The task's events: accepted, running, then done or failed. */
  events(taskId: string, opts?: CallOptions): AsyncGenerator<TaskEvent>;
  /** What became of a task (running, paid, refunded, rejected), with its result while the API holds it. */
  task(taskId: string, opts?: CallOptions): Promise<TaskStatus>;
  balance(opts?: CallOptions): Promise<AgentBalance>;
  peers(opts?: CallOptions): Promise<AgentPeer[]>;
}

function abortable(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The task's result from its final status, or the error it ended with. */
export function outcomeOf(status: TaskStatus): TaskResult {
  if (status.result) return status.result;
  if (status.error) throw apiErrorOf(status.error, 0);
  if (status.state === 'TASK_STATE_PAID') {
    throw new AgentApiError('SWARM_TASK_RESULT_GONE', `task ${status.taskId} was paid (${status.cost} credits) but the API no longer holds its result`, 0, false);
  }
  if (status.state === 'TASK_STATE_REFUNDED')
    throw new AgentApiError('SWARM_TASK_REFUNDED', `task ${status.taskId} was refunded${status.note ? `: ${status.note}` : ''}`, 0, false);
  throw new AgentApiError('SWARM_TASK_UNKNOWN', `task ${status.taskId} ended as ${status.state}${status.note ? `: ${status.note}` : ''}`, 0, false);
}

/** The input's value count, once its data fills its shape (checked before anything is sent). */
function checkedCount(t: InputTensor): number {
  const count = elementCount(t.shape);
  if (t.data.length !== count) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `input '${t.name.slice(0, 64)}' has ${t.data.length} values but shape [${t.shape.join(',')}] needs ${count}`);
  }
  return count;
}

/** A wait an option gives: whole milliseconds, none negative, at most a day (a timer takes no more than 2^31 ms). */
function waitOption(name: string, ms: number | undefined): void {
  if (ms !== undefined && !(Number.isInteger(ms) && ms >= 0 && ms <= 86_400_000)) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `${name} must be whole milliseconds from 0 to 86400000, got ${String(ms).slice(0, 20)}`);
  }
}

export function createAgentClient(opts: AgentClientOptions): AgentClient {
  waitOption('requestTimeoutMs', opts.requestTimeoutMs);
  waitOption('submitAnswerSlackMs', opts.submitAnswerSlackMs);
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  const retries = opts.rateLimitRetries ?? DEFAULT_RATE_LIMIT_RETRIES;
  const newKey = opts.newKey ?? (() => `sdk-${randomUUID()}`);

  /** What a request waits for, and the error it ends with when nothing came in that time. */
  function answerLimit(method: string, path: string, taskTimeoutMs: number | undefined): { ms: number; noAnswer: () => AgentApiError } {
    const seconds = (ms: number) => `${ms / 1000} s`;
    if (taskTimeoutMs === undefined) {
      const ms = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
      // As a refused connection is: nothing answered there (the CLI says SWARM_NO_NODE, as the bus's connect timeout).
      const cause = Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' });
      return {
        ms,
        noAnswer: () =>
          new AgentApiError('SWARM_UNAVAILABLE', `cannot reach the agent API at ${baseUrl} (no answer to ${method} ${path} within ${seconds(ms)}); is the node running?`, 0, true, {
            cause,
          }),
      };
    }
    // The task went out: it may run and be paid, so this is a lost answer (a retry by key learns the outcome), not "no node".
    const deadlineMs = taskTimeoutMs || TASK_DEFAULT_TIMEOUT_MS;
    const slackMs = opts.submitAnswerSlackMs ?? SUBMIT_ANSWER_SLACK_MS;
    const ms = deadlineMs + slackMs;
    const what = `${method} ${path.replace(/\?.*$/, '')}`;
    return {
      ms,
      noAnswer: () =>
        new AgentApiError(
          'SWARM_DEADLINE_EXCEEDED',
          `no answer from the agent API at ${baseUrl} to ${what} within ${seconds(ms)} (the task's ${seconds(deadlineMs)} deadline and ${seconds(slackMs)} more): the task may have run`,
          0,
          true,
        ),
    };
  }

  interface Sent {
    readonly res: Response;
    /** The caller's signal and the attempt's deadline together: reading the body honours both. */
    readonly signal: AbortSignal;
    /** Ends the deadline: once the body is read (or, for a stream, once its headers came). */
    readonly done: () => void;
  }

  async function send(
    method: string,
    path: string,
    init: { body?: string | Uint8Array; contentType?: string; accept?: string; signal?: AbortSignal; taskTimeoutMs?: number } = {},
  ): Promise<Sent> {
    const limit = answerLimit(method, path, init.taskTimeoutMs);
    for (let attempt = 0; ; attempt++) {
      // Each attempt its own deadline: a rate-limit wait between them is the caller's signal's only.
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(limit.noAnswer()), limit.ms);
      const done = () => clearTimeout(timer);
      const signal = init.signal ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
      let res: Response;
      try {
        res = await doFetch(`${baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${opts.token}`,
            accept: init.accept ?? 'application/json',
            ...(init.contentType ? { 'content-type': init.contentType } : {}),
          },
          ...(init.body !== undefined ? { body: init.body } : {}),
          signal,
        });
      } catch (err) {
        done();
        if (signal.aborted) throw signal.reason;
        // A port fetch refuses is refused the same way every time: no retry makes it answer.
        const blocked = isBlockedPort(err);
        throw new AgentApiError('SWARM_UNAVAILABLE', `cannot reach the agent API at ${baseUrl}${unreachableWhy(err)}`, 0, !blocked, { cause: err });
      }
      if (res.ok) {
        // Another web server's page (a catch-all 200) is no answer of the API's either.
        const expected = init.accept === 'text/event-stream' ? /^text\/event-stream\s*(;|$)/i.test(res.headers.get('content-type') ?? '') : isJsonResponse(res);
        if (!expected) {
          done();
          throw foreignAnswer(baseUrl, `${method} ${path}`, res);
        }
        return { res, signal, done };
      }
      let error: AgentApiError;
      try {
        error = await errorFromResponse(res, baseUrl, `${method} ${path}`);
      } finally {
        done();
      }
      // An error body cut by the deadline is no answer either.
      if (signal.aborted) throw signal.reason;
      if (!isSwarmError(error, ErrorCode.ERROR_CODE_RATE_LIMITED) || attempt >= retries || error.retryAfterMs > MAX_RETRY_WAIT_MS) throw error;
      await abortable(Math.max(error.retryAfterMs, 100), init.signal);
    }
  }

  async function readJson(res: Response, what: string, signal: AbortSignal): Promise<unknown> {
    try {
      return await res.json();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new AgentApiError('SWARM_MALFORMED_MESSAGE', `the agent API answered ${what} with something other than JSON`, res.status, false, { cause: err });
    }
  }

  /** A request and its JSON answer, both within the request's deadline. */
  async function sendForJson(method: string, path: string, init: Parameters<typeof send>[2], what = `${method} ${path}`): Promise<{ status: number; body: unknown }> {
    const sent = await send(method, path, init);
    try {
      return { status: sent.res.status, body: await readJson(sent.res, what, sent.signal) };
    } finally {
      sent.done();
    }
  }

  async function json(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    return (await sendForJson(method, path, body === undefined ? { signal } : { body: JSON.stringify(body), contentType: 'application/json', signal })).body;
  }

  /** JSON with base64 values, or a protobuf SubmitTaskRequest once the values would not fit a JSON body. */
  function taskBody(task: AgentTask, idempotencyKey: string): { body: string | Uint8Array; contentType: string } {
    const k = task.redundancy;
    if (k !== undefined && (!Number.isInteger(k) || k < 1 || k > TASK_MAX_REDUNDANCY)) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `redundancy must be a whole number from 1 to ${TASK_MAX_REDUNDANCY}, got ${String(k).slice(0, 20)}`);
    }
    const s = task.shards;
    if (s !== undefined && (!Number.isInteger(s) || s < 1 || s > TASK_MAX_SHARDS)) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `shards must be a whole number from 1 to ${TASK_MAX_SHARDS}, got ${String(s).slice(0, 20)}`);
    }
    const values = task.inputs.reduce((n, t) => n + checkedCount(t), 0);
    if (values <= JSON_BODY_MAX_VALUES) {
      return {
        contentType: 'application/json',
        body: JSON.stringify({
          skill: task.skill,
          inputs: task.inputs.map(inputToJson),
          ...(task.budget !== undefined ? { budget: String(task.budget) } : {}),
          ...(task.timeoutMs !== undefined ? { timeoutMs: task.timeoutMs } : {}),
          // Sent only when asked for: a server that predates the field refuses unknown ones.
          ...(task.redundancy !== undefined ? { redundancy: task.redundancy } : {}),
          ...(task.shards !== undefined ? { shards: task.shards } : {}),
          idempotencyKey,
        }),
      };
    }
    const req = SubmitTaskRequest.fromPartial({
      skill: task.skill,
      inputs: task.inputs.map((t: InputTensor) => toTensor(t.name, t.shape, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data))),
      budget: task.budget ?? 0n,
      timeoutMs: task.timeoutMs ?? 0,
      idempotencyKey,
      redundancy: task.redundancy ?? 0,
      shards: task.shards ?? 0,
    });
    return { contentType: PROTOBUF_MEDIA_TYPE, body: SubmitTaskRequest.encode(req).finish() };
  }

  const taskPath = (taskId: string) => `/v1/tasks/${encodeURIComponent(taskId)}`;

  const client: AgentClient = {
    baseUrl,
    skills: async (o = {}) => skillsFromJson(await json('GET', '/v1/skills', undefined, o.signal)),
    quote: async (skill, shapes, o = {}) => quoteFromJson(await json('POST', '/v1/quote', { skill, shapes: shapes.map((s) => ({ name: s.name, shape: [...s.shape] })) }, o.signal)),
    async submit(task, o = {}) {
      if (o.onEvent) {
        const { taskId } = await client.submitAsync(task, o);
        return client.wait(taskId, o);
      }
      const sent = await sendForJson(
        'POST',
        '/v1/tasks?encoding=base64',
        { ...taskBody(task, task.idempotencyKey ?? newKey()), signal: o.signal, taskTimeoutMs: task.timeoutMs ?? 0 },
        'POST /v1/tasks',
      );
      return resultFromJson(sent.body);
    },
    async submitAsync(task, o = {}) {
      const idempotencyKey = task.idempotencyKey ?? newKey();
      const sent = await sendForJson('POST', '/v1/tasks?async=true', { ...taskBody(task, idempotencyKey), signal: o.signal, taskTimeoutMs: task.timeoutMs ?? 0 });
      const body = sent.body as { taskId?: unknown } | null;
      if (typeof body?.taskId !== 'string') throw new AgentApiError('SWARM_MALFORMED_MESSAGE', 'the agent API accepted a task without naming its id', sent.status, false);
      return { taskId: body.taskId, idempotencyKey };
    },
    async *events(taskId, o = {}) {
      const { res, done } = await send('GET', `${taskPath(taskId)}/events?encoding=base64`, { accept: 'text/event-stream', signal: o.signal });
      // The stream lasts as long as the task: only its headers are bounded (api-svc ends it by MAX_STREAM_MS).
      done();
      if (!res.body) return;
      for await (const ev of readSse(res.body)) {
        if (ev.event === 'accepted' || ev.event === 'running') yield { type: ev.event, taskId };
        else if (ev.event === 'done' || ev.event === 'failed') {
          let parsed: unknown;
          try {
            parsed = JSON.parse(ev.data);
          } catch {
            throw new AgentApiError('SWARM_MALFORMED_MESSAGE', `the '${ev.event}' event of task ${taskId} is not JSON`, 0, false);
          }
          yield { type: ev.event, taskId, status: statusFromJson(parsed) };
          return;
        }
      }
    },
    async wait(taskId, o = {}) {
      for await (const ev of client.events(taskId, o)) {
        o.onEvent?.(ev);
        if (ev.type !== 'done' && ev.type !== 'failed') continue;
        const retryAfterMs = ev.status.result ? undefined : ev.status.resultRetryAfterMs;
        if (retryAfterMs === undefined) return outcomeOf(ev.status);
        // Held, but not attached to the event (the agent's result reads were spent): GET it once it may.
        await abortable(retryAfterMs, o.signal);
        return outcomeOf(await client.task(taskId, o));
      }
      // The stream ended first (the API is stopping, a proxy cut it): the task's status still tells.
      for (;;) {
        const status = await client.task(taskId, o);
        if (status.state !== 'TASK_STATE_RUNNING') return outcomeOf(status);
        await abortable(STATUS_POLL_MS, o.signal);
      }
    },
    task: async (taskId, o = {}) => statusFromJson(await json('GET', `${taskPath(taskId)}?encoding=base64`, undefined, o.signal)),
    balance: async (o = {}) => balanceFromJson(await json('GET', '/v1/balance', undefined, o.signal)),
    peers: async (o = {}) => peersFromJson(await json('GET', '/v1/peers', undefined, o.signal)),
  };
  return client;
}

/**
 * Why fetch reached nothing: the socket's errno, or fetch's own refusal of a port browsers block
 * (6000, 6665-6669, 10080…: the Fetch standard's "bad port"), which no retry or running node cures.
 */
function isBlockedPort(err: unknown): boolean {
  return (err as { cause?: { message?: unknown } }).cause?.message === 'bad port';
}

function unreachableWhy(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (isBlockedPort(err)) {
    return ": fetch refuses this port (the Fetch standard's blocked ports); serve the API on another (SWARM_HTTP_LISTEN)";
  }
  return `${typeof cause?.code === 'string' ? ` (${cause.code})` : ''}; is the node running?`;
}

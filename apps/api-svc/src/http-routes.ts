/**
 * The agent API's routes: skills, quotes, tasks (sync, async, status, events), balance, peers.
 * Each route validates (schema, then the shared tensor rules), calls the bus as api-svc, and
 * answers JSON in the schema's shape; errors go to the server's one error handler.
 */
import type { BusClient } from '@swarm/bus';
import type { FastifyRequest } from 'fastify';
import type { WallClock } from '@swarm/determinism';
import {
  CreditBalance,
  decodeTensors,
  ErrorCode,
  ExecutorSkills,
  isSwarmError,
  refuseOverfullTaskRequest,
  RegistryPeers,
  SubmitTaskRequest,
  SubmitTaskResponse,
  SwarmError,
  TaskState,
} from '@swarm/contracts';
import type { AgentTasks } from './agent-tasks';
import type { ApiServer } from './http-server';
import { agentOf, isMcpInnerCall, PROTOBUF_MEDIA_TYPE } from './http-server';
import { holdRequestBytesUntil, msSinceArrival } from './request-bytes';
import { HttpOnlyError } from './http-errors';
import type { AgentRecord } from './agent-rules';
import { tokenProblem } from './agent-rules';
import type { ResultForm, ResultReads } from './result-reads';
import type { SubmitBody, TaskStatus as TaskStatusJson } from './http-schemas';
import {
  Balance,
  Peers,
  Quote,
  QuoteBody,
  ResultQuery,
  Skills,
  SubmitBody as SubmitBodySchema,
  SubmitQuery,
  TaskAccepted,
  TaskIdParams,
  TaskResult,
  TaskStatus,
  withErrors,
} from './http-schemas';
import { priceTask, quoteJson, skillsJson } from './skill-catalog';
import type { EventStreams } from './task-events';
import type { TaskInput } from './task-input';
import { taskFromJson, taskFromProtobuf, taskResultJson } from './task-input';
import { heldResult, jobStatus, routerStatus } from './task-status';
import { resultAnswerText } from './result-json';

/** What the JSON answers built as text are sent as. */
const JSON_MEDIA_TYPE = 'application/json; charset=utf-8';

/** Event streams one agent may hold open at once. */
export const MAX_STREAMS_PER_AGENT = 16;

export interface RouteDeps {
  bus: BusClient;
  tasks: AgentTasks;
  streams: EventStreams;
  /** What reading a held result back costs an agent (result-reads.ts). */
  resultReads: ResultReads;
  /** For a token's expiry, checked again once a task's body is in. */
  clock: WallClock;
}

/** How a status carries a result to this request's client, and what that costs (result-reads.ts). */
interface ResultAnswer {
  readonly encoding: 'json' | 'base64';
  readonly form: ResultForm;
}

/** `?encoding=base64` or numbers; the MCP endpoint's own calls are charged for what MCP builds of them too. */
function answerOf(request: FastifyRequest, query: ResultQuery): ResultAnswer {
  const encoding = query.encoding ?? 'json';
  return { encoding, form: isMcpInnerCall(request) ? 'mcp' : encoding === 'base64' ? 'bytes' : 'json' };
}

function unknownTask(id: string): HttpOnlyError {
  return new HttpOnlyError(404, 'SWARM_TASK_UNKNOWN', `this agent has no task ${id}`);
}

function decodeProtobuf(body: Buffer): TaskInput {
  refuseOverfullTaskRequest(body);
  let req: SubmitTaskRequest;
  try {
    req = SubmitTaskRequest.decode(body);
  } catch {
    throw new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, 'the body is not a protobuf swarm.v1.SubmitTaskRequest');
  }
  return taskFromProtobuf(req);
}

export function registerRoutes(app: ApiServer, deps: RouteDeps): void {
  const { bus, tasks, streams, resultReads, clock } = deps;
  const streamsOf = new Map<string, number>();

  /**
   * What GET /v1/tasks/:id answers, and the event stream's last event: the router's record (or the
   * ledger's), else the API's own for a task it holds (the router does not know it yet, cannot be
   * asked, or still says running when the API's record has its answer). A task whose answer the API
   * gave up waiting for is the router's: running while it runs (helper-178: it read ended, then was paid).
   */
  async function statusOf(agent: AgentRecord, id: string): Promise<TaskStatusJson> {
    const job = tasks.get(agent, id);
    let fromRouter;
    try {
      fromRouter = await tasks.status(agent, id);
    } catch (err) {
      // This API's record, unless it ended without the router's answer: then nothing is known (helper-179).
      if (job && (job.state === 'running' || job.answered)) return jobStatus(job);
      throw err;
    }
    if (fromRouter.state === TaskState.TASK_STATE_UNKNOWN || fromRouter.state === TaskState.TASK_STATE_UNSPECIFIED) {
      if (job) return jobStatus(job);
      throw unknownTask(id);
    }
    return job && job.answered && fromRouter.state === TaskState.TASK_STATE_RUNNING ? jobStatus(job) : routerStatus(fromRouter);
  }

  /**
   * `status` with task `id`'s held result attached, charged to the agent first (result-reads.ts: a
   * later delivery past its rate is RATE_LIMITED): the JSON text to send, written a chunk at a time
   * (result-json.ts), or the status with its result as base64 (a native copy: no chunks needed), or
   * `status` itself when no result is held.
   */
  async function withResult(agent: AgentRecord, id: string, status: TaskStatusJson, answer: ResultAnswer): Promise<TaskStatusJson | string> {
    const held = heldResult(tasks.get(agent, id));
    if (!held) return status;
    resultReads.charge(agent.name, id, held, answer.form);
    if (answer.encoding === 'base64') return { ...status, result: taskResultJson(held, 'base64') };
    return resultAnswerText(held, (result) => ({ ...status, result }));
  }

  /** An event stream's last status: with its result, or, past the agent's rate, without it and when to GET it. */
  async function withResultOrRetry(agent: AgentRecord, id: string, status: TaskStatusJson, answer: ResultAnswer): Promise<TaskStatusJson | string> {
    try {
      return await withResult(agent, id, status, answer);
    } catch (err) {
      if (!isSwarmError(err) || err.code !== ErrorCode.ERROR_CODE_RATE_LIMITED) throw err;
      const note = `result not attached: ${err.message}; GET /v1/tasks/${id} for it in ${err.retryAfterMs ?? 0} ms`;
      return { ...status, note: status.note ? `${status.note}; ${note}` : note, resultRetryAfterMs: err.retryAfterMs ?? 0 };
    }
  }

  app.get('/v1/skills', { schema: { summary: 'Skills this node runs: input and output shapes, prices, verification bounds', response: withErrors({ 200: Skills }) } }, async () =>
    skillsJson(await bus.request(ExecutorSkills, {})),
  );

  app.post('/v1/quote', { schema: { summary: 'The price of a task with these input shapes', body: QuoteBody, response: withErrors({ 200: Quote }) } }, (request) =>
    quoteJson(request.body),
  );

  app.post(
    '/v1/tasks',
    {
      schema: {
        summary: 'Run a task paid from this agent’s account: synchronous (200, the verified result) or ?async=true (202, its id)',
        description: `JSON, or a protobuf swarm.v1.SubmitTaskRequest as ${PROTOBUF_MEDIA_TYPE} for large tensors (its account and task_id are ignored). Send Accept: ${PROTOBUF_MEDIA_TYPE} for a protobuf SubmitTaskResponse.`,
        querystring: SubmitQuery,
        body: { content: { 'application/json': { schema: SubmitBodySchema }, [PROTOBUF_MEDIA_TYPE]: { schema: { description: 'swarm.v1.SubmitTaskRequest bytes' } } } },
        response: withErrors({ 200: TaskResult, 202: TaskAccepted }),
      },
    },
    async (request, reply) => {
      const agent = agentOf(request);
      const body: unknown = request.body;
      if (!Buffer.isBuffer(body) && (typeof body !== 'object' || body === null)) {
        throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `send the task as application/json or ${PROTOBUF_MEDIA_TYPE}`);
      }
      const input = Buffer.isBuffer(body) ? decodeProtobuf(body) : taskFromJson(body as SubmitBody);
      // The token was checked when the headers came; a body that took until after its expiry does not run.
      const expired = tokenProblem(agent, clock.now());
      if (expired) throw new SwarmError(ErrorCode.ERROR_CODE_UNAUTHENTICATED, expired);
      // No budget: the quoted price (times the replicas of a redundant task), exactly what the router will ask.
      const budget = input.budget > 0n ? input.budget : priceTask(input.skill, decodeTensors(input.inputs)).price * BigInt(Math.max(1, input.redundancy));
      // The deadline counts from the task's arrival (reading and checking a large body takes time
      // too); its inputs stay counted against the request-bytes budget until it ends.
      const { job, joined } = tasks.submit(agent, input, budget, msSinceArrival(request));
      if (!joined) holdRequestBytesUntil(request, job.ended);
      if (request.query.async === 'true') {
        const path = `/v1/tasks/${job.taskId}`;
        return reply.code(202).send({ taskId: job.taskId, idempotencyKey: job.idempotencyKey, status: path, events: `${path}/events` });
      }
      await job.ended;
      if (job.state === 'failed' && job.error) throw job.error;
      // A retry that joined the task gets its answer marked, as the router marks a recorded one.
      // The key it ran under from the API's own record (a router from before keys in replies sends '').
      const held = { ...(job.result as SubmitTaskResponse), idempotencyKey: job.idempotencyKey };
      const res = joined ? { ...held, replayed: true } : held;
      const protobuf = (request.headers.accept ?? '').includes(PROTOBUF_MEDIA_TYPE);
      const { encoding, form } = answerOf(request, request.query);
      // The first answer carrying it is never refused; a retry joining the task past the agent's rate is.
      resultReads.charge(agent.name, job.taskId, held, protobuf && form === 'json' ? 'bytes' : form);
      if (protobuf) return reply.type(PROTOBUF_MEDIA_TYPE).send(Buffer.from(SubmitTaskResponse.encode(res).finish()));
      if (encoding === 'base64') return reply.send(taskResultJson(res, encoding));
      // Numbers: written a chunk at a time (result-json.ts), and sent as it is.
      return reply.type(JSON_MEDIA_TYPE).send(await resultAnswerText(res));
    },
  );

  app.get(
    '/v1/tasks/:id',
    {
      schema: {
        summary: 'What became of a task, with its result while the API holds it',
        params: TaskIdParams,
        querystring: ResultQuery,
        response: withErrors({ 200: TaskStatus }),
      },
    },
    async (request, reply) => {
      const agent = agentOf(request);
      const status = await statusOf(agent, request.params.id);
      // HEAD (fastify's, from this GET) sends no body: the status alone, no result built or charged.
      if (request.method === 'HEAD') return status;
      const answer = await withResult(agent, request.params.id, status, answerOf(request, request.query));
      // JSON text already written is sent as it is.
      return typeof answer === 'string' ? reply.type(JSON_MEDIA_TYPE).send(answer) : answer;
    },
  );

  app.get(
    '/v1/tasks/:id/events',
    {
      schema: {
        summary: 'A task’s progress as server-sent events: accepted, running, then done or failed (each with the status JSON)',
        params: TaskIdParams,
        querystring: ResultQuery,
        produces: ['text/event-stream'],
        response: withErrors({}),
      },
      // A stream has no headers apart from its body worth asking for: HEAD is 405, not a stream held open.
      exposeHeadRoute: false,
    },
    async (request, reply) => {
      const agent = agentOf(request);
      const id = request.params.id;
      const open = streamsOf.get(agent.name) ?? 0;
      if (open >= MAX_STREAMS_PER_AGENT) {
        throw new SwarmError(ErrorCode.ERROR_CODE_RATE_LIMITED, `at most ${MAX_STREAMS_PER_AGENT} event streams per agent at once`, true, { retryAfterMs: 1_000 });
      }
      // Counted before the router is asked: requests waiting on it hold their slots too.
      streamsOf.set(agent.name, open + 1);
      try {
        const job = tasks.get(agent, id);
        let source: Parameters<EventStreams['stream']>[2];
        // Once the API's record has seen it end, the last event says what GET would.
        // The last event carries the result when the agent's result reads allow it, else says where to get it.
        if (job) {
          const answer = answerOf(request, request.query);
          source = { kind: 'job', job, final: () => statusOf(agent, id), attach: (status) => withResultOrRetry(agent, id, status, answer) };
        } else {
          const poll = async () => routerStatus(await tasks.status(agent, id));
          const first = await tasks.status(agent, id);
          if (first.state === TaskState.TASK_STATE_UNKNOWN || first.state === TaskState.TASK_STATE_UNSPECIFIED) throw unknownTask(id);
          source = { kind: 'router', first: routerStatus(first), poll };
        }
        reply.hijack();
        await streams.stream(reply.raw, id, source);
      } finally {
        const left = (streamsOf.get(agent.name) ?? 1) - 1;
        if (left > 0) streamsOf.set(agent.name, left);
        else streamsOf.delete(agent.name);
      }
    },
  );

  app.get('/v1/balance', { schema: { summary: 'This agent’s credit: available, escrowed, budget, spent, tasks', response: withErrors({ 200: Balance }) } }, async (request) => {
    const agent = agentOf(request);
    // Spend and tasks are the ledger's (agent-rules.ts AgentLedger): a task is an escrow the account reserved.
    const balance = await bus.request(CreditBalance, { account: agent.account });
    return {
      account: agent.account,
      available: String(balance.available),
      escrowed: String(balance.escrowed),
      budget: String(agent.budget),
      spent: String(balance.spent),
      tasks: String(balance.reserves),
    };
  });

  app.get('/v1/peers', { schema: { summary: "The peer nodes this node's registry knows on the DHT", response: withErrors({ 200: Peers }) } }, async () => {
    const res = await bus.request(RegistryPeers, {});
    return { peers: res.peers.map((p) => ({ nodeId: p.nodeId, address: p.address, rttMs: p.rttMs, lastSeenMs: String(p.lastSeenMs) })) };
  });
}

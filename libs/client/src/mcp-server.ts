/**
 * The node's MCP server (official @modelcontextprotocol/sdk), one definition for both transports:
 * `swarm mcp` (stdio) and api-svc's streamable HTTP endpoint (/mcp). Its tools call the agent HTTP
 * API through the SDK's client as one agent (its token), so MCP can do exactly what that agent may
 * over HTTP: list_skills, quote_task, submit_task, get_task, get_balance, list_peers; the skill
 * catalogue is the resource `swarm://skills`.
 *
 * A tool's failure is a result with `isError: true` whose text starts with the `SWARM_*` code (the
 * same code the HTTP API or the bus would give); an unknown tool is a JSON-RPC error (-32602).
 * submit_task sends progress notifications while the task runs when the caller asked for them
 * (a progressToken); a cancelled call stops waiting, while the task itself ends on the node.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import {
  CallToolRequestSchema,
  ErrorCode as McpErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { isSwarmError } from '@swarm/contracts';
import type { SkillSpec } from '@swarm/skills';
import { listSkills } from '@swarm/skills';
import type { Logger } from '@swarm/telemetry';
import { silentLogger } from '@swarm/telemetry';
import type { AgentClient } from './agent-client';
import type { TaskResult } from './agent-api-types';
import { capText } from './api-error';
import type { JsonObject } from './mcp-json';
import { balanceJson, MCP_MAX_RESULT_VALUES, peersJson, quoteJson, resultJson, skillsJson, statusJson } from './mcp-json';
import type { ToolArgChecker, ToolArgs, ToolName } from './mcp-tool-args';
import { createToolArgChecker, quoteArgs, taskArgs } from './mcp-tool-args';
import type { SkillInputDecl, ToolSchemas } from './mcp-tool-schemas';
import { skillInputs, toolSchemas } from './mcp-tool-schemas';

export const MCP_SERVER_NAME = 'swarmharness';
export const SKILLS_RESOURCE_URI = 'swarm://skills';
/** While a task runs, a progress notification at least this often (a caller sees it is alive). */
export const PROGRESS_HEARTBEAT_MS = 1_000;
export const INTERNAL_TOOL_MESSAGE = 'internal error; details are in the server log';

export interface SwarmMcpOptions {
  /** The server's version in `initialize`. */
  readonly version: string;
  readonly log?: Logger;
  /** Skills whose schemas the tools carry; default this build's catalog (libs/skills). */
  readonly skills?: readonly SkillSpec[];
  readonly progressHeartbeatMs?: number;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

interface ToolDef {
  readonly name: ToolName;
  readonly title: string;
  readonly description: string;
  readonly readOnly: boolean;
  run(args: ToolArgs, extra: Extra): Promise<JsonObject>;
}

/** A server for one agent's client; `log` defaults to the options'. */
export type SwarmMcpServerFactory = (api: AgentClient, log?: Logger) => Server;

export function createSwarmMcpServer(api: AgentClient, opts: SwarmMcpOptions): Server {
  return swarmMcpServerFactory(opts)(api);
}

/**
 * Servers sharing one set of schemas and compiled validators (~15 ms to build): the HTTP endpoint
 * makes a server per request.
 */
export function swarmMcpServerFactory(opts: SwarmMcpOptions): SwarmMcpServerFactory {
  const skills = opts.skills ?? listSkills();
  const schemas = toolSchemas(skills);
  const inputs = skillInputs(skills);
  const checker = createToolArgChecker(schemas);
  const heartbeatMs = opts.progressHeartbeatMs ?? PROGRESS_HEARTBEAT_MS;
  return (api, log = opts.log ?? silentLogger()) => serverFor(api, { version: opts.version, log, schemas, inputs, checker, heartbeatMs });
}

interface ServerParts {
  readonly version: string;
  readonly log: Logger;
  readonly schemas: ToolSchemas;
  readonly inputs: ReadonlyMap<string, readonly SkillInputDecl[]>;
  readonly checker: ToolArgChecker;
  readonly heartbeatMs: number;
}

function serverFor(api: AgentClient, parts: ServerParts): Server {
  const { log, schemas, inputs, checker, heartbeatMs } = parts;

  async function submit(args: ToolArgs, extra: Extra): Promise<JsonObject> {
    const task = taskArgs(args, inputs);
    const progressToken = extra._meta?.progressToken;
    if (progressToken === undefined) return summary(await api.submit(task, { signal: extra.signal }));
    let progress = 0;
    const notify = (message: string): Promise<void> => {
      progress += 1;
      // A lost notification must not fail the task's call.
      return extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } }).catch(() => undefined);
    };
    const { taskId } = await api.submitAsync(task, { signal: extra.signal });
    void notify(`accepted: ${taskId}`);
    const started = Date.now();
    const heartbeat = setInterval(() => void notify(`running for ${Math.round((Date.now() - started) / 1000)} s`), heartbeatMs);
    try {
      const result = await api.wait(taskId, { signal: extra.signal, onEvent: (e) => e.type === 'running' && void notify('running on the node') });
      // Awaited: a notification sent after the result is dropped by the caller.
      const paidTo = result.contributions?.length ? `${result.contributions.filter((c) => c.paid > 0n).length} providers` : `${result.providerId.slice(0, 16)}…`;
      await notify(`done: verified (${result.verification.split(':')[0]}), paid ${result.cost} credits to ${paidTo}`);
      return summary(result);
    } finally {
      clearInterval(heartbeat);
    }
  }

  const tools: readonly ToolDef[] = [
    {
      name: 'list_skills',
      title: 'List skills',
      description: "Skills this node runs: each skill's input and output shapes, price per million work units, and how its results are verified.",
      readOnly: true,
      run: async (_args, extra) => skillsJson(await api.skills({ signal: extra.signal })),
    },
    {
      name: 'quote_task',
      title: 'Quote a task',
      description: 'The price in credits of running a skill on inputs of these shapes (what submit_task will escrow), before sending any data.',
      readOnly: true,
      run: async (args, extra) => {
        const q = quoteArgs(args, inputs);
        return quoteJson(await api.quote(q.skill, q.shapes, { signal: extra.signal }));
      },
    },
    {
      name: 'submit_task',
      title: 'Run a task',
      description:
        "Runs a skill on the swarm, paid from this agent's account, and returns the verified result with its cost, how it was verified and which node ran it (providerId). " +
        'With redundancy K (2-5), K different nodes run it, their results must agree, and each replica is listed in contributions (counted, paid, share). ' +
        'A matmul with shards S (2-16) is split into S row blocks run on different nodes, each verified; shards lists who computed each block, contributions what each node was paid. ' +
        'Sends progress notifications while it runs when the call has a progressToken. Never runs or charges a task twice for the same idempotencyKey. ' +
        `A result of more than ${MCP_MAX_RESULT_VALUES} values comes with its output shapes only; outputsNote says where to fetch the values.`,
      readOnly: false,
      run: submit,
    },
    {
      name: 'get_task',
      title: 'Get a task',
      description:
        'What became of a task (running, paid, refunded or rejected), its cost and error, and its result while the node still holds it (about 10 minutes); ' +
        `a result of more than ${MCP_MAX_RESULT_VALUES} values with its output shapes only, as submit_task answers it.`,
      readOnly: true,
      run: async (args, extra) => statusJson(await api.task(args['taskId'] as string, { signal: extra.signal })),
    },
    {
      name: 'get_balance',
      title: 'Get the balance',
      description: "This agent's credit: available, escrowed (held for running tasks), budget, spent, and tasks run.",
      readOnly: true,
      run: async (_args, extra) => balanceJson(await api.balance({ signal: extra.signal })),
    },
    {
      name: 'list_peers',
      title: 'List peers',
      description: 'The peer nodes this node knows on the swarm (node id, address, round trip, last seen).',
      readOnly: true,
      run: async (_args, extra) => peersJson(await api.peers({ signal: extra.signal })),
    },
  ];
  const byName = new Map<string, ToolDef>(tools.map((t) => [t.name, t]));

  const server = new Server(
    { name: MCP_SERVER_NAME, version: parts.version },
    {
      capabilities: { tools: {}, resources: {} },
      instructions:
        'Hire verified compute from a SwarmHarness node as one agent with its own credit budget. list_skills or the swarm://skills resource say what runs and what it costs; ' +
        'quote_task prices a task; submit_task runs it and returns the verified result; get_balance shows what is left.',
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: tools.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: schemas[t.name] as { type: 'object'; [key: string]: unknown },
      annotations: { title: t.title, readOnlyHint: t.readOnly, idempotentHint: t.readOnly, openWorldHint: true },
    })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = byName.get(request.params.name);
    if (!tool) throw new McpError(McpErrorCode.InvalidParams, `unknown tool '${capText(request.params.name, 64)}'; tools/list names them`);
    try {
      const args = checker.check(tool.name, request.params.arguments ?? {});
      const out = await tool.run(args, extra);
      return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
    } catch (err) {
      // A cancelled call gets no answer (the SDK drops it); nothing failed.
      if (extra.signal.aborted) return { content: [{ type: 'text', text: 'cancelled' }], isError: true };
      return toolError(err, tool.name, log);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: [
      {
        uri: SKILLS_RESOURCE_URI,
        name: 'skills',
        title: 'Skill catalogue',
        description: "The skills this node runs: inputs and outputs, prices, verification and its bounds, and the node's size limit.",
        mimeType: 'application/json',
      },
    ],
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    if (request.params.uri !== SKILLS_RESOURCE_URI) {
      throw new McpError(McpErrorCode.InvalidParams, `unknown resource '${capText(request.params.uri, 64)}'; resources/list names them`);
    }
    let catalogue: JsonObject;
    try {
      catalogue = skillsJson(await api.skills({ signal: extra.signal }));
    } catch (err) {
      throw new McpError(McpErrorCode.InternalError, isSwarmError(err) ? `${err.codeName}: ${capText(err.message)}` : INTERNAL_TOOL_MESSAGE);
    }
    return { contents: [{ uri: SKILLS_RESOURCE_URI, mimeType: 'application/json', text: JSON.stringify(catalogue, null, 2) }] };
  });

  return server;
}

/**
 * What submit_task answers: the result, what it cost and who was paid (`paidTo`: the provider, or
 * for a redundant or sharded task the providers paid, comma-separated, with each replica or
 * provider in `contributions` and a sharded task's row blocks in `shards`),
 * how it was verified.
 */
function summary(result: TaskResult): JsonObject {
  const replicas = result.contributions ?? [];
  if (replicas.length === 0) return { ...resultJson(result), paidTo: result.providerId };
  return {
    ...resultJson(result),
    paidTo: replicas
      .filter((c) => c.paid > 0n)
      .map((c) => c.providerId)
      .join(', '),
    contributions: replicas.map((c) => ({ ...c, paid: String(c.paid) })),
    ...(result.shards ? { shards: result.shards.map((s) => ({ ...s })) } : {}),
  };
}

function toolError(err: unknown, tool: string, log: Logger): CallToolResult {
  let code: string;
  let message: string;
  let retryable = false;
  if (isSwarmError(err)) {
    code = err.codeName;
    message = code === 'SWARM_INTERNAL' ? INTERNAL_TOOL_MESSAGE : capText(err.message);
    retryable = err.retryable;
  } else {
    log.error({ err, tool }, 'MCP tool failed unexpectedly');
    code = 'SWARM_INTERNAL';
    message = INTERNAL_TOOL_MESSAGE;
  }
  const error = { code, message, retryable };
  return { content: [{ type: 'text', text: `${code}: ${message}` }], structuredContent: { error }, isError: true };
}

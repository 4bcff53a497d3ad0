/**
 * MCP over streamable HTTP at /mcp, on the agent API's own server: the same MCP server as `swarm
 * mcp` (@swarm/client createSwarmMcpServer), authenticated by the API's bearer token (the server's
 * onRequest hook, before the body is read) and acting as that agent through the API itself on
 * loopback, so MCP can do exactly what the agent's token can over HTTP, with the same checks,
 * limits and codes.
 *
 * The rate limit counts tool calls, not requests: the server's hook took one token for the POST, and
 * a JSON-RPC batch (protocol versions before 2025-06-18 allow them) takes one more per further
 * message, or is refused whole. So is a batch holding a message the MCP server must not see
 * (@swarm/client mcp-request-checks.ts): each of its requests is answered with an error.
 *
 * Stateless (MCP spec 2025-06-18, streamable HTTP): every POST carries whole JSON-RPC messages and
 * gets a fresh server; its answer is an SSE stream when the call sends progress notifications, so
 * no session is kept between requests. GET (a standalone stream) and DELETE (ending a session)
 * have nothing to serve: 405, as the spec allows.
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { SwarmMcpServerFactory } from '@swarm/client';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { createAgentClient, mcpBatchProblems, mcpRequestProblem, swarmMcpServerFactory } from '@swarm/client';
import type { Logger } from '@swarm/telemetry';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from './agent-token';
import type { ApiServer } from './http-server';
import type { AgentRateLimiter } from './token-bucket';
import { rateLimited } from './token-bucket';
import { agentOf, INNER_CALL_HEADER } from './http-server';

export const MCP_PATH = '/mcp';
const PROTOCOL_VERSION_HEADER = 'mcp-protocol-version';
/** A protocol version is a date, 2025-06-18; the SDK quotes a header it does not know back whole. */
const MAX_PROTOCOL_VERSION_CHARS = 32;

/** Refuses an Mcp-Protocol-Version header no version could be (the SDK would answer it quoted whole, helper-178). */
function checkProtocolVersionHeader(value: string | string[] | undefined): void {
  if (value === undefined || (typeof value === 'string' && value.length <= MAX_PROTOCOL_VERSION_CHARS)) return;
  throw new SwarmError(
    ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    `the Mcp-Protocol-Version header is one protocol version such as 2025-06-18 (at most ${MAX_PROTOCOL_VERSION_CHARS} characters); this one ${Array.isArray(value) ? `came ${value.length} times` : `has ${value.length}`}`,
  );
}

export interface McpRouteDeps {
  /** The API's own base URL, e.g. http://127.0.0.1:8080 (known once it listens). */
  selfUrl(): string;
  /** Sent as INNER_CALL_HEADER on the API calls made for an MCP request, whose rate was counted already (their bytes are counted). */
  innerCallSecret: string;
  version: string;
  /** The server's limiter (http-server.ts), and its limits for the messages it sends back. */
  limiter: AgentRateLimiter;
  limits: { readonly ratePerSecond: number; readonly burst: number };
  log: Logger;
}

/** A listening address as a URL this process can dial: a wildcard bind is reached on loopback. */
export function loopbackUrl(httpAddress: string): string {
  const address = httpAddress.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
  return `http://${address}`;
}

const METHOD_NOT_ALLOWED = JSON.stringify({
  jsonrpc: '2.0',
  error: { code: -32000, message: 'method not allowed: this MCP endpoint is stateless; POST JSON-RPC messages to /mcp' },
  id: null,
});

export function registerMcpRoutes(app: ApiServer, deps: McpRouteDeps): void {
  const { log } = deps;
  // Built on the first MCP request: a node whose agents never use MCP never loads it.
  let serverFor: SwarmMcpServerFactory | undefined;
  const innerFetch: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set(INNER_CALL_HEADER, deps.innerCallSecret);
    return fetch(input, { ...init, headers });
  };

  async function post(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const agent = agentOf(request);
    checkProtocolVersionHeader(request.headers[PROTOCOL_VERSION_HEADER]);
    chargeBatch(agent.name, request.body);
    const refused = refusedMessages(request.body);
    if (refused) {
      await reply.code(refused.status).type('application/json').send(JSON.stringify(refused.answer));
      return;
    }
    // The hook accepted this header, so it holds a token.
    const bearer = bearerToken(request.headers.authorization);
    const token = 'token' in bearer ? bearer.token : '';
    const api = createAgentClient({ baseUrl: deps.selfUrl(), token, fetch: innerFetch });
    serverFor ??= swarmMcpServerFactory({ version: deps.version, log });
    const server = serverFor(api, log.child({ agent: agent.name }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: false });
    reply.hijack();
    // The client leaving (or the answer being sent) ends this request's server: a task it started runs on in the API.
    reply.raw.on('close', () => {
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (err) {
      log.error({ err, agent: agent.name }, 'MCP request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error; details are in the node log' }, id: null }));
      } else if (!reply.raw.writableEnded) reply.raw.end();
    }
  }

  /**
   * What JSON-RPC requires of an empty batch (one Invalid Request answer; the transport took it as
   * nothing to do), and the answers to messages the server must not see (mcpRequestProblem): a batch
   * holding any such message runs none of it, and each of its requests is answered (mcpBatchProblems).
   */
  function refusedMessages(body: unknown): { status: number; answer: unknown } | undefined {
    if (Array.isArray(body) && body.length === 0) {
      return { status: 400, answer: { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: an empty batch' } } };
    }
    if (Array.isArray(body)) {
      const answers = mcpBatchProblems(body);
      return answers && { status: 200, answer: answers };
    }
    const problem = mcpRequestProblem(body);
    return problem && { status: problem.error.code === -32600 ? 400 : 200, answer: problem };
  }

  /** A batch's messages after the first, each a request the rate limit counts (the hook counted the first). */
  function chargeBatch(agent: string, body: unknown): void {
    if (!Array.isArray(body) || body.length <= 1) return;
    const { burst } = deps.limits;
    if (body.length > burst) {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `a JSON-RPC batch of ${body.length} messages: this agent token may send at most ${burst} at once`);
    }
    const waitMs = deps.limiter.take(agent, body.length - 1);
    if (waitMs > 0) throw rateLimited(deps.limits, waitMs, 'a batch counts each message, ');
  }

  // Answered from onRequest, after the server's authentication hook: before fastify would parse a
  // body (a DELETE with `content-type: application/json` and none would be MALFORMED, not 405).
  async function notAllowed(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    agentOf(request);
    // Returning the reply ends the request here (fastify's way to answer from an async hook).
    return reply.code(405).header('allow', 'POST').type('application/json').send(METHOD_NOT_ALLOWED);
  }
  const unreachable = (): never => {
    throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'an /mcp GET or DELETE passed its 405 hook');
  };

  const summary = 'MCP over streamable HTTP (stateless): JSON-RPC 2.0 messages; tools list_skills, quote_task, submit_task, get_task, get_balance, list_peers';
  app.post(
    MCP_PATH,
    { schema: { summary, description: 'Send `Accept: application/json, text/event-stream`; the answer is JSON or an SSE stream (progress, then the result).' } },
    post,
  );
  app.get(MCP_PATH, { schema: { summary: 'No standalone stream (stateless): 405' }, onRequest: notAllowed }, unreachable);
  app.delete(MCP_PATH, { schema: { summary: 'No session to end (stateless): 405' }, onRequest: notAllowed }, unreachable);
}

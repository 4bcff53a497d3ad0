/**
 * `swarm mcp`: the node's MCP server on stdio, for an MCP client that starts it (Claude Desktop, an
 * agent framework). A thin client of the node's agent HTTP API, acting as the agent whose token is
 * in SWARM_AGENT_TOKEN: the API is found by --api-url, SWARM_API_URL, then the running node's
 * node.json (httpAddress). stdout carries only JSON-RPC; anything for people goes to stderr. Runs
 * until the client closes stdin.
 */
import { createAgentClient, createSwarmMcpServer, mcpRequestProblem } from '@swarm/client';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Readable, Writable } from 'node:stream';
import { agentApiUrl, agentToken } from '../agent-mode';
import type { NodeTarget } from '../node-file';

export const CLI_VERSION = '0.1.0';
/** A JSON-RPC line larger than this ends the session (the SDK's reader gives up on it), SWARM_PAYLOAD_TOO_LARGE; a 2M-value task fits. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export type McpOptions = Pick<NodeTarget, 'dataDir' | 'node' | 'apiUrl'>;

/** JSON-RPC 2.0 §5.1: a line that is not a JSON-RPC message gets Parse error (-32700) with a null id. */
function parseErrorReply(err: Error): JSONRPCMessage | undefined {
  if (!(err instanceof SyntaxError) && err.name !== 'ZodError') return undefined;
  const message = err instanceof SyntaxError ? 'Parse error: the line is not JSON' : 'Invalid Request: the line is not a JSON-RPC 2.0 message';
  return { jsonrpc: '2.0', id: null, error: { code: err instanceof SyntaxError ? -32700 : -32600, message } } as unknown as JSONRPCMessage;
}

/** Where the session's JSON-RPC lines come from and go, and the longest line taken (tests pass their own). */
export interface McpStdio {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly maxMessageBytes: number;
}

export async function mcpCommand(
  opts: McpOptions,
  env: NodeJS.ProcessEnv = process.env,
  stdio: McpStdio = { stdin: process.stdin, stdout: process.stdout, maxMessageBytes: MAX_MESSAGE_BYTES },
): Promise<void> {
  const { stdin, stdout, maxMessageBytes } = stdio;
  // The same token and URL rules as the task commands acting as an agent (agent-mode.ts).
  const token = agentToken(env);
  const baseUrl = await agentApiUrl(opts, env);
  const server = createSwarmMcpServer(createAgentClient({ baseUrl, token }), { version: CLI_VERSION });
  const transport = new StdioServerTransport(stdin, stdout, { maxBufferSize: maxMessageBytes });
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
  });
  let overflowed = false;
  server.onerror = (err) => {
    const reply = parseErrorReply(err);
    if (reply) void transport.send(reply).catch(() => undefined);
    // The SDK's reader gives up on a line past its limit and closes the session: an error, not a normal end.
    else if (err.message.startsWith('ReadBuffer exceeded')) overflowed = true;
    else process.stderr.write(`swarm mcp: ${err.message.slice(0, 300)}\n`);
  };
  await server.connect(transport);
  const pending = trackPending(transport);
  answerProblemsFirst(transport);
  process.stderr.write(`swarm mcp: serving MCP on stdio for the agent API at ${baseUrl}\n`);
  // The client ending the session closes stdin; the SDK's transport does not watch for that itself.
  // Calls read before the end are answered first: a task piped in runs, is paid, and says so.
  stdin.once('end', () => void pending.answered(END_WAIT_MS).finally(() => void server.close()));
  await closed;
  if (overflowed) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
      `a JSON-RPC line longer than ${maxMessageBytes} bytes ended the session (send large tensors over the HTTP API as protobuf)`,
    );
  }
}

/** A message the server must not see (@swarm/client mcpRequestProblem) is answered here, in its place. */
function answerProblemsFirst(transport: StdioServerTransport): void {
  const read = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    const problem = mcpRequestProblem(message);
    if (problem) void transport.send(problem as unknown as JSONRPCMessage).catch(() => undefined);
    else read?.(message);
  };
}

/** The longest task deadline and some: past it a call still unanswered at stdin's end is given up. */
const END_WAIT_MS = 130_000;

/**
 * The requests read and not answered yet (wrapping the transport after the server connected it); a
 * request the client cancelled (`notifications/cancelled`) gets no answer and is no longer waited
 * for. `answered` waits at most `maxMs`.
 */
function trackPending(transport: StdioServerTransport): { answered(maxMs: number): Promise<void> } {
  const open = new Set<string | number>();
  let wake: (() => void) | undefined;
  const settle = (id: unknown) => {
    if ((typeof id === 'string' || typeof id === 'number') && open.delete(id) && open.size === 0) wake?.();
  };
  const read = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    if ('method' in message && 'id' in message) open.add(message.id);
    else if ('method' in message && message.method === 'notifications/cancelled') settle((message.params as { requestId?: unknown } | undefined)?.requestId);
    read?.(message);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage) => {
    try {
      await send(message);
    } finally {
      if (('result' in message || 'error' in message) && 'id' in message) settle(message.id);
    }
  };
  return {
    answered: (maxMs) =>
      open.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, maxMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          }),
  };
}

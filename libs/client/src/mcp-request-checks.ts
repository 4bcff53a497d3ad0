/**
 * JSON-RPC messages the MCP server would answer badly, answered here instead, by both transports
 * (`swarm mcp` on stdio, api-svc's /mcp). The SDK parses a request against its schema before any
 * handler runs, and a request that fails it (a `tools/call` without params) came back as an
 * internal error (-32603) carrying the schema library's whole dump; an id is echoed in its answer,
 * so a megabyte id made a megabyte answer.
 */
import type * as McpTypes from '@modelcontextprotocol/sdk/types.js';

/** The requests this server answers (the SDK's own: initialize, ping; ours: mcp-server.ts), each with the schema the SDK parses it against. */
type RequestSchema = { safeParse(value: unknown): { success: boolean } };
let requestSchemas: Readonly<Record<string, RequestSchema>> | undefined;
/** Loaded on first use, as the MCP server is (mcp-server-loader.ts): every CLI command loads this library. */
function schemas(): Readonly<Record<string, RequestSchema>> {
  if (requestSchemas) return requestSchemas;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  const t = require('@modelcontextprotocol/sdk/types.js') as typeof McpTypes;
  requestSchemas = {
    initialize: t.InitializeRequestSchema,
    ping: t.PingRequestSchema,
    'tools/list': t.ListToolsRequestSchema,
    'tools/call': t.CallToolRequestSchema,
    'resources/list': t.ListResourcesRequestSchema,
    'resources/read': t.ReadResourceRequestSchema,
  };
  return requestSchemas;
}

/** The longest request id answered as sent (JSON-RPC ids are small: counters, uuids). */
export const MAX_JSONRPC_ID_CHARS = 256;

/** A JSON-RPC error answer. */
export interface JsonRpcErrorReply {
  readonly jsonrpc: '2.0';
  readonly id: string | number | null;
  readonly error: { readonly code: number; readonly message: string };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The answer to one message that must not reach the server: an id too long (-32600 Invalid Request,
 * id null), or a request this server answers whose params fail the SDK's schema (-32602 Invalid
 * params); undefined for any other message (the server answers it).
 */
export function mcpRequestProblem(message: unknown): JsonRpcErrorReply | undefined {
  if (!isObject(message)) return undefined;
  const { id } = message;
  if ((typeof id === 'string' && id.length > MAX_JSONRPC_ID_CHARS) || (typeof id === 'number' && !Number.isSafeInteger(id))) {
    return { jsonrpc: '2.0', id: null, error: { code: -32600, message: `Invalid Request: an id is a safe integer or a string of at most ${MAX_JSONRPC_ID_CHARS} characters` } };
  }
  const method = message['method'];
  if (typeof method !== 'string' || (typeof id !== 'string' && typeof id !== 'number')) return undefined;
  // Sent back in every progress notification of the call (one a second while a task runs), so
  // bounded as an id is: a megabyte token made the node write a megabyte a second (helper-178).
  const params = message['params'];
  const progressToken = isObject(params) && isObject(params['_meta']) ? params['_meta']['progressToken'] : undefined;
  if (
    progressToken !== undefined &&
    !((typeof progressToken === 'string' && progressToken.length <= MAX_JSONRPC_ID_CHARS) || (typeof progressToken === 'number' && Number.isSafeInteger(progressToken)))
  ) {
    return { jsonrpc: '2.0', id, error: { code: -32602, message: `Invalid params: a progressToken is a safe integer or a string of at most ${MAX_JSONRPC_ID_CHARS} characters` } };
  }
  const known = schemas();
  const schema = Object.hasOwn(known, method) ? known[method] : undefined;
  if (schema === undefined || schema.safeParse(message).success) return undefined;
  const takes = method === 'tools/call' ? 'tools/call takes {"name": <a tool from tools/list>, "arguments"?: {…}}' : `${method} takes other params (the MCP specification's)`;
  return { jsonrpc: '2.0', id, error: { code: -32602, message: `Invalid params: ${takes}` } };
}

/**
 * The answers to a batch holding any message the server must not see (mcpRequestProblem): those
 * messages' errors, and for every other request in it an error saying it was not run, so that each
 * request of the batch is answered (JSON-RPC 2.0 §6) and none runs in part. Undefined when the
 * batch may go to the server as it is.
 */
export function mcpBatchProblems(batch: readonly unknown[]): JsonRpcErrorReply[] | undefined {
  const problems = batch.map(mcpRequestProblem);
  if (problems.every((p) => p === undefined)) return undefined;
  return batch.flatMap((message, i) => {
    const problem = problems[i];
    if (problem) return [problem];
    const id = isObject(message) ? message['id'] : undefined;
    // A notification gets no answer.
    if (typeof id !== 'string' && typeof id !== 'number') return [];
    return [{ jsonrpc: '2.0' as const, id, error: { code: -32600, message: 'Invalid Request: not run, since its batch held a malformed request; send it again' } }];
  });
}

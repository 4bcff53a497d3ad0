/**
 * JSON-RPC messages the MCP server would answer badly, answered here instead, by both transports
 * (`swarm mcp` on stdio, api-svc's /mcp). The SDK parses a request against its schema before any
 * handler runs, and a request that fails it (a `tools/call` without params) came back as an
 * internal error (-32603) carrying the schema library's whole dump; an id is echoed in its answer,
 * so a megabyte id made a megabyte answer.
 */

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
 * id null), or a `tools/call` whose params are not `{name, arguments?}` (-32602 Invalid params);
 * undefined for any other message (the server answers it).
 */
export function mcpRequestProblem(message: unknown): JsonRpcErrorReply | undefined {
  if (!isObject(message)) return undefined;
  const { id } = message;
  if ((typeof id === 'string' && id.length > MAX_JSONRPC_ID_CHARS) || (typeof id === 'number' && !Number.isSafeInteger(id))) {
    return { jsonrpc: '2.0', id: null, error: { code: -32600, message: `Invalid Request: an id is a safe integer or a string of at most ${MAX_JSONRPC_ID_CHARS} characters` } };
  }
  if (message['method'] !== 'tools/call' || (typeof id !== 'string' && typeof id !== 'number')) return undefined;
  const params = message['params'];
  if (isObject(params) && typeof params['name'] === 'string' && (params['arguments'] === undefined || isObject(params['arguments']))) return undefined;
  return { jsonrpc: '2.0', id, error: { code: -32602, message: 'Invalid params: tools/call takes {"name": <a tool from tools/list>, "arguments"?: {…}}' } };
}

import { MAX_JSONRPC_ID_CHARS, mcpRequestProblem } from './mcp-request-checks';

const call = (id: unknown, progressToken?: unknown) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'list_skills', arguments: {}, ...(progressToken === undefined ? {} : { _meta: { progressToken } }) },
});

describe('MCP request checks - what is sent back in every answer is bounded', () => {
  it('refuses an id longer than it will quote back, answered with a null id', () => {
    expect(mcpRequestProblem(call('i'.repeat(MAX_JSONRPC_ID_CHARS + 1)))).toMatchObject({ id: null, error: { code: -32600 } });
    expect(mcpRequestProblem(call(2 ** 60))).toMatchObject({ id: null, error: { code: -32600 } });
    expect(mcpRequestProblem(call('i'.repeat(MAX_JSONRPC_ID_CHARS)))).toBeUndefined();
  });

  it('refuses a progressToken it would copy into every progress notification unless it is as bounded as an id (helper-178)', () => {
    for (const token of ['p'.repeat(MAX_JSONRPC_ID_CHARS + 1), 2 ** 60, 1.5, { a: 'b' }, ['x'], null, true]) {
      expect(mcpRequestProblem(call(7, token))).toEqual({
        jsonrpc: '2.0',
        id: 7,
        error: { code: -32602, message: `Invalid params: a progressToken is a safe integer or a string of at most ${MAX_JSONRPC_ID_CHARS} characters` },
      });
    }
    for (const token of ['p'.repeat(MAX_JSONRPC_ID_CHARS), 'tok-1', 0, 42]) expect(mcpRequestProblem(call(7, token))).toBeUndefined();
  });
});

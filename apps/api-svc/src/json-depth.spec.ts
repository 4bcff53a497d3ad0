import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('JSON nesting - known before the body is parsed', () => {
  it('finds nesting past the limit, in arrays and objects alike', () => {
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan(`${'{"a":'.repeat(4)}1${'}'.repeat(4)}`, 3)).toBe(true);
    expect(nestsDeeperThan(nested(4_000_000), MAX_JSON_DEPTH)).toBe(true);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan(JSON.stringify({ a: '[[[[[[', b: 'x\\"[[[[[["', c: ['\\'] }), 2)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify(['\\', [['[']]]), 2)).toBe(true);
  });

  it('passes what the API takes: a task body and an MCP call with its inputs', () => {
    const inputs = [{ name: 'a', shape: [2, 2], data: [1, 2, 3, 4] }];
    const mcp = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'submit_task', arguments: { skill: 'matmul', inputs } } };
    expect(nestsDeeperThan(JSON.stringify([mcp, mcp]), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ skill: 'vecadd', inputs }), MAX_JSON_DEPTH)).toBe(false);
  });

  it('leaves an unterminated string to the parser', () => {
    expect(nestsDeeperThan('["abc', MAX_JSON_DEPTH)).toBe(false);
  });
});

import { PassThrough } from 'node:stream';
import { mcpCommand } from './mcp';

const TOKEN = `swt_${'A'.repeat(43)}`;

/** Runs `swarm mcp` on in-memory stdio, with `maxMessageBytes`, on what `lines` hold; its outcome and what it wrote. */
async function session(lines: string, maxMessageBytes: number): Promise<{ outcome: unknown; written: string }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let written = '';
  stdout.on('data', (chunk: Buffer) => (written += chunk.toString()));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const run = mcpCommand({ apiUrl: 'http://127.0.0.1:1' }, { SWARM_AGENT_TOKEN: TOKEN }, { stdin, stdout, maxMessageBytes });
    stdin.end(lines);
    const outcome = await run.then(
      () => 'ended',
      (err: unknown) => err,
    );
    return { outcome, written };
  } finally {
    stderr.mockRestore();
  }
}

const TOOLS_LIST = '{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n';

describe('swarm mcp - a line past the limit', () => {
  it('ends the session with SWARM_PAYLOAD_TOO_LARGE, not as a normal end', async () => {
    const { outcome, written } = await session(`${'x'.repeat(4_096)}\n${TOOLS_LIST}`, 1_024);
    expect(outcome).toMatchObject({ codeName: 'SWARM_PAYLOAD_TOO_LARGE', message: expect.stringContaining('longer than 1024 bytes ended the session') });
    expect(written).toBe('');
  });

  it('answers lines within it and ends normally when stdin ends', async () => {
    const { outcome, written } = await session(TOOLS_LIST, 1_024 * 1_024);
    expect(outcome).toBe('ended');
    expect(JSON.parse(written.split('\n')[0] ?? '')).toMatchObject({ id: 2, result: { tools: expect.any(Array) } });
  });
});

import { printGrid, printTable, TABLE_VALUE_WIDTH, withProgress, wrapText } from './output';
import { printed } from './test-fixtures/printed';

describe('output for a terminal', () => {
  it('wraps prose at 120 columns, lines after the first indented, a word wider than a line kept whole', () => {
    const text = wrapText(`matmul (freivalds): ${'word '.repeat(60)}${'x'.repeat(130)} end`);
    const lines = text.split('\n');
    expect(lines[0].startsWith('matmul (freivalds): word')).toBe(true);
    expect(lines.slice(1).every((l) => l.startsWith('  ') && !l.startsWith('   '))).toBe(true);
    expect(lines.filter((l) => !l.includes('xxx')).every((l) => l.length <= 120)).toBe(true);
    expect(lines).toContain(`  ${'x'.repeat(130)}`);
    expect(text.replace(/\s+/g, ' ')).toBe(`matmul (freivalds): ${'word '.repeat(60)}${'x'.repeat(130)} end`);
  });

  it("shows control characters in table cells escaped: a peer's note cannot move the cursor or retitle the terminal", () => {
    const note = 'no result: \u001b]0;owned\u0007\u001b[2J\u202eevil';
    const grid = printed(() => printGrid(['provider', 'note'], [['node-b', note]]));
    const table = printed(() => printTable([['note', `${note}\nsecond line`]]));
    for (const out of [grid, table]) {
      for (const raw of ['\u0007', '\u001b', '\u202e']) expect(out).not.toContain(raw);
      expect(out).toContain('\\x1b]0;owned\\x07\\x1b[2J\\u202eevil');
    }
    expect(table).toContain('second line');
  });

  it('keeps every table inside about 120 columns: a long value wraps, a short table keeps its width', () => {
    const long = printed(() => printTable([['peer address', `127.0.0.1:7700 ${'(what a node joining through this one puts in SWARM_SEEDS) '.repeat(3)}`]]));
    expect(Math.max(...long.split('\n').map((l) => l.length))).toBeLessThanOrEqual(TABLE_VALUE_WIDTH + 20);
    // A path wider than the column stays whole (it is copied), the table wider.
    const path = `/tmp/${'swarm-home/'.repeat(10)}bus/client.nk`;
    const withPath = printed(() => printTable([['client key', `${path} (submit and read only)`]]));
    expect(withPath).toContain(path);
    const short = printed(() => printTable([['a', 'b']]));
    expect(Math.max(...short.split('\n').map((l) => l.length))).toBeLessThan(12);
  });
});

describe('progress on stderr', () => {
  const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve('done'), 30));

  it('shows a spinner for slow work on a terminal only: a program reading stderr gets no progress lines', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await expect(withProgress('working', true, slow, 0, false)).resolves.toBe('done');
      expect(written.join('')).toBe('');
      await expect(withProgress('working', true, slow, 0, true)).resolves.toBe('done');
      expect(written.join('')).toContain('working');
    } finally {
      spy.mockRestore();
    }
  });
});

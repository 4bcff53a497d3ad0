import { printTable, TABLE_VALUE_WIDTH, wrapText } from './output';
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

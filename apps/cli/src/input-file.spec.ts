import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import { readInputFile } from './input-file';

describe('input file', () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await tempDir('swarm-input-');
  });
  afterEach(() => dir.remove());

  it('reads a file saved with a UTF-8 byte-order mark as the same tensors as one without', async () => {
    const json = '{"inputs": [{"name": "a", "shape": [2], "data": [1, 2.5]}]}';
    const plain = join(dir.path, 'plain.json');
    const marked = join(dir.path, 'bom.json');
    await writeFile(plain, json);
    await writeFile(marked, `\ufeff${json}`);
    const tensors = await readInputFile(marked);
    expect(tensors).toEqual(await readInputFile(plain));
    expect(tensors.map((t) => [t.name, t.shape])).toEqual([['a', [2]]]);
  });

  it('still refuses a mark anywhere but first, as not JSON', async () => {
    const file = join(dir.path, 'inner.json');
    await writeFile(file, '{"inputs": \ufeff[]}');
    await expect(readInputFile(file)).rejects.toThrow(/is not JSON/);
  });
});

import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TempDir } from '@swarm/testing';
import { tempDir } from '@swarm/testing';
import { readInputFile } from './input-file';

let dir: TempDir;
beforeEach(async () => {
  dir = await tempDir('swarm-input-');
});
afterEach(() => dir.remove());

describe('input file', () => {
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

describe('input file - what is not a regular file, and what grows past the limit', () => {
  it('refuses a FIFO at once (no writer needed) as bad usage, without opening it to wait', async () => {
    const fifo = join(dir.path, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const err = await readInputFile(fifo).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SWARM_BAD_ARGS', message: `input file ${fifo} is a FIFO (named pipe), not a regular file: give a file that holds the JSON` });
  });

  it('refuses a character device such as /dev/zero or /dev/urandom before reading any of it', async () => {
    for (const device of ['/dev/zero', '/dev/urandom']) {
      const err = await readInputFile(device).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SWARM_BAD_ARGS', message: `input file ${device} is a character device, not a regular file: give a file that holds the JSON` });
    }
  });

  it('keeps the message for a directory', async () => {
    await expect(readInputFile(dir.path)).rejects.toMatchObject({ code: 'SWARM_BAD_ARGS', message: `cannot read input file ${dir.path}: EISDIR` });
  });

  it('stops reading at the limit a file whose stated size is smaller than what it holds, as an oversized file', async () => {
    const big = join(dir.path, 'big.json');
    await writeFile(big, 'x'.repeat(101));
    const oversized = await readInputFile(big, 100).catch((e: unknown) => e);
    expect(oversized).toMatchObject({ code: 'SWARM_BAD_ARGS', message: `input file ${big} is larger than 100 bytes: a task's inputs fit in that much JSON` });
    // A /proc file states size 0 and holds more: the limit holds while reading.
    const growing = await readInputFile('/proc/self/status', 100).catch((e: unknown) => e);
    expect(growing).toMatchObject({ code: 'SWARM_BAD_ARGS', message: "input file /proc/self/status is larger than 100 bytes: a task's inputs fit in that much JSON" });
  });
});

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

describe('input file - what an input holds', () => {
  const write = async (json: unknown) => {
    const file = join(dir.path, 'in.json');
    await writeFile(file, JSON.stringify(json));
    return file;
  };
  const f32Base64 = (values: number[]) => Buffer.from(Float32Array.from(values).buffer).toString('base64');

  it('takes values as dataBase64 (little-endian f32), as the agent API does, the same tensors as numbers', async () => {
    const numbers = await readInputFile(await write({ inputs: [{ name: 'a', shape: [3], data: [1, 2.5, -3] }] }));
    const base64 = await readInputFile(await write({ inputs: [{ name: 'a', shape: [3], dataBase64: f32Base64([1, 2.5, -3]) }] }));
    expect(base64).toEqual(numbers);
  });

  it('refuses a property it does not take, naming it cut short, and an input with both or neither of data and dataBase64', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ inputs: [{ name: 'a', shape: [2], data: [1, 2], foo: 1 }] }, /inputs\.0: has a property it does not take \("foo"\)/],
      [{ inputs: [{ name: 'a', shape: [2], data: [1, 2] }], skill: 'matmul' }, /\(root\): has a property it does not take \("skill"\)/],
      [{ inputs: [{ name: 'a', shape: [2], data: [1, 2], dataBase64: f32Base64([1, 2]) }] }, /exactly one of data .* and dataBase64/],
      [{ inputs: [{ name: 'a', shape: [2] }] }, /exactly one of data .* and dataBase64/],
      [{ inputs: [{ name: 'a', shape: [2], dataBase64: f32Base64([1]) }] }, /inputs\.0: shape needs 8 bytes of f32, dataBase64 holds 4/],
      [{ inputs: [{ name: 'a', shape: [2], dataBase64: 'not base64!' }] }, /inputs\.0\.dataBase64 is not base64 of the 2 f32 values/],
      [{ inputs: [{ name: 'a', shape: [1], dataBase64: f32Base64([Number.NaN]) }] }, /holds NaN at value 0: inputs are finite numbers/],
    ];
    for (const [json, message] of cases) {
      const err = await readInputFile(await write(json)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SWARM_BAD_ARGS', message: expect.stringMatching(message) });
    }
    const long = (await readInputFile(await write({ inputs: [{ name: 'a', shape: [1], data: [1], ['k'.repeat(100_000)]: 1 }] })).catch((e: unknown) => e)) as Error;
    expect(long.message.length).toBeLessThan(400);
  });
});

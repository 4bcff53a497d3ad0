import type { DenseTensor } from '@swarm/contracts';
import { ErrorCode } from '@swarm/contracts';
import { seededRandom } from '@swarm/determinism';
import fc from 'fast-check';
import { matmul, referenceMatmul } from './matmul';
import { assembleRows, rowBlocks, splitMatmul } from './matmul-shards';

const INVALID = { code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT };

function randomMatrix(name: string, rows: number, cols: number, seed: number): DenseTensor {
  const random = seededRandom(seed);
  return { name, shape: [rows, cols], data: Float32Array.from({ length: rows * cols }, () => random() * 2 - 1) };
}

describe('matmul shards - rowBlocks', () => {
  it('splits rows as evenly as possible, the longer blocks first', () => {
    expect(rowBlocks(10, 4)).toEqual([
      { index: 0, start: 0, end: 3 },
      { index: 1, start: 3, end: 6 },
      { index: 2, start: 6, end: 8 },
      { index: 3, start: 8, end: 10 },
    ]);
    expect(rowBlocks(3, 3).map((b) => b.end - b.start)).toEqual([1, 1, 1]);
    expect(rowBlocks(5, 1)).toEqual([{ index: 0, start: 0, end: 5 }]);
  });

  it.each([
    [4, 5, /shards must be a whole number from 1 to the 4 row\(s\) of a, got 5/],
    [4, 0, /got 0/],
    [4, 1.5, /got 1.5/],
    [0, 1, /at least 1 row, got 0/],
  ])('refuses %p rows in %p shards', (rows, shards, message) => {
    expect(() => rowBlocks(rows, shards)).toThrow(expect.objectContaining({ ...INVALID, message: expect.stringMatching(message) }) as Error);
  });

  it('covers every row once, in order, with block sizes differing by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 64 }), (rows, wanted) => {
        const shards = Math.min(rows, wanted);
        const blocks = rowBlocks(rows, shards);
        const sizes = blocks.map((b) => b.end - b.start);
        expect(blocks).toHaveLength(shards);
        expect(blocks[0].start).toBe(0);
        expect(blocks[shards - 1].end).toBe(rows);
        blocks.forEach((b, j) => expect([b.index, j === 0 ? 0 : blocks[j - 1].end]).toEqual([j, b.start]));
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
      }),
    );
  });
});

describe('matmul shards - split and assemble', () => {
  it('split + assemble of the blocks equals the whole product, for random shapes and shard counts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 16 }),
        fc.nat(),
        (n, k, m, wanted, seed) => {
          const inputs = [randomMatrix('a', n, k, seed), randomMatrix('b', k, m, seed + 1)];
          const blocks = rowBlocks(n, Math.min(n, wanted));
          const parts = splitMatmul(inputs, blocks);
          // Each block is a valid matmul of its own: what an executor runs and a verifier checks.
          parts.forEach((p, j) => {
            expect(() => matmul.validate(p, { maxElements: 10_000 })).not.toThrow();
            expect(p[0].shape).toEqual([blocks[j].end - blocks[j].start, k]);
          });
          const c = assembleRows(
            blocks,
            parts.map((p) => matmul.reference(p)[0]),
            m,
          );
          expect(c.shape).toEqual([n, m]);
          // Row i of c is row i of a times b whichever block computed it: bit for bit the same sums.
          expect(Array.from(c.data)).toEqual(Array.from(referenceMatmul(inputs[0].data, inputs[1].data, { n, k, m })));
        },
      ),
    );
  });

  it('splits without copying a, and the verifier accepts each block and rejects a wrong one', () => {
    const inputs = [randomMatrix('a', 9, 5, 1), randomMatrix('b', 5, 4, 2)];
    const parts = splitMatmul(inputs, rowBlocks(9, 3));
    expect(parts[1][0].data.buffer).toBe(inputs[0].data.buffer);
    const good = matmul.reference(parts[1]);
    expect(matmul.verify(parts[1], good, seededRandom(3)).ok).toBe(true);
    const bad = Float32Array.from(good[0].data);
    bad[5] += 1;
    expect(matmul.verify(parts[1], [{ ...good[0], data: bad }], seededRandom(3)).ok).toBe(false);
  });

  it('refuses outputs that do not fit their blocks', () => {
    const blocks = rowBlocks(4, 2);
    const out = (rows: number, m: number): DenseTensor => ({ name: 'c', shape: [rows, m], data: new Float32Array(rows * m) });
    expect(() => assembleRows(blocks, [out(2, 3)], 3)).toThrow(expect.objectContaining({ ...INVALID, message: '2 row blocks need as many outputs, got 1' }) as Error);
    expect(() => assembleRows(blocks, [out(2, 3), out(3, 3)], 3)).toThrow(expect.objectContaining({ message: 'row block 1 needs an output of shape [2,3], got [3,3]' }) as Error);
    expect(() => assembleRows([blocks[1], blocks[0]], [out(2, 3), out(2, 3)], 3)).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/the next row is 0/) }) as Error,
    );
  });
});

import { ErrorCode } from '@swarm/contracts';
import { rowBlocks } from '@swarm/skills';
import fc from 'fast-check';
import { shardsOf, splitShardPool } from './shard-split';

describe('shard split - shardsOf', () => {
  it('reads 0 and 1 as unsharded and 2..16 as row blocks of a matmul', () => {
    expect([0, 1, undefined].map((shards) => shardsOf({ skill: 'vecadd', shards }))).toEqual([1, 1, 1]);
    expect(shardsOf({ skill: 'matmul', shards: 16, redundancy: 1 })).toBe(16);
  });

  it.each([
    [{ skill: 'matmul', shards: 17 }, /or 2 to 16 row blocks, got 17/],
    [{ skill: 'matmul', shards: -2 }, /got -2/],
    [{ skill: 'mlp', shards: 2 }, /only matmul can be sharded/],
    [{ skill: 'matmul', shards: 2, redundancy: 3 }, /shards and redundancy cannot be combined: ask for shards 2 or redundancy 3, not both/],
  ])('refuses %p with INVALID_ARGUMENT', (req, message) => {
    expect(() => shardsOf(req)).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.stringMatching(message) }) as Error);
  });
});

describe('shard split - splitShardPool', () => {
  it("pays each block's work to the node whose result counts, and a node with only wrong blocks nothing", () => {
    const blocks = rowBlocks(10, 3); // 4, 3, 3 rows
    const split = splitShardPool(
      blocks,
      [
        { block: 0, providerId: 'a', counted: true },
        { block: 1, providerId: 'b', counted: false },
        { block: 2, providerId: 'a', counted: true },
        { block: 1, providerId: 'c', counted: true },
      ],
      100n,
    );
    expect(split.providers).toEqual(['a', 'b', 'c']);
    expect(split.amounts).toEqual([70n, 0n, 30n]);
    expect(split.shares.map((s) => Math.round(s * 1e9) / 1e9)).toEqual([0.7, 0, 0.3]);
    expect(split.blockShares).toEqual([0.4, 0.3, 0.3]);
  });

  it('refuses to split an incomplete product (the task is refunded instead)', () => {
    expect(() => splitShardPool(rowBlocks(4, 2), [{ block: 0, providerId: 'a', counted: true }], 10n)).toThrow(/row block 1 has no verified result/);
  });

  it('pays exactly the pool, in proportion to rows up to one credit, for any blocks and nodes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 2_000 }),
        fc.integer({ min: 2, max: 16 }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 16, maxLength: 16 }),
        (rows, wanted, pool, owner) => {
          const blocks = rowBlocks(rows, Math.min(rows, wanted));
          const results = blocks.map((b) => ({ block: b.index, providerId: `n${owner[b.index]}`, counted: true }));
          const split = splitShardPool(blocks, results, pool);
          expect(split.amounts.reduce((s, a) => s + a, 0n)).toBe(pool);
          split.providers.forEach((p, i) => {
            const mine = blocks.filter((b) => `n${owner[b.index]}` === p).reduce((n, b) => n + (b.end - b.start), 0);
            const exact = (Number(pool) * mine) / rows;
            expect(Math.abs(Number(split.amounts[i]) - exact)).toBeLessThanOrEqual(1 + exact * 1e-9);
          });
        },
      ),
    );
  });
});

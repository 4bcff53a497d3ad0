import { BlockHashes, HASH_PREFIX_BYTES } from './block-hashes';

const hashOf = (seq: number) => new Uint8Array(32).fill(seq % 251);

describe('block hashes - a hash prefix for every block audited', () => {
  it('records blocks in order from its base, growing as it goes, and answers only for those', () => {
    const hashes = new BlockHashes(10n);
    for (let seq = 11; seq <= 1_000; seq += 1) hashes.push(BigInt(seq), hashOf(seq));
    expect(hashes.size).toBe(990);
    expect(hashes.at(11n)).toEqual(hashOf(11).subarray(0, HASH_PREFIX_BYTES));
    expect(hashes.at(1_000n)).toEqual(hashOf(1_000).subarray(0, HASH_PREFIX_BYTES));
    expect([hashes.at(10n), hashes.at(1_001n), hashes.at(0n)]).toEqual([undefined, undefined, undefined]);
  });

  it('refuses a block out of order: a gap or one again', () => {
    const hashes = new BlockHashes(0n);
    hashes.push(1n, hashOf(1));
    expect(() => hashes.push(3n, hashOf(3))).toThrow(/block 3 recorded after block 1/);
    expect(() => hashes.push(1n, hashOf(1))).toThrow(/block 1 recorded after block 1/);
  });
});

import { BlockHashes } from './block-hashes';

const hashOf = (seq: number) => new Uint8Array(32).fill(seq % 251);
const KEY = new Uint8Array(32).fill(9);

describe('block hashes - a keyed 8-byte digest for every block audited', () => {
  it('records blocks in order from its base, growing as it goes, and answers only for those', () => {
    const hashes = new BlockHashes(10n, KEY);
    for (let seq = 11; seq <= 1_000; seq += 1) hashes.push(BigInt(seq), hashOf(seq));
    expect(hashes.size).toBe(990);
    expect([hashes.matches(11n, hashOf(11)), hashes.matches(1_000n, hashOf(1_000)), hashes.matches(500n, hashOf(501))]).toEqual([true, true, false]);
    expect([hashes.matches(10n, hashOf(10)), hashes.matches(1_001n, hashOf(1_001)), hashes.matches(0n, hashOf(0))]).toEqual([undefined, undefined, undefined]);
  });

  it('tells apart two hashes that share their first 8 bytes (a payer could grind such a pair; it cannot aim under a key it does not know)', () => {
    const hashes = new BlockHashes(0n, KEY);
    const mine = new Uint8Array(32).fill(1);
    const ground = new Uint8Array(32).fill(1);
    ground[31] = 2;
    hashes.push(1n, mine);
    expect([hashes.matches(1n, mine), hashes.matches(1n, ground)]).toEqual([true, false]);
  });

  it('refuses a block out of order: a gap or one again', () => {
    const hashes = new BlockHashes(0n, KEY);
    hashes.push(1n, hashOf(1));
    expect(() => hashes.push(3n, hashOf(3))).toThrow(/block 3 recorded after block 1/);
    expect(() => hashes.push(1n, hashOf(1))).toThrow(/block 1 recorded after block 1/);
  });
});

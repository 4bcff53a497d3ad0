import fc from 'fast-check';
import { nkeys as untypedNkeys } from 'nats';
import { userNkeyOfSeed } from './nkey-native';

interface Pair {
  getSeed(): Uint8Array;
  getPublicKey(): string;
}
const nkeys = untypedNkeys as { createUser(): Pair; createAccount(): Pair; fromSeed(seed: Uint8Array): Pair };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('NKey user seeds, natively', () => {
  it('derives the public key nkeys.js derives, for random seeds', () => {
    fc.assert(
      fc.property(fc.integer(), () => {
        const pair = nkeys.createUser();
        expect(userNkeyOfSeed(text(pair.getSeed())).publicKey).toBe(pair.getPublicKey());
      }),
      // nkeys.js derives a public key in pure JavaScript: ~50 ms a seed under jest's sandbox.
      { numRuns: 12 },
    );
  });

  it('ignores surrounding whitespace, as in a seed file', () => {
    const pair = nkeys.createUser();
    expect(userNkeyOfSeed(`\n ${text(pair.getSeed())}\n`).publicKey).toBe(pair.getPublicKey());
  });

  it('refuses what is not a user seed: another kind of seed, a changed character, bad letters, a wrong length', () => {
    const seed = text(nkeys.createUser().getSeed());
    expect(() => userNkeyOfSeed(text(nkeys.createAccount().getSeed()))).toThrow('not an NKey user seed');
    const flipped = `${seed.slice(0, 20)}${seed[20] === 'A' ? 'B' : 'A'}${seed.slice(21)}`;
    expect(() => userNkeyOfSeed(flipped)).toThrow('wrong checksum');
    expect(() => userNkeyOfSeed(`${seed.slice(0, -1)}1`)).toThrow('base32');
    expect(() => userNkeyOfSeed(seed.slice(0, -8))).toThrow('36 bytes');
    expect(() => userNkeyOfSeed('SUNOTASEED')).toThrow();
  });
});

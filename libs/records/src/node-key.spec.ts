import { createParsedKeys, ed25519PublicKey, MAX_PARSED_KEYS, verifyEd25519 } from './node-key';
import { seededSigner } from './test-fixtures/seeded-signer';

describe('node-key - Ed25519 checks with parsed keys kept per process', () => {
  const a = seededSigner(1);
  const b = seededSigner(2);
  const data = Uint8Array.from([1, 2, 3]);
  const sig = a.sign(data);

  it('answers alike the first time and from the kept key: good, wrong key, altered data, bad lengths', () => {
    for (let round = 0; round < 2; round += 1) {
      expect(verifyEd25519(a.publicKey, data, sig)).toBe(true);
      expect(verifyEd25519(b.publicKey, data, sig)).toBe(false);
      expect(verifyEd25519(a.publicKey, Uint8Array.from([1, 2, 4]), sig)).toBe(false);
      expect(verifyEd25519(a.publicKey, data, sig.subarray(1))).toBe(false);
      expect(verifyEd25519(a.publicKey.subarray(1), data, sig)).toBe(false);
      expect(verifyEd25519(new Uint8Array(33), data, sig)).toBe(false);
    }
    expect(ed25519PublicKey(new Uint8Array(31))).toBeNull();
  });

  it('keys a kept key by the bytes as they are at each call: a buffer changed in place, or a view into a larger one, is the key it holds now', () => {
    const key = Uint8Array.from(a.publicKey);
    expect(verifyEd25519(key, data, sig)).toBe(true);
    key.set(b.publicKey);
    expect(verifyEd25519(key, data, sig)).toBe(false);
    expect(verifyEd25519(key, data, b.sign(data))).toBe(true);
    // The same 32 bytes at an offset of a larger buffer (a decoded message's key field).
    const framed = new Uint8Array(40);
    framed.set(a.publicKey, 5);
    expect(verifyEd25519(framed.subarray(5, 37), data, sig)).toBe(true);
    expect(verifyEd25519(framed.subarray(4, 36), data, sig)).toBe(false);
  });

  it('keeps a parsed key (the same object again), drops the least recently used past its cap, and parses a dropped key again to the same answer', () => {
    const keys = createParsedKeys(2);
    const c = seededSigner(3);
    const first = keys(a.publicKey);
    expect(first).not.toBeNull();
    expect(keys(Uint8Array.from(a.publicKey))).toBe(first);
    keys(b.publicKey);
    expect(keys(a.publicKey)).toBe(first); // a used last: b is the least recently used
    keys(c.publicKey); // drops b
    expect(keys(a.publicKey)).toBe(first);
    const bAgain = keys(b.publicKey); // parsed again, dropping c
    expect(bAgain).not.toBeNull();
    keys(c.publicKey); // drops a
    const aAgain = keys(a.publicKey);
    expect(aAgain).not.toBe(first);
    expect(aAgain?.equals(first as NonNullable<typeof first>)).toBe(true);
  });

  it('keeps the process its MAX_PARSED_KEYS keys: the same object for a key in use', () => {
    expect(MAX_PARSED_KEYS).toBe(4_096);
    expect(ed25519PublicKey(a.publicKey)).toBe(ed25519PublicKey(Uint8Array.from(a.publicKey)));
    expect(verifyEd25519(a.publicKey, data, sig)).toBe(true);
  });
});

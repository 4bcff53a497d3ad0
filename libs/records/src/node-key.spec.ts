import { verify } from 'node:crypto';
import { createEd25519Verify, createParsedKeys, ed25519PublicKey, MAX_PARSED_KEYS, MAX_REMEMBERED_BYTES, MAX_VERIFIED_SIGNATURES, verifyEd25519 } from './node-key';
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

  describe('signatures that verified, kept', () => {
    /** A check with its own parsed keys and room for `max` passed signatures, counting the verifications it makes. */
    function counted(max: number) {
      const calls = { n: 0 };
      const check = createEd25519Verify(createParsedKeys(8), max, (d, key, signature) => (calls.n++, verify(null, d, key, signature)));
      return { check, calls };
    }

    it('answers a signature that verified before without verifying it again, and only for those exact key, bytes and signature', () => {
      const { check, calls } = counted(16);
      expect(check(a.publicKey, data, sig)).toBe(true);
      expect(calls.n).toBe(1);
      expect([check(a.publicKey, data, sig), check(Uint8Array.from(a.publicKey), Uint8Array.from(data), Uint8Array.from(sig))]).toEqual([true, true]);
      expect(calls.n).toBe(1);
      // Anything else is verified, and fails.
      const flipped = Uint8Array.from(sig);
      flipped[10] ^= 1;
      expect([
        check(a.publicKey, Uint8Array.from([1, 2, 4]), sig),
        check(b.publicKey, data, sig),
        check(a.publicKey, data, flipped),
        check(a.publicKey, Uint8Array.from([1, 2, 3, 0]), sig),
      ]).toEqual([false, false, false, false]);
      expect(calls.n).toBe(5);
    });

    it('keeps no signature that failed: it is verified again every time', () => {
      const { check, calls } = counted(16);
      for (let i = 0; i < 3; i++) expect(check(b.publicKey, data, sig)).toBe(false);
      expect(calls.n).toBe(3);
    });

    it('keeps the bytes as they are at each call: data changed in place after a pass is other data', () => {
      const { check } = counted(16);
      const bytes = Uint8Array.from(data);
      expect(check(a.publicKey, bytes, sig)).toBe(true);
      bytes[0] = 9;
      expect(check(a.publicKey, bytes, sig)).toBe(false);
    });

    it('drops the least recently used past its cap, and verifies a dropped one again to the same answer', () => {
      const { check, calls } = counted(2);
      const [d1, d2, d3] = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)];
      const [s1, s2, s3] = [a.sign(d1), a.sign(d2), a.sign(d3)];
      expect([check(a.publicKey, d1, s1), check(a.publicKey, d2, s2), check(a.publicKey, d1, s1)]).toEqual([true, true, true]);
      expect(calls.n).toBe(2);
      expect(check(a.publicKey, d3, s3)).toBe(true); // drops d2, used least recently
      expect([check(a.publicKey, d1, s1), check(a.publicKey, d3, s3)]).toEqual([true, true]);
      expect(calls.n).toBe(3);
      expect(check(a.publicKey, d2, s2)).toBe(true);
      expect(calls.n).toBe(4);
    });

    it('keeps nothing over MAX_REMEMBERED_BYTES (a signed result, checked once): hashing it for the key would cost a third of its check', () => {
      const { check, calls } = counted(16);
      const large = new Uint8Array(MAX_REMEMBERED_BYTES + 1).fill(7);
      const small = large.subarray(0, MAX_REMEMBERED_BYTES);
      const [sLarge, sSmall] = [a.sign(large), a.sign(small)];
      expect([check(a.publicKey, large, sLarge), check(a.publicKey, large, sLarge)]).toEqual([true, true]);
      expect(calls.n).toBe(2);
      expect([check(a.publicKey, small, sSmall), check(a.publicKey, small, sSmall)]).toEqual([true, true]);
      expect(calls.n).toBe(3);
    });

    it('is what verifyEd25519 does for the process, with room for MAX_VERIFIED_SIGNATURES', () => {
      expect(MAX_VERIFIED_SIGNATURES).toBe(16_384);
      expect([verifyEd25519(a.publicKey, data, sig), verifyEd25519(a.publicKey, data, sig), verifyEd25519(b.publicKey, data, sig)]).toEqual([true, true, false]);
    });
  });
});

import { ed25519PublicKey, verifyEd25519 } from './node-key';
import { seededSigner } from './test-fixtures/seeded-signer';

/**
 * ATTACK (helper-165): the per-process key cache is keyed by the first `length` bytes of the
 * argument's buffer, while the key it parses (and caches under that id) is built from the argument
 * itself. For anything that is not a Uint8Array of 32 bytes, the two differ.
 */
describe('ATTACK: node-key - a kept key answers only for the bytes it was parsed from', () => {
  const data = Uint8Array.from([7, 7, 7]);
  /** A 32-element Uint16Array (64 bytes) whose first 32 bytes are `key`. */
  const wide = (key: Uint8Array): Uint8Array => {
    const u16 = new Uint16Array(32);
    new Uint8Array(u16.buffer).set(key);
    return u16 as unknown as Uint8Array;
  };

  it('refuses a 64-byte typed array whose first 32 bytes are a kept key (it failed before the cache, and must still)', () => {
    const a = seededSigner(31);
    const sig = a.sign(data);
    expect(verifyEd25519(a.publicKey, data, sig)).toBe(true); // a's key now kept
    expect(ed25519PublicKey(wide(a.publicKey))).toBeNull();
    expect(verifyEd25519(wide(a.publicKey), data, sig)).toBe(false);
  });

  it('keeps an honest key verifying after a malformed argument with the same first 32 bytes was seen first (no null cached for it)', () => {
    const c = seededSigner(32);
    const sig = c.sign(data);
    expect(verifyEd25519(wide(c.publicKey), data, sig)).toBe(false);
    expect(verifyEd25519(c.publicKey, data, sig)).toBe(true);
  });

  it('answers false, not a throw, for a key that is no byte array at all (as before the cache)', () => {
    const d = seededSigner(33);
    const sig = d.sign(data);
    expect(() => verifyEd25519([...d.publicKey] as unknown as Uint8Array, data, sig)).not.toThrow();
    expect(verifyEd25519('x'.repeat(32) as unknown as Uint8Array, data, sig)).toBe(false);
  });
});

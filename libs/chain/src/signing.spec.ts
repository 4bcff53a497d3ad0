import { cachedSignatureCheck, checkSignature, receiptSigningBytes } from './signing';
import { seededSigner } from './test-fixtures/seeded-signer';

describe('signing - signature checks', () => {
  const a = seededSigner(1);
  const b = seededSigner(2);
  const data = receiptSigningBytes(Uint8Array.from([1, 2, 3]));
  const sig = a.sign(data);

  it('the cached check answers as the plain one: good, wrong key, altered data, bad lengths, no key at all', () => {
    for (const check of [checkSignature, cachedSignatureCheck()]) {
      for (let round = 0; round < 2; round += 1) {
        expect(check(a.publicKey, data, sig)).toBe(true);
        expect(check(b.publicKey, data, sig)).toBe(false);
        expect(check(a.publicKey, Uint8Array.from([...data, 0]), sig)).toBe(false);
        expect(check(a.publicKey, data, sig.subarray(1))).toBe(false);
        expect(check(new Uint8Array(31), data, sig)).toBe(false);
        expect(check(new Uint8Array(32), data, sig)).toBe(false);
      }
    }
  });

  it('separates receipt signatures from any other signed bytes by a domain tag', () => {
    expect(checkSignature(a.publicKey, Uint8Array.from([1, 2, 3]), sig)).toBe(false);
  });
});

import { cachedSignatureCheck, receiptSigningBytes, rememberingSignatureCheck } from './signing';
import { seededSigner } from './test-fixtures/seeded-signer';

describe('rememberingSignatureCheck', () => {
  const signer = seededSigner(3);
  const other = seededSigner(4);
  const bytes = receiptSigningBytes(new Uint8Array([1, 2, 3]));
  const signature = signer.sign(bytes);

  it('verifies once and answers a repeat from memory, comparing key, bytes and signature exactly', () => {
    let calls = 0;
    const inner = cachedSignatureCheck();
    const check = rememberingSignatureCheck((k, b, s) => {
      calls += 1;
      return inner(k, b, s);
    });
    expect(check(signer.publicKey, bytes, signature)).toBe(true);
    expect(check(signer.publicKey, bytes, signature)).toBe(true);
    expect(calls).toBe(1);
    // The same signature with other bytes or another key is checked for real, and fails.
    expect(check(signer.publicKey, receiptSigningBytes(new Uint8Array([1, 2, 4])), signature)).toBe(false);
    expect(check(other.publicKey, bytes, signature)).toBe(false);
    expect(calls).toBe(3);
  });

  it('never remembers a failure, and trusts what it was told this process signed', () => {
    let calls = 0;
    const check = rememberingSignatureCheck(() => {
      calls += 1;
      return false;
    });
    expect(check(signer.publicKey, bytes, signature)).toBe(false);
    expect(check(signer.publicKey, bytes, signature)).toBe(false);
    expect(calls).toBe(2);
    check.remember(signer.publicKey, bytes, signature);
    expect(check(signer.publicKey, bytes, signature)).toBe(true);
    expect(calls).toBe(2);
  });

  it('forgets the oldest beyond its size', () => {
    let calls = 0;
    const inner = cachedSignatureCheck();
    const check = rememberingSignatureCheck((k, b, s) => {
      calls += 1;
      return inner(k, b, s);
    }, 2);
    const signed = [1, 2, 3].map((i) => {
      const b = receiptSigningBytes(new Uint8Array([i]));
      return { b, s: signer.sign(b) };
    });
    for (const { b, s } of signed) expect(check(signer.publicKey, b, s)).toBe(true);
    expect(calls).toBe(3);
    expect(check(signer.publicKey, signed[0].b, signed[0].s)).toBe(true);
    expect(calls).toBe(4);
    expect(check(signer.publicKey, signed[2].b, signed[2].s)).toBe(true);
    expect(calls).toBe(4);
  });
});

import { Receipt } from '@swarm/contracts';
import { countersignReceipt, makeReceipt, proveReceiptSignatures, verifyReceipt } from './receipt';
import type { DualSignatureCheck } from './signing';
import { cachedSignatureCheck, receiptSigningBytes, rememberingSignatureCheck } from './signing';
import { seededSigner } from './test-fixtures/seeded-signer';
import { sha256Of } from './test-fixtures/test-swarm';

/** A remembering check over a real one that counts the verifications it makes, on the caller's thread and off it. */
function countingCheck(size?: number) {
  const real = cachedSignatureCheck();
  const calls = { sync: 0, offThread: 0 };
  const inner: DualSignatureCheck = Object.assign(
    (k: Uint8Array, b: Uint8Array, s: Uint8Array) => {
      calls.sync += 1;
      return real(k, b, s);
    },
    {
      offThread: (k: Uint8Array, b: Uint8Array, s: Uint8Array) => {
        calls.offThread += 1;
        return real.offThread(k, b, s);
      },
    },
  );
  return { check: rememberingSignatureCheck(inner, size), calls };
}

describe('rememberingSignatureCheck', () => {
  const signer = seededSigner(3);
  const other = seededSigner(4);
  const bytes = receiptSigningBytes(new Uint8Array([1, 2, 3]));
  const signature = signer.sign(bytes);

  it('verifies once and answers a repeat from memory, comparing key, bytes and signature exactly', () => {
    const { check, calls } = countingCheck();
    expect(check(signer.publicKey, bytes, signature)).toBe(true);
    expect(check(signer.publicKey, bytes, signature)).toBe(true);
    expect(calls.sync).toBe(1);
    // The same signature with other bytes or another key is checked for real, and fails.
    expect(check(signer.publicKey, receiptSigningBytes(new Uint8Array([1, 2, 4])), signature)).toBe(false);
    expect(check(other.publicKey, bytes, signature)).toBe(false);
    expect(calls.sync).toBe(3);
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
    const { check, calls } = countingCheck(2);
    const signed = [1, 2, 3].map((i) => {
      const b = receiptSigningBytes(new Uint8Array([i]));
      return { b, s: signer.sign(b) };
    });
    for (const { b, s } of signed) expect(check(signer.publicKey, b, s)).toBe(true);
    expect(calls.sync).toBe(3);
    expect(check(signer.publicKey, signed[0].b, signed[0].s)).toBe(true);
    expect(calls.sync).toBe(4);
    expect(check(signer.publicKey, signed[2].b, signed[2].s)).toBe(true);
    expect(calls.sync).toBe(4);
  });

  it('checks off the event loop as the synchronous check does: good, altered, short, foreign key, no key', async () => {
    const { offThread } = cachedSignatureCheck();
    expect(await offThread(signer.publicKey, bytes, signature)).toBe(true);
    const altered = Uint8Array.from(signature);
    altered[5] ^= 1;
    expect(await offThread(signer.publicKey, bytes, altered)).toBe(false);
    expect(await offThread(signer.publicKey, bytes, signature.subarray(0, 63))).toBe(false);
    expect(await offThread(other.publicKey, bytes, signature)).toBe(false);
    expect(await offThread(new Uint8Array(31), bytes, signature)).toBe(false);
    expect(await offThread(signer.publicKey, receiptSigningBytes(new Uint8Array([9])), signature)).toBe(false);
  });

  it('proves ahead off the event loop and remembers only a pass, so the synchronous check after it is a hit', async () => {
    const { check, calls } = countingCheck();
    expect(await check.prove(signer.publicKey, bytes, signature)).toBe(true);
    expect(check(signer.publicKey, bytes, signature)).toBe(true);
    expect(await check.prove(signer.publicKey, bytes, signature)).toBe(true);
    expect(calls).toEqual({ sync: 0, offThread: 1 });
    // A failure is not remembered: proved again, then checked for real.
    expect(await check.prove(other.publicKey, bytes, signature)).toBe(false);
    expect(await check.prove(other.publicKey, bytes, signature)).toBe(false);
    expect(check(other.publicKey, bytes, signature)).toBe(false);
    expect(calls).toEqual({ sync: 1, offThread: 3 });
  });

  it("remembers what it verified, not what the caller's buffers hold once the check is done", async () => {
    const check = rememberingSignatureCheck(cachedSignatureCheck());
    const mine = Uint8Array.from(signature);
    const proved = check.prove(signer.publicKey, bytes, mine);
    mine[0] ^= 1;
    expect(await proved).toBe(true);
    // The altered signature is no hit: checked for real, and it fails.
    expect(check(signer.publicKey, bytes, mine)).toBe(false);
    expect(check(signer.publicKey, bytes, signature)).toBe(true);
  });

  it('refreshes a signature it already holds rather than forgetting another', () => {
    const { check, calls } = countingCheck(2);
    const otherBytes = receiptSigningBytes(new Uint8Array([7]));
    const otherSignature = signer.sign(otherBytes);
    check.remember(signer.publicKey, bytes, signature);
    check.remember(signer.publicKey, otherBytes, otherSignature);
    check.remember(signer.publicKey, bytes, signature);
    expect(check(signer.publicKey, otherBytes, otherSignature)).toBe(true);
    expect(check(signer.publicKey, bytes, signature)).toBe(true);
    expect(calls.sync).toBe(0);
  });

  it("proves on the caller's thread when the inner check has no off-thread form", async () => {
    let calls = 0;
    const check = rememberingSignatureCheck((k, b, s) => {
      calls += 1;
      return cachedSignatureCheck()(k, b, s);
    });
    expect(await check.prove(signer.publicKey, bytes, signature)).toBe(true);
    expect(check(signer.publicKey, bytes, signature)).toBe(true);
    expect(calls).toBe(1);
  });
});

describe('proveReceiptSignatures', () => {
  const payer = seededSigner(5);
  const payee = seededSigner(6);
  const signed = countersignReceipt(
    makeReceipt(
      {
        payeePublicKey: payee.publicKey,
        amount: 3n,
        taskId: 't-1',
        taskHash: sha256Of('in'),
        resultHash: sha256Of('out'),
        atMs: 1_700_000_000_000,
        serveTicket: new Uint8Array(32),
      },
      payer,
    ),
    payee,
  );
  it('leaves the signatures it was asked for remembered: verifyReceipt after it verifies none itself', async () => {
    const { check, calls } = countingCheck();
    await proveReceiptSignatures(signed, check, { payer: true, payee: true });
    expect(verifyReceipt(signed, { checkSignature: check }).amount).toBe(3n);
    expect(calls.sync).toBe(0);
  });

  it('proves only the parties named', async () => {
    const { check, calls } = countingCheck();
    await proveReceiptSignatures(signed, check, { payer: false, payee: true });
    verifyReceipt(signed, { checkSignature: check });
    expect(calls.sync).toBe(1);
  });

  it("spends no verification on a receipt the cheap checks refuse: another payee or payer than expected, a key that is not the id's", async () => {
    const { check } = countingCheck();
    let proved = 0;
    const counting = Object.assign(check, {
      prove: () => {
        proved += 1;
        return Promise.resolve(true);
      },
    });
    await proveReceiptSignatures(signed, counting, { payer: true, payee: true }, { expectedPayee: payer.nodeId });
    await proveReceiptSignatures(signed, counting, { payer: true, payee: true }, { expectedPayer: payee.nodeId });
    const wrongKey = Receipt.encode({ ...Receipt.decode(signed.receipt), payerPublicKey: payee.publicKey }).finish();
    await proveReceiptSignatures({ ...signed, receipt: wrongKey }, counting, { payer: true, payee: true });
    expect(proved).toBe(0);
    await proveReceiptSignatures(signed, counting, { payer: true, payee: true }, { expectedPayer: payer.nodeId, expectedPayee: payee.nodeId });
    expect(proved).toBe(2);
  });

  it('judges nothing and throws nothing: a forged or malformed receipt is refused by the synchronous check after it', async () => {
    const { check } = countingCheck();
    const forged = { ...signed, payeeSignature: Uint8Array.from(signed.payeeSignature).fill(1, 0, 8) };
    await proveReceiptSignatures(forged, check, { payer: true, payee: true });
    expect(() => verifyReceipt(forged, { checkSignature: check })).toThrow(/countersignature/);
    await expect(proveReceiptSignatures({ ...signed, receipt: new Uint8Array([0xff, 0xff, 0xff]) }, check, { payer: true, payee: true })).resolves.toBeUndefined();
    await expect(proveReceiptSignatures({ ...signed, receipt: new Uint8Array(9_000) }, check, { payer: true, payee: true })).resolves.toBeUndefined();
  });
});

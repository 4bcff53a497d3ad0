import { ErrorCode } from '@swarm/contracts';
import fc from 'fast-check';
import { findPowNonce, hasProofOfWork, leadingZeroBits, MAX_POW_DIFFICULTY, POW_DOMAIN, powHash } from './index';
import { createHash } from 'node:crypto';

const NODE_ID = 'ab'.repeat(32);
const nodeId = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

describe('proof of work - hash', () => {
  it('hashes the domain, the id bytes and the nonce as 8 big-endian bytes', () => {
    const want = createHash('sha256').update(POW_DOMAIN).update(Buffer.from(NODE_ID, 'hex')).update(Buffer.from('0000000000000102', 'hex')).digest();
    expect(Buffer.from(powHash(NODE_ID, 258n))).toEqual(want);
  });

  it('counts leading zero bits across bytes', () => {
    expect(leadingZeroBits(Uint8Array.from([0x80]))).toBe(0);
    expect(leadingZeroBits(Uint8Array.from([0x01, 0xff]))).toBe(7);
    expect(leadingZeroBits(Uint8Array.from([0x00, 0x00, 0x10]))).toBe(19);
    expect(leadingZeroBits(new Uint8Array(4))).toBe(32);
  });
});

describe('proof of work - search and check', () => {
  it('finds the first nonce that meets the difficulty, which then checks', () => {
    fc.assert(
      // Up to 8 bits (~256 hashes to find, as many to check each smaller nonce fails): every nonce
      // below the one found is checked. Difficulties past a byte: leadingZeroBits and the 12-bit case below.
      fc.property(nodeId, fc.integer({ min: 0, max: 8 }), (id, difficulty) => {
        const nonce = findPowNonce(id, difficulty);
        expect(hasProofOfWork(id, nonce, difficulty)).toBe(true);
        expect(leadingZeroBits(powHash(id, nonce))).toBeGreaterThanOrEqual(difficulty);
        for (let n = 0n; n < nonce; n++) expect(hasProofOfWork(id, n, difficulty)).toBe(false);
      }),
      { numRuns: 20 },
    );
  });

  it('binds the nonce to the node id', () => {
    const nonce = findPowNonce(NODE_ID, 12);
    const other = 'cd'.repeat(32);
    // The chance that the same nonce also works for another id is 2^-12; this pair is fixed.
    expect(hasProofOfWork(other, nonce, 12)).toBe(false);
  });

  it('refuses nonces outside uint64, and bad difficulties or ids as INVALID_ARGUMENT', () => {
    expect(hasProofOfWork(NODE_ID, -1n, 0)).toBe(false);
    expect(hasProofOfWork(NODE_ID, 2n ** 64n, 0)).toBe(false);
    const invalid = expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(() => hasProofOfWork(NODE_ID, 0n, MAX_POW_DIFFICULTY + 1)).toThrow(invalid);
    expect(() => hasProofOfWork(NODE_ID, 0n, 1.5)).toThrow(invalid);
    expect(() => findPowNonce('not-hex', 4)).toThrow(invalid);
  });

  it('gives up after maxAttempts instead of spinning', () => {
    expect(() => findPowNonce(NODE_ID, MAX_POW_DIFFICULTY, { maxAttempts: 100 })).toThrow(/within 100 attempts/);
  });
});

import { NodeRecord, SignedNodeRecord } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import fc from 'fast-check';
import { createRecord, MAX_SKILLS, verifyRecord } from './index';
import type { RecordFields } from './index';
import { seededSigner, validFields } from './test-fixtures/seeded-signer';

const DIFFICULTY = 6;
const NOW = 1_700_000_000_000;
const options = { now: NOW, powDifficulty: DIFFICULTY };

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
const skill = fc.record({
  name: fc.stringMatching(/^[a-z0-9_-]{1,64}$/),
  version: fc.stringMatching(/^[0-9A-Za-z.+-]{1,32}$/),
  pricePerMwork: fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }),
});
const advertised = fc.record({
  gatewayAddress: fc.tuple(fc.domain(), fc.integer({ min: 1, max: 65_535 })).map(([host, port]) => `${host}:${port}`),
  skills: fc.uniqueArray(skill, { selector: (s) => s.name, maxLength: MAX_SKILLS }),
  capacity: fc.integer({ min: 0, max: 65_535 }),
  load: fc.double({ min: 0, max: 1, noNaN: true }),
  resources: fc.record({ backend: fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/), threads: fc.integer({ min: 0, max: 4_096 }) }),
  ttlMs: fc.integer({ min: 1, max: 3_600_000 }),
});

function make(keySeed: Uint8Array, fields: Partial<RecordFields> = {}) {
  const signer = seededSigner(keySeed);
  return { signer, ...createRecord(validFields(signer, DIFFICULTY, fields), signer, manualClock(NOW)) };
}

describe('records - properties', () => {
  it('round trip: every record made from valid fields verifies and decodes to those fields', () => {
    fc.assert(
      fc.property(seed, advertised, (keySeed, fields) => {
        const { bytes, record, signer } = make(keySeed, fields);
        expect(verifyRecord(bytes, { ...options, expectedId: signer.nodeId })).toEqual({ ok: true, record });
        const { ttlMs, ...advertisedFields } = fields;
        expect(record).toMatchObject({ ...advertisedFields, nodeId: signer.nodeId, expiresAtMs: BigInt(NOW + ttlMs) });
      }),
    );
  });

  it('refuses any single-byte change anywhere in the signed record, its signature or the envelope', () => {
    const { bytes } = make(new Uint8Array(32).fill(7));
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, mask) => {
        const flipped = Uint8Array.from(bytes);
        flipped[at] ^= mask;
        expect(verifyRecord(flipped, options).ok).toBe(false);
      }),
      { numRuns: 1_000 },
    );
  });

  it('refuses a record whose signature is by any other key', () => {
    fc.assert(
      fc.property(seed, seed, (ownerSeed, forgerSeed) => {
        fc.pre(Buffer.compare(ownerSeed, forgerSeed) !== 0);
        const { bytes } = make(ownerSeed);
        const forger = seededSigner(forgerSeed);
        const { record } = SignedNodeRecord.decode(bytes);
        const forged = SignedNodeRecord.encode({ record, signature: forger.sign(record) }).finish();
        const check = verifyRecord(forged, options);
        expect(check.ok ? 'accepted' : check.refusal.reason).toBe('bad-signature');
        // Re-signing the forger's own key into the record makes the id not match it.
        const swapped = NodeRecord.encode({ ...NodeRecord.decode(record), publicKey: forger.publicKey }).finish();
        const rekeyed = verifyRecord(SignedNodeRecord.encode({ record: swapped, signature: forger.sign(swapped) }).finish(), options);
        expect(rekeyed.ok ? 'accepted' : rekeyed.refusal.reason).toBe('id-mismatch');
      }),
    );
  });
});

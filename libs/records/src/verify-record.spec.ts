import { ErrorCode, NodeRecord, SignedNodeRecord, SwarmError } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import { createRecord, DEFAULT_MAX_SKEW_MS, DEFAULT_MAX_TTL_MS, hasProofOfWork, isNewer, MAX_RECORD_BYTES, MAX_SKILLS, RecordRefusal, verifyRecord } from './index';
import type { RecordCheck, RefusalReason, VerifyOptions } from './index';
import { seededSigner, validFields, type TestSigner } from './test-fixtures/seeded-signer';

const DIFFICULTY = 8;
const NOW = 1_700_000_000_000;
const alice = seededSigner(1);
const mallory = seededSigner(2);
const options: VerifyOptions = { now: NOW, powDifficulty: DIFFICULTY };

function aliceRecord(overrides: Parameters<typeof validFields>[2] = {}, at = NOW) {
  return createRecord(validFields(alice, DIFFICULTY, overrides), alice, manualClock(at));
}

/** Encodes and signs a record as given, skipping createRecord's own checks: how a forger would. */
function signRaw(record: NodeRecord, signer: TestSigner): Uint8Array {
  const bytes = NodeRecord.encode(record).finish();
  return SignedNodeRecord.encode({ record: bytes, signature: signer.sign(bytes) }).finish();
}

function refusalOf(check: RecordCheck): RecordRefusal {
  if (check.ok) throw new Error('expected a refusal, the record was accepted');
  return check.refusal;
}

function expectRefused(check: RecordCheck, reason: RefusalReason, code: ErrorCode = ErrorCode.ERROR_CODE_INVALID_RECORD): RecordRefusal {
  const refusal = refusalOf(check);
  expect(refusal).toBeInstanceOf(SwarmError);
  expect({ reason: refusal.reason, code: refusal.code }).toEqual({ reason, code });
  expect(refusal.message).toContain(`(${reason})`);
  return refusal;
}

describe('records - round trip', () => {
  it('accepts its own record and returns the fields it was made from', () => {
    const { bytes, record } = aliceRecord();
    const check = verifyRecord(bytes, { ...options, expectedId: alice.nodeId });
    expect(check).toEqual({ ok: true, record });
    expect(record).toMatchObject({ nodeId: alice.nodeId, gatewayAddress: '127.0.0.1:7400', capacity: 4, load: 0.25, issuedAtMs: BigInt(NOW), expiresAtMs: BigInt(NOW + 600_000) });
    expect(record.skills.map((s) => s.name)).toEqual(['matmul', 'vecadd']);
  });

  it('accepts fields this build does not know inside the signed record (a newer node)', () => {
    const { record } = aliceRecord();
    const known = NodeRecord.encode(record).finish();
    const withUnknown = Uint8Array.from([...known, 0xfa, 0x06, 0x02, 0x68, 0x69]); // field 111, "hi"
    const bytes = SignedNodeRecord.encode({ record: withUnknown, signature: alice.sign(withUnknown) }).finish();
    expect(verifyRecord(bytes, options).ok).toBe(true);
  });

  it('fits the largest record the field rules allow under MAX_RECORD_BYTES', () => {
    const skills = Array.from({ length: MAX_SKILLS }, (_, i) => ({ name: `${i}`.padStart(64, 's'), version: 'v'.repeat(32), pricePerMwork: BigInt(Number.MAX_SAFE_INTEGER) }));
    const longest = {
      gatewayAddress: `${'h'.repeat(253)}:65535`,
      skills,
      capacity: 65_535,
      load: 0.123456789,
      resources: { backend: 'b'.repeat(32), threads: 4096 },
      powNonce: 2n ** 64n - 1n,
    };
    const bytes = signRaw({ ...aliceRecord().record, ...longest }, alice);
    expect(bytes.length).toBeLessThanOrEqual(MAX_RECORD_BYTES);
  });
});

describe('records - forged records', () => {
  it('refuses a valid signature by another key over a record claiming alice', () => {
    expectRefused(verifyRecord(signRaw(aliceRecord().record, mallory), options), 'bad-signature');
  });

  it("refuses mallory's own valid record where alice's was expected", () => {
    const own = createRecord(validFields(mallory, DIFFICULTY), mallory, manualClock(NOW));
    expect(verifyRecord(own.bytes, options).ok).toBe(true);
    expectRefused(verifyRecord(own.bytes, { ...options, expectedId: alice.nodeId }), 'unexpected-id');
  });

  it("refuses a node id that is not the hash of the record's key", () => {
    const forged = { ...aliceRecord().record, publicKey: mallory.publicKey };
    expectRefused(verifyRecord(signRaw(forged, mallory), options), 'id-mismatch');
  });

  it('refuses an expired record, and accepts it until the last millisecond', () => {
    const { bytes, record } = aliceRecord();
    const expiry = Number(record.expiresAtMs);
    expect(verifyRecord(bytes, { ...options, now: expiry - 1 }).ok).toBe(true);
    expectRefused(verifyRecord(bytes, { ...options, now: expiry }), 'expired');
  });

  it('refuses a record issued further ahead than the clock skew allows', () => {
    const ahead = aliceRecord({}, NOW + DEFAULT_MAX_SKEW_MS);
    expect(verifyRecord(ahead.bytes, options).ok).toBe(true);
    const tooFar = aliceRecord({}, NOW + DEFAULT_MAX_SKEW_MS + 1);
    expectRefused(verifyRecord(tooFar.bytes, options), 'from-future');
    expectRefused(verifyRecord(tooFar.bytes, { ...options, maxSkewMs: 0, now: NOW + 1 }), 'from-future');
  });

  it('refuses an oversized record before decoding it', () => {
    const { bytes } = aliceRecord();
    expectRefused(verifyRecord(bytes, { ...options, maxBytes: bytes.length - 1 }), 'oversized', ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE);
    expectRefused(verifyRecord(new Uint8Array(MAX_RECORD_BYTES + 1), options), 'oversized', ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE);
  });

  it('refuses a proof of work below the difficulty', () => {
    let weak = 0n;
    while (hasProofOfWork(alice.nodeId, weak, DIFFICULTY)) weak++;
    expectRefused(verifyRecord(signRaw({ ...aliceRecord().record, powNonce: weak }, alice), options), 'bad-pow');
    // A nonce good for 8 bits is rarely good for 24: a swarm's difficulty is one shared setting.
    expectRefused(verifyRecord(aliceRecord().bytes, { ...options, powDifficulty: 24 }), 'bad-pow');
  });

  it('refuses a replayed older record, and an equal one, once a newer one is held', () => {
    const older = aliceRecord({}, NOW - 1_000);
    const newer = aliceRecord({}, NOW);
    expect(verifyRecord(newer.bytes, { ...options, stored: older.record }).ok).toBe(true);
    expectRefused(verifyRecord(older.bytes, { ...options, stored: newer.record }), 'stale', ErrorCode.ERROR_CODE_STALE_RECORD);
    expectRefused(verifyRecord(newer.bytes, { ...options, stored: newer.record }), 'stale', ErrorCode.ERROR_CODE_STALE_RECORD);
    const malloryHeld = createRecord(validFields(mallory, DIFFICULTY), mallory, manualClock(NOW - 5_000)).record;
    expectRefused(verifyRecord(newer.bytes, { ...options, stored: malloryHeld }), 'unexpected-id');
  });

  it('refuses bytes that are not a signed record, and extra bytes in the unsigned envelope', () => {
    expectRefused(verifyRecord(Uint8Array.from([0xff, 0xff, 0xff]), options), 'malformed', ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
    expectRefused(verifyRecord(new Uint8Array(0), options), 'bad-signature');
    const { bytes } = aliceRecord();
    const padded = Uint8Array.from([...bytes, 0x1a, 0x01, 0x00]); // field 3: not part of the envelope
    expectRefused(verifyRecord(padded, options), 'malformed', ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
    const { record } = SignedNodeRecord.decode(bytes);
    expectRefused(verifyRecord(SignedNodeRecord.encode({ record, signature: new Uint8Array(63) }).finish(), options), 'bad-signature');
  });
});

describe('records - field rules', () => {
  const base = aliceRecord().record;
  const cases: [string, Partial<NodeRecord>][] = [
    ['load above 1', { load: 1.5 }],
    ['negative load', { load: -0.1 }],
    ['NaN load', { load: Number.NaN }],
    ['capacity beyond the limit', { capacity: 70_000 }],
    ['too many skills', { skills: Array.from({ length: MAX_SKILLS + 1 }, (_, i) => ({ name: `s${i}`, version: '1', pricePerMwork: 1n })) }],
    ['a skill name with capitals', { skills: [{ name: 'MatMul', version: '1', pricePerMwork: 1n }] }],
    ['an empty skill name', { skills: [{ name: '', version: '1', pricePerMwork: 1n }] }],
    ['a repeated skill', { skills: [0, 1].map(() => ({ name: 'matmul', version: '1', pricePerMwork: 1n })) }],
    ['an empty version', { skills: [{ name: 'matmul', version: '', pricePerMwork: 1n }] }],
    ['a price beyond a safe integer', { skills: [{ name: 'matmul', version: '1', pricePerMwork: 2n ** 60n }] }],
    ['an address with no port', { gatewayAddress: '127.0.0.1' }],
    ['port 0', { gatewayAddress: 'node.example:0' }],
    ['an empty address', { gatewayAddress: '' }],
    ['an address with a path', { gatewayAddress: 'evil.example:80/x' }],
    ['missing resources', { resources: undefined }],
    ['an empty backend', { resources: { backend: '', threads: 1 } }],
    ['too many threads', { resources: { backend: 'cpu', threads: 5_000 } }],
    ['a lifetime past the limit', { expiresAtMs: base.issuedAtMs + BigInt(DEFAULT_MAX_TTL_MS) + 1n }],
    ['expiry before issue', { expiresAtMs: base.issuedAtMs }],
    ['issued at 0', { issuedAtMs: 0n }],
    ['a short public key', { publicKey: alice.publicKey.subarray(1) }],
    ['an upper-case node id', { nodeId: alice.nodeId.toUpperCase() }],
  ];

  it.each(cases)('refuses %s', (_name, change) => {
    expectRefused(verifyRecord(signRaw({ ...base, ...change }, alice), options), 'invalid-field');
  });

  it('accepts the edges of each range', () => {
    for (const change of [{ load: 0 }, { load: 1 }, { capacity: 0 }, { skills: [] }, { gatewayAddress: '[::1]:65535' }, { resources: { backend: 'cpu', threads: 0 } }]) {
      expect(verifyRecord(signRaw({ ...base, ...change }, alice), options)).toMatchObject({ ok: true });
    }
  });

  it('never signs fields its peers would refuse', () => {
    expect(() => aliceRecord({ load: 2 })).toThrow(RecordRefusal);
    expect(() => aliceRecord({ ttlMs: 0 })).toThrow(/expires_at_ms/);
    expect(() => aliceRecord({ ttlMs: DEFAULT_MAX_TTL_MS + 1 })).toThrow(/lifetime/);
  });

  it('throws INVALID_ARGUMENT for options a caller got wrong, not a refusal of the record', () => {
    const { bytes } = aliceRecord();
    expect(() => verifyRecord(bytes, { ...options, powDifficulty: -1 })).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }));
    expect(() => verifyRecord(bytes, { ...options, now: Number.NaN })).toThrow(/now/);
  });
});

describe('records - replacement order', () => {
  it('makes issued-at strictly increase over the previous record, even within one millisecond', () => {
    const first = aliceRecord();
    const second = createRecord(validFields(alice, DIFFICULTY), alice, manualClock(NOW), { previous: first.record });
    expect(second.record.issuedAtMs).toBe(first.record.issuedAtMs + 1n);
    expect(isNewer(second.record, first.record)).toBe(true);
    expect(isNewer(first.record, second.record)).toBe(false);
    expect(isNewer(first.record, first.record)).toBe(false);
    expect(verifyRecord(second.bytes, { ...options, stored: first.record }).ok).toBe(true);
  });

  it('never calls a record of another node newer', () => {
    const other = createRecord(validFields(mallory, DIFFICULTY), mallory, manualClock(NOW + 1)).record;
    expect(isNewer(other, aliceRecord().record)).toBe(false);
  });
});

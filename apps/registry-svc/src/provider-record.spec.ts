import { manualClock } from '@swarm/determinism';
import { createRecordValidator, nodeRecordKey, nodeRecordOf, providerOfRecord } from './provider-record';
import { createTestSigner, signTestRecord, TEST_POW_DIFFICULTY } from './test-fixtures/test-signer';

const NOW = 1_800_000_000_000;
const clock = manualClock(NOW);
const alice = createTestSigner();
const bob = createTestSigner();
const validate = createRecordValidator(TEST_POW_DIFFICULTY);

describe('provider record - validator and provider', () => {
  const record = signTestRecord(alice, clock, {
    gatewayAddress: '10.0.0.5:7400',
    ttlMs: 60_000,
    capacity: 4,
    load: 0.5,
    skills: [
      { name: 'matmul', version: '1', pricePerMwork: 3n },
      { name: 'vecadd', version: '1', pricePerMwork: 1n },
    ],
  });

  it('accepts a signed record under a skill it offers, as its node, until its expiry', () => {
    expect(validate('matmul', record.bytes, NOW)).toEqual({ ok: true, provider: alice.nodeId, issuedAtMs: NOW, expiresAtMs: NOW + 60_000 });
  });

  it('refuses it under a skill it does not offer, once expired, and with a changed byte', () => {
    expect(validate('conv2d', record.bytes, NOW)).toEqual({ ok: false, reason: expect.stringContaining("does not offer 'conv2d'") });
    expect(validate('matmul', record.bytes, NOW + 60_000)).toEqual({ ok: false, reason: expect.stringContaining('(expired)') });
    const tampered = record.bytes.slice();
    tampered[tampered.length - 70] ^= 1;
    expect(validate('matmul', tampered, NOW)).toMatchObject({ ok: false });
  });

  it('refuses a record whose proof of work falls short of the swarm difficulty', () => {
    expect(createRecordValidator(40)('matmul', record.bytes, NOW)).toEqual({ ok: false, reason: expect.stringContaining('(bad-pow)') });
  });

  it('makes a remote provider with the endpoint, the price of the skill asked and the expiry', () => {
    expect(providerOfRecord('vecadd', record.bytes, NOW, TEST_POW_DIFFICULTY)?.provider).toEqual({
      nodeId: alice.nodeId,
      local: false,
      skills: ['matmul', 'vecadd'],
      endpoint: `${alice.nodeId}@10.0.0.5:7400`,
      load: 0.5,
      capacity: 4,
      pricePerMwork: 1n,
      rttMs: 0,
      expiresAtMs: BigInt(NOW + 60_000),
    });
    // Its round trip is probed at its DHT endpoint: the gateway address with the record's proof of work.
    expect(providerOfRecord('vecadd', record.bytes, NOW, TEST_POW_DIFFICULTY)?.probeEndpoint).toBe(`${alice.nodeId}:${alice.powNonce}@10.0.0.5:7400`);
    expect(providerOfRecord('conv2d', record.bytes, NOW, TEST_POW_DIFFICULTY)).toBeUndefined();
    expect(providerOfRecord('matmul', new Uint8Array([1, 2, 3]), NOW, TEST_POW_DIFFICULTY)).toBeUndefined();
  });

  it('accepts a record under its own node key, skills or none, and refuses it under another node key', () => {
    const bare = signTestRecord(alice, clock, { skills: [], ttlMs: 60_000 });
    for (const r of [record, bare]) {
      expect(validate(nodeRecordKey(alice.nodeId), r.bytes, NOW)).toEqual({ ok: true, provider: alice.nodeId, issuedAtMs: NOW, expiresAtMs: NOW + 60_000 });
    }
    // Bob cannot vouch for Alice, nor Alice for Bob: only the node itself fills its key.
    expect(validate(nodeRecordKey(bob.nodeId), bare.bytes, NOW)).toEqual({ ok: false, reason: expect.stringContaining('(unexpected-id)') });
    const bobs = signTestRecord(bob, clock, { skills: [] });
    expect(validate(nodeRecordKey(alice.nodeId), bobs.bytes, NOW)).toEqual({ ok: false, reason: expect.stringContaining('(unexpected-id)') });
    // A record with no skills offers none to be stored under.
    expect(validate('matmul', bare.bytes, NOW)).toEqual({ ok: false, reason: expect.stringContaining("does not offer 'matmul'") });
  });

  it('refuses node keys that name no node id, without quoting them whole', () => {
    for (const key of ['node/', 'node/xyz', `node/${alice.nodeId.toUpperCase()}`, `node/${alice.nodeId}0`, `node/${'z'.repeat(200)}`]) {
      const verdict = validate(key, record.bytes, NOW);
      expect(verdict).toEqual({ ok: false, reason: expect.stringContaining('is not node/<64 hex node id>') });
      if (!verdict.ok) expect(verdict.reason.length).toBeLessThan(120);
    }
  });

  it("reads a node's record from its node key, until it expires", () => {
    expect(nodeRecordOf(alice.nodeId, record.bytes, NOW, TEST_POW_DIFFICULTY)).toMatchObject({ nodeId: alice.nodeId, gatewayAddress: '10.0.0.5:7400' });
    expect(nodeRecordOf(alice.nodeId, record.bytes, NOW + 60_000, TEST_POW_DIFFICULTY)).toBeUndefined();
    expect(nodeRecordOf(bob.nodeId, record.bytes, NOW, TEST_POW_DIFFICULTY)).toBeUndefined();
  });
});

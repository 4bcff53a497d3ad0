import { ErrorCode, type SignRecordRequest } from '@swarm/contracts';
import { manualClock } from '@swarm/determinism';
import type { RecordSigner } from '@swarm/records';
import { findPowNonce, nodeIdOfKey, verifyRecord } from '@swarm/records';
import { SignedNodeRecord } from '@swarm/contracts';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { createRecordSigning } from './record-signing';

const DIFFICULTY = 8;

function testSigner(): RecordSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { publicKey: new Uint8Array(spki.subarray(spki.length - 32)), sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

const REQUEST: SignRecordRequest = {
  skills: [{ name: 'vecadd', version: '1.0.0', pricePerMwork: 5n }],
  capacity: 4,
  load: 0.25,
  resources: { backend: 'cpu', threads: 2 },
  ttlMs: 60_000n,
};

describe('record signing - the node record the gateway signs for registry-svc', () => {
  const signer = testSigner();
  const nodeId = nodeIdOfKey(signer.publicKey);
  const powNonce = findPowNonce(nodeId, DIFFICULTY);

  it('signs a record peers accept, with this gateway address, and issued-at strictly increasing', () => {
    const clock = manualClock(1_700_000_000_000);
    const signing = createRecordSigning({ signer, powNonce, gatewayAddress: '127.0.0.1:7700', clock });
    const first = signing.sign(REQUEST);
    const second = signing.sign(REQUEST); // same millisecond
    const bytes = (s: SignedNodeRecord) => SignedNodeRecord.encode(s).finish();
    const a = verifyRecord(bytes(first), { now: clock.now(), powDifficulty: DIFFICULTY, expectedId: nodeId });
    const b = verifyRecord(bytes(second), { now: clock.now(), powDifficulty: DIFFICULTY, expectedId: nodeId });
    if (!a.ok || !b.ok) throw new Error('a signed record was refused');
    expect(a.record).toMatchObject({ nodeId, gatewayAddress: '127.0.0.1:7700', capacity: 4, load: 0.25, issuedAtMs: 1_700_000_000_000n, expiresAtMs: 1_700_000_060_000n });
    expect(b.record.issuedAtMs).toBe(a.record.issuedAtMs + 1n);
  });

  it('refuses bad fields with INVALID_ARGUMENT, quoting no input whole, and signs afterwards', () => {
    const signing = createRecordSigning({ signer, powNonce, gatewayAddress: '127.0.0.1:7700', clock: manualClock(1_700_000_000_000) });
    const refused = (req: Partial<SignRecordRequest>) => {
      try {
        signing.sign({ ...REQUEST, ...req });
      } catch (err) {
        return err as { code: ErrorCode; message: string };
      }
      throw new Error('signed a bad request');
    };
    expect(refused({ ttlMs: 0n })).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(refused({ ttlMs: 2n ** 63n })).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(refused({ resources: undefined })).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: 'resources must be present' });
    expect(refused({ load: 2 })).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT, message: expect.stringContaining('load must be a number 0..1') });
    const long = refused({ skills: [{ name: 'x'.repeat(100_000), version: '1', pricePerMwork: 0n }] });
    expect(long).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT });
    expect(long.message.length).toBeLessThan(300);
    expect(refused({ skills: Array.from({ length: 33 }, (_, i) => ({ name: `s${i}`, version: '1', pricePerMwork: 0n })) })).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
    });
    expect(() => signing.sign(REQUEST)).not.toThrow();
  });
});

/**
 * For tests: a node key made on the spot, signing NodeRecords as a gateway does (libs/records
 * createRecord, with the proof of work found for the test's low difficulty). Never for real nodes.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import type { NodeRecord, RecordSkill } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import type { RecordSigner, SignedRecord } from '@swarm/records';
import { createRecord, findPowNonce, nodeIdOfKey } from '@swarm/records';

/** Low enough to find at once, high enough that a wrong nonce fails (1 in 16 passes by chance). */
export const TEST_POW_DIFFICULTY = 4;
const SPKI_PREFIX_BYTES = 12;

export interface TestSigner extends RecordSigner {
  readonly nodeId: string;
  readonly powNonce: bigint;
}

export function createTestSigner(powDifficulty = TEST_POW_DIFFICULTY): TestSigner {
  const { privateKey, publicKey: publicKeyObject } = generateKeyPairSync('ed25519');
  const publicKey = new Uint8Array(publicKeyObject.export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX_BYTES));
  const nodeId = nodeIdOfKey(publicKey);
  return { nodeId, publicKey, powNonce: findPowNonce(nodeId, powDifficulty), sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

export interface TestRecordFields {
  readonly gatewayAddress?: string;
  readonly skills?: readonly RecordSkill[];
  readonly ttlMs?: number;
  readonly capacity?: number;
  readonly load?: number;
  readonly previous?: NodeRecord;
}

export function signTestRecord(signer: TestSigner, clock: WallClock, fields: TestRecordFields = {}): SignedRecord {
  return createRecord(
    {
      gatewayAddress: fields.gatewayAddress ?? '127.0.0.1:7400',
      skills: fields.skills ?? [{ name: 'matmul', version: '1', pricePerMwork: 3n }],
      capacity: fields.capacity ?? 2,
      load: fields.load ?? 0,
      resources: { backend: 'cpu', threads: 2 },
      powNonce: signer.powNonce,
      ttlMs: fields.ttlMs ?? 60_000,
    },
    signer,
    clock,
    fields.previous ? { previous: fields.previous } : {},
  );
}

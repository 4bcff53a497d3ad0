/**
 * For tests: Ed25519 signers from fixed seeds (RFC 8032 keys are 32-byte seeds), so a test names its
 * keys instead of drawing them, and fast-check can shrink them. Never for real nodes.
 */
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import type { RecordFields, RecordSigner } from '../create-record';
import { nodeIdOfKey } from '../node-key';
import { findPowNonce } from '../proof-of-work';

// DER prefixes of an Ed25519 PKCS#8 private key and SubjectPublicKeyInfo (RFC 8410 §7, §4).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX_BYTES = 12;

export interface TestSigner extends RecordSigner {
  readonly nodeId: string;
}

/** A signer whose key is derived from `seed` (a number fills the 32 bytes with it). */
export function seededSigner(seed: number | Uint8Array): TestSigner {
  const seedBytes = typeof seed === 'number' ? new Uint8Array(32).fill(seed & 0xff) : seed;
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seedBytes]), format: 'der', type: 'pkcs8' });
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX_BYTES));
  return { nodeId: nodeIdOfKey(publicKey), publicKey, sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

/** Valid fields for `signer`'s node, with a proof of work of `difficulty` bits. */
export function validFields(signer: TestSigner, difficulty: number, overrides: Partial<RecordFields> = {}): RecordFields {
  return {
    gatewayAddress: '127.0.0.1:7400',
    skills: [
      { name: 'matmul', version: '1.0.0', pricePerMwork: 2n },
      { name: 'vecadd', version: '1.0.0', pricePerMwork: 1n },
    ],
    capacity: 4,
    load: 0.25,
    resources: { backend: 'cpu', threads: 4 },
    powNonce: findPowNonce(signer.nodeId, difficulty),
    ttlMs: 600_000,
    ...overrides,
  };
}

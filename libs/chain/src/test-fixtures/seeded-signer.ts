/**
 * For tests and benches: Ed25519 signers from fixed seeds (RFC 8032 keys are 32-byte seeds), so a
 * test names its keys instead of drawing them. Never for real nodes.
 */
import { nodeIdOfKey } from '@swarm/records';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import type { ChainSigner } from '../signing';

// DER prefix of an Ed25519 PKCS#8 private key (RFC 8410 §7); the SPKI's raw key is its last 32 bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX_BYTES = 12;

export interface TestSigner extends ChainSigner {
  readonly nodeId: string;
}

/** A signer whose key is derived from `seed` (a number fills the 32 bytes with it). */
export function seededSigner(seed: number): TestSigner {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, new Uint8Array(32).fill(seed & 0xff)]), format: 'der', type: 'pkcs8' });
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX_BYTES));
  return { nodeId: nodeIdOfKey(publicKey), publicKey, sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

/**
 * Ed25519 and the node id, as records need them. Verifying is deterministic, so it belongs in the
 * pure core; signing stays with whoever holds the key (a RecordSigner, e.g. libs/identity).
 */
import { createHash, createPublicKey, hash, verify } from 'node:crypto';

// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4); the raw 32-byte key follows it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
export const SIGNATURE_BYTES = 64;

// One-shot `hash` costs about 40% of a Hash object's create-update-digest, and every receipt and
// record check hashes both keys. Node added it in 20.12; `engines` allows 20.6.
const oneShotHash = typeof hash === 'function' ? hash : undefined;

/** Lowercase hex SHA-256 of the raw public key: the node id. */
export function nodeIdOfKey(publicKey: Uint8Array): string {
  return oneShotHash ? oneShotHash('sha256', publicKey, 'hex') : createHash('sha256').update(publicKey).digest('hex');
}

/** False for a wrong signature and for bytes that are no Ed25519 key or signature at all. */
export function verifyEd25519(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}

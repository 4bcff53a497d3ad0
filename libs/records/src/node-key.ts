/**
 * Ed25519 and the node id, as records need them. Verifying is deterministic, so it belongs in the
 * pure core; signing stays with whoever holds the key (a RecordSigner, e.g. libs/identity).
 */
import type { KeyObject } from 'node:crypto';
import { createHash, createPublicKey, hash, verify } from 'node:crypto';
import { RecencyMap } from '@swarm/recency-map';
import { PUBLIC_KEY_BYTES } from './record-rules';

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

/**
 * Parsed keys kept per process, the least recently used dropped first past this many. Turning 32 raw
 * bytes into a KeyObject costs as much CPU as the verification itself (~175 µs each here), and a
 * process meets the same keys again and again: a payer's in every block and sighting, a peer's in
 * every record. A stream of ever new keys only evicts (no key is parsed more often than with no cache).
 */
export const MAX_PARSED_KEYS = 4_096;

/** The KeyObject of a raw Ed25519 public key, or null when the bytes are none (a bad key is kept too: not parsed twice). */
export type ParsedKeys = (publicKey: Uint8Array) => KeyObject | null;

/** Keys parsed from raw bytes, at most `maxKeys` kept (ed25519PublicKey is the process's one; tests make small ones). */
export function createParsedKeys(maxKeys: number): ParsedKeys {
  // Most recently used last: a payer's key in use stays through a stream of others.
  const kept = new RecencyMap<string, KeyObject | null>(maxKeys);
  return (publicKey) => {
    // One copy of the bytes, read once, names the kept key and is what gets parsed (helper-165: a
    // wider typed array's first 32 bytes named a key other bytes were parsed into).
    if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES) return null;
    const bytes = Buffer.from(publicKey);
    const id = bytes.toString('latin1');
    let key = kept.use(id);
    if (key !== undefined) return key;
    try {
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
    kept.set(id, key);
    return key;
  };
}

/** The process's parsed keys (MAX_PARSED_KEYS of them), which verifyEd25519 and @swarm/chain's checks share. */
export const ed25519PublicKey: ParsedKeys = createParsedKeys(MAX_PARSED_KEYS);

/**
 * Signatures that verified, kept per process, the least recently used dropped first past this many.
 * A node meets the same signed bytes again and again: a payer's block in every payee's sighting of
 * it, at each look; a record at each lookup that finds it; a receipt when it is offered,
 * countersigned and audited. A verification costs ~60-190 µs here, a look-up a SHA-256 of the bytes.
 */
export const MAX_VERIFIED_SIGNATURES = 16_384;

/**
 * Signed bytes longer than this are verified without being kept: what is met again is small (blocks,
 * records, sightings, receipts), while an executor's signed result, up to megabytes, is checked
 * once, and hashing it for the key would add about a third to its check (helper-171).
 */
export const MAX_REMEMBERED_BYTES = 16 * 1024;

/** Checks a signature under a parsed key (node:crypto's verify; tests count the calls). */
export type KeyedCheck = (data: Uint8Array, key: KeyObject, signature: Uint8Array) => boolean;

const cryptoCheck: KeyedCheck = (data, key, signature) => verify(null, data, key, signature);

/** SHA-256 of `data`, as one string of its 32 bytes. */
const digestOf = (data: Uint8Array): string => (oneShotHash ? oneShotHash('sha256', data, 'base64') : createHash('sha256').update(data).digest('base64'));

/**
 * An Ed25519 check (see verifyEd25519) that keeps at most `maxVerified` signatures that passed
 * (over at most MAX_REMEMBERED_BYTES), keyed by the exact key bytes, signature bytes and SHA-256 of
 * the signed bytes, and answers one of those again without verifying it. Only a pass is kept: a signature that failed is checked again
 * every time, and other bytes under a kept signature are other bytes (a collision of SHA-256 aside).
 */
export function createEd25519Verify(
  parsedKeys: ParsedKeys,
  maxVerified: number,
  check: KeyedCheck = cryptoCheck,
): (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array) => boolean {
  /** Set order: least recently used first. */
  const verified = new RecencyMap<string, true>(maxVerified);
  return (publicKey, data, signature) => {
    if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
    if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES || !(data instanceof Uint8Array)) return false;
    const id = data.byteLength > MAX_REMEMBERED_BYTES ? undefined : `${Buffer.from(publicKey).toString('latin1')}${Buffer.from(signature).toString('latin1')}${digestOf(data)}`;
    if (id !== undefined && verified.use(id)) return true;
    const key = parsedKeys(publicKey);
    if (key === null) return false;
    let ok: boolean;
    try {
      ok = check(data, key, signature);
    } catch {
      return false;
    }
    if (ok && id !== undefined) verified.set(id, true);
    return ok;
  };
}

/**
 * False for a wrong signature and for bytes that are no Ed25519 key or signature at all. The
 * process's one check: parsed keys (ed25519PublicKey) and passed signatures (MAX_VERIFIED_SIGNATURES) kept.
 */
export const verifyEd25519 = createEd25519Verify(ed25519PublicKey, MAX_VERIFIED_SIGNATURES);

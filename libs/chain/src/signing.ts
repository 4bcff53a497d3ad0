/**
 * What receipt and block signatures cover. Each use of the node key has its own domain tag, so a
 * signature made for a receipt can never pass as one for a block, a NodeRecord or a result.
 * Signing stays with whoever holds the key (a ChainSigner, e.g. libs/identity's NodeIdentity);
 * verifying is deterministic and belongs here.
 */
import type { RecordSigner } from '@swarm/records';
import { ed25519PublicKey, NODE_ID, verifyEd25519 } from '@swarm/records';
import { createHash, verify } from 'node:crypto';
import { RecencyMap } from '@swarm/recency-map';

/** `publicKey`: raw 32-byte Ed25519 key; `sign(data)`: its 64-byte signature of `data`. */
export type ChainSigner = RecordSigner;

export const RECEIPT_DOMAIN = 'swarm-receipt-v1';
export const BLOCK_DOMAIN = 'swarm-block-v1';
export const VOID_DOMAIN = 'swarm-void-v1';
const RECEIPT_DOMAIN_BYTES = Buffer.from(RECEIPT_DOMAIN, 'utf8');
const VOID_DOMAIN_BYTES = Buffer.from(VOID_DOMAIN, 'utf8');
const BLOCK_DOMAIN_BYTES = Buffer.from(BLOCK_DOMAIN, 'utf8');

export const HASH_BYTES = 32;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** A node id: 64 lowercase hex characters (SHA-256 of its key), as @swarm/records defines it. */
export { NODE_ID };

/** "swarm-receipt-v1" ‖ receipt bytes: what the payer signs and the payee countersigns. */
export function receiptSigningBytes(receiptBytes: Uint8Array): Uint8Array {
  return Buffer.concat([RECEIPT_DOMAIN_BYTES, receiptBytes]);
}

/** "swarm-void-v1" ‖ receipt bytes: what the payer signs to void its receipt, and the payee countersigns to agree. */
export function voidSigningBytes(receiptBytes: Uint8Array): Uint8Array {
  return Buffer.concat([VOID_DOMAIN_BYTES, receiptBytes]);
}

/** "swarm-block-v1" ‖ block bytes: what a node signs to append a block to its chain. */
export function blockSigningBytes(blockBytes: Uint8Array): Uint8Array {
  return Buffer.concat([BLOCK_DOMAIN_BYTES, blockBytes]);
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** Whether `signature` is the Ed25519 signature of `signedBytes` under the raw 32-byte `publicKey`. */
export type SignatureCheck = (publicKey: Uint8Array, signedBytes: Uint8Array, signature: Uint8Array) => boolean;

/** A SignatureCheck answered later: node:crypto's `verify` with a callback, on libuv's thread pool. */
export type OffThreadCheck = (publicKey: Uint8Array, signedBytes: Uint8Array, signature: Uint8Array) => Promise<boolean>;

/** A SignatureCheck that can also run off the event loop (cachedSignatureCheck). */
export interface DualSignatureCheck extends SignatureCheck {
  /** The same check on libuv's thread pool: the event loop only hands it over (~116 µs of CPU a verification here). */
  readonly offThread: OffThreadCheck;
}

/** False for a wrong signature and for anything that is no Ed25519 key or signature. */
export const checkSignature: SignatureCheck = (publicKey, signedBytes, signature) => signature.length === SIGNATURE_BYTES && verifyEd25519(publicKey, signedBytes, signature);

const offThread: OffThreadCheck = (publicKey, signedBytes, signature) => {
  if (signature.length !== SIGNATURE_BYTES) return Promise.resolve(false);
  const key = ed25519PublicKey(publicKey);
  if (key === null) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify(null, signedBytes, key, signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
};
const dualCheck: DualSignatureCheck = Object.assign((publicKey: Uint8Array, signedBytes: Uint8Array, signature: Uint8Array) => checkSignature(publicKey, signedBytes, signature), {
  offThread,
});

/**
 * checkSignature, which can also verify off the event loop. Parsed keys are kept per process
 * (@swarm/records ed25519PublicKey): turning raw bytes into a key costs about as much as a
 * verification, and one audit meets the same few keys again and again.
 */
export function cachedSignatureCheck(): DualSignatureCheck {
  return dualCheck;
}

/** A SignatureCheck that also remembers signatures known to be good. */
export interface RememberingCheck extends SignatureCheck {
  /** Records a signature this process made itself, or read back from its own store (so it needs no check later). */
  remember(publicKey: Uint8Array, signedBytes: Uint8Array, signature: Uint8Array): void;
  /**
   * Checks ahead, off the event loop where the inner check can (a DualSignatureCheck), and
   * remembers a pass: the synchronous check of the same signature later is then a hit.
   */
  prove(publicKey: Uint8Array, signedBytes: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/**
 * Signatures a RememberingCheck keeps by default: more than one service's receipts in flight at
 * once (pages of 64, a few pages per payee), so one proved ahead is still there at its turn.
 */
export const DEFAULT_REMEMBERED = 4_096;

/**
 * Remembers the last `size` signatures that verified (the key, the signed bytes and the signature,
 * all compared exactly on a hit), so one receipt checked at several steps — on arrival, before it
 * is countersigned, when it is appended — costs one verification. Only a passed check or a
 * signature this process made is remembered; a failed one is checked again every time.
 */
export function rememberingSignatureCheck(inner: SignatureCheck & { readonly offThread?: OffThreadCheck }, size = DEFAULT_REMEMBERED): RememberingCheck {
  const known = new RecencyMap<string, { readonly key: Uint8Array; readonly bytes: Uint8Array }>(size);
  const remember = (publicKey: Uint8Array, signedBytes: Uint8Array, signature: Uint8Array) => {
    const id = hex(signature);
    // One already held is refreshed (moved to the newest), not a reason to forget another.
    known.set(id, { key: Uint8Array.from(publicKey), bytes: Uint8Array.from(signedBytes) });
  };
  const isKnown = (publicKey: Uint8Array, signedBytes: Uint8Array, signature: Uint8Array): boolean => {
    const hit = known.get(hex(signature));
    return hit !== undefined && sameBytes(hit.key, publicKey) && sameBytes(hit.bytes, signedBytes);
  };
  const check = (publicKey: Uint8Array, signedBytes: Uint8Array, signature: Uint8Array): boolean => {
    if (isKnown(publicKey, signedBytes, signature)) return true;
    if (!inner(publicKey, signedBytes, signature)) return false;
    remember(publicKey, signedBytes, signature);
    return true;
  };
  const prove = async (publicKey: Uint8Array, signedBytes: Uint8Array, signature: Uint8Array): Promise<boolean> => {
    if (isKnown(publicKey, signedBytes, signature)) return true;
    // Copies: what is remembered after the wait must be what was verified, whatever the caller
    // does with its buffers meanwhile.
    const [key, bytes, sig] = [Uint8Array.from(publicKey), Uint8Array.from(signedBytes), Uint8Array.from(signature)];
    const ok = inner.offThread ? await inner.offThread(key, bytes, sig) : inner(key, bytes, sig);
    if (ok) remember(key, bytes, sig);
    return ok;
  };
  return Object.assign(check, { remember, prove });
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

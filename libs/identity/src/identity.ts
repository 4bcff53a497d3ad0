/**
 * A node's identity: an Ed25519 key pair kept in `<dataDir>/node-key.pem` (mode 0600). The node id
 * is the hex SHA-256 of the raw 32-byte public key, so anyone holding the key can check the id.
 * Creation is race-free: several services of one node may start at once and all load the same key.
 */
import type { KeyObject } from 'node:crypto';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPrivateFileOnce } from './private-file';

export const KEY_FILE = 'node-key.pem';

export interface NodeIdentity {
  readonly nodeId: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  sign(data: Uint8Array): Uint8Array;
}

export class IdentityError extends Error {
  readonly code = 'SWARM_BAD_IDENTITY';
}

export function nodeIdOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex');
}

export function verifySignature(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return verify(null, data, key, signature);
}

// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4); the raw key follows it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export async function loadOrCreateIdentity(dataDir: string): Promise<NodeIdentity> {
  return (await loadOrCreateNodeKey(dataDir)).identity;
}

/** The identity with its private key, for the node's TLS certificate (node-certificate.ts). */
export async function loadOrCreateNodeKey(dataDir: string): Promise<{ identity: NodeIdentity; privateKey: KeyObject }> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, KEY_FILE);
  const pem = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return createKeyFile(path);
    throw err;
  });
  const privateKey = privateKeyFromPem(pem, path);
  return { identity: identityOf(privateKey), privateKey };
}

async function createKeyFile(path: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('ed25519');
  return createPrivateFileOnce(path, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

function privateKeyFromPem(pem: string, path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new IdentityError(`${path} is not a PEM private key`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new IdentityError(`${path} holds a ${key.asymmetricKeyType} key, expected ed25519`);
  return key;
}

/** Raw 32-byte Ed25519 public key of a public or private KeyObject. */
export function rawEd25519PublicKey(key: KeyObject): Uint8Array {
  const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
  return new Uint8Array(spki.subarray(ED25519_SPKI_PREFIX.length));
}

function identityOf(key: KeyObject): NodeIdentity {
  const publicKey = rawEd25519PublicKey(key);
  return Object.freeze({
    nodeId: nodeIdOf(publicKey),
    publicKey,
    sign: (data: Uint8Array) => new Uint8Array(sign(null, data, key)),
  });
}

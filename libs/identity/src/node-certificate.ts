/**
 * The node's X.509 certificate for peer TLS: self-signed by the node key, subject `CN=<node id>`,
 * kept beside the key in `<dataDir>/node-cert.pem` (0600). Peers trust it only because
 * sha256(its key) is the node id they expect (libs/gateway); the certificate merely carries the key
 * into the TLS handshake, so it is remade whenever it is missing, unreadable, for another key or
 * near its expiry.
 */
import type * as X509 from '@peculiar/x509';
import type { WallClock } from '@swarm/determinism';
import type { KeyObject } from 'node:crypto';
import { createPublicKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IdentityError, loadOrCreateNodeKey, nodeIdOf, rawEd25519PublicKey } from './identity';

export const CERT_FILE = 'node-cert.pem';
const DAY_MS = 86_400_000;
export const CERT_LIFETIME_MS = 365 * DAY_MS;
/** Remade this long before it expires, so a running gateway never presents an expired one. */
export const CERT_RENEW_BEFORE_MS = 30 * DAY_MS;
/** notBefore lies this far in the past: a peer whose clock is a little behind still accepts it. */
export const CERT_BACKDATE_MS = DAY_MS;
const ED25519 = { name: 'Ed25519' };
const SERIAL_BYTES = 16;

let x509Module: typeof X509 | undefined;

/**
 * @peculiar/x509 loads on first use: only making a certificate needs it (reading one is node's
 * X509Certificate), and loading it cost every process that imports @swarm/identity about 0.2 s of
 * CPU at start, half of a CLI command's.
 */
function x509(): typeof X509 {
  if (!x509Module) {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
    // tsyringe, which @peculiar/x509 uses inside, needs the Reflect metadata API loaded first.
    require('reflect-metadata');
    const loaded = require('@peculiar/x509') as typeof X509;
    /* eslint-enable @typescript-eslint/no-require-imports */
    // Node's webcrypto is the DOM Crypto at run time; this project compiles without the DOM types.
    loaded.cryptoProvider.set(webcrypto as unknown as Parameters<typeof loaded.cryptoProvider.set>[0]);
    x509Module = loaded;
  }
  return x509Module;
}

export interface NodeCertificate {
  readonly nodeId: string;
  readonly certPem: string;
  /** The node key (PKCS#8 PEM), for the TLS context only. */
  readonly keyPem: string;
  readonly notAfterMs: number;
}

/** Loads the node's certificate, making (or remaking) it when it does not fit the node key. */
export async function loadOrCreateNodeCertificate(dataDir: string, clock: WallClock): Promise<NodeCertificate> {
  const { identity, privateKey } = await loadOrCreateNodeKey(dataDir);
  const path = join(dataDir, CERT_FILE);
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const now = clock.now();
  const stored = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const current = stored === undefined ? undefined : usableCertificate(stored, identity.nodeId, now);
  if (current) return Object.freeze({ nodeId: identity.nodeId, certPem: stored as string, keyPem, notAfterMs: current.notAfterMs });
  const made = await selfSignedCertificate(privateKey, identity.nodeId, now);
  // Replaced atomically: a reader sees the old certificate or the new one, never half of one.
  const tmp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  await writeFile(tmp, made.certPem, { mode: 0o600 });
  await rename(tmp, path);
  return Object.freeze({ nodeId: identity.nodeId, certPem: made.certPem, keyPem, notAfterMs: made.notAfterMs });
}

/** The node id a certificate's Ed25519 key hashes to; throws for any other kind of key. */
export function nodeIdOfCertificate(der: Uint8Array): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    throw new IdentityError('not an X.509 certificate', { cause: err });
  }
  return nodeIdOfKey(cert.publicKey);
}

function nodeIdOfKey(key: KeyObject): string {
  if (key.asymmetricKeyType !== 'ed25519') throw new IdentityError(`certificate key is ${key.asymmetricKeyType ?? 'unknown'}, expected ed25519`);
  return nodeIdOf(rawEd25519PublicKey(key));
}

function usableCertificate(pem: string, nodeId: string, now: number): { notAfterMs: number } | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return undefined;
  }
  const notAfterMs = Date.parse(cert.validTo);
  const fits =
    cert.publicKey.asymmetricKeyType === 'ed25519' &&
    nodeIdOfKey(cert.publicKey) === nodeId &&
    cert.subject === `CN=${nodeId}` &&
    Date.parse(cert.validFrom) <= now &&
    notAfterMs - now > CERT_RENEW_BEFORE_MS;
  return fits ? { notAfterMs } : undefined;
}

async function selfSignedCertificate(privateKey: KeyObject, nodeId: string, now: number): Promise<{ certPem: string; notAfterMs: number }> {
  const keys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), ED25519, false, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', createPublicKey(privateKey).export({ type: 'spki', format: 'der' }), ED25519, true, ['verify']),
  };
  // X.509 serials are positive: clear the top bit.
  const serial = randomBytes(SERIAL_BYTES);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  // Whole seconds: X.509 times have no milliseconds, and notAfterMs must equal what is stored.
  const notAfterMs = Math.floor((now + CERT_LIFETIME_MS) / 1000) * 1000;
  const x = x509();
  const cert = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: `CN=${nodeId}`,
    notBefore: new Date(now - CERT_BACKDATE_MS),
    notAfter: new Date(notAfterMs),
    signingAlgorithm: ED25519,
    keys,
    extensions: [new x.BasicConstraintsExtension(false, undefined, true), new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature, true)],
  });
  return { certPem: cert.toString('pem'), notAfterMs };
}

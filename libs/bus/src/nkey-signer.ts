/**
 * NKey authentication with node's own Ed25519 instead of the pure-JS one nats.js bundles
 * (nkeys.js on tweetnacl). nats.js's nkeyAuthenticator re-derives the key pair from the seed and
 * signs in JavaScript on every (re)connect: about 0.3 s of CPU each here, enough that a loaded box
 * could not finish a handshake within the client's timeout. The key is derived once (nkeys.js,
 * for the public NKey) and every nonce is signed natively (microseconds). Ed25519 is
 * deterministic, so the signature is the one nkeys.js would make (tested).
 */
import { createPrivateKey, sign } from 'node:crypto';
import type { Authenticator } from 'nats';
import { nkeys as untypedNkeys } from 'nats';

/** nats re-exports nkeys.js typed as `any`; the calls used here, typed. */
interface SeedKeys {
  fromSeed(seed: Uint8Array): { getPublicKey(): string; getRawSeed(): Uint8Array };
  encode(bytes: Uint8Array): string;
}
const nkeys = untypedNkeys as SeedKeys;

/** PKCS#8 DER header of an Ed25519 private key: followed by the 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An authenticator for the NKey user `seed` (its text, as in a seed file). */
export function nativeNkeyAuthenticator(seed: Uint8Array): Authenticator {
  const pair = nkeys.fromSeed(seed);
  const nkey = pair.getPublicKey();
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(pair.getRawSeed())]), format: 'der', type: 'pkcs8' });
  return (nonce?: string) => ({ nkey, sig: nonce ? nkeys.encode(new Uint8Array(sign(null, Buffer.from(nonce, 'utf8'), key))) : '' });
}

/**
 * NKey authentication with node's own Ed25519 instead of the pure-JS one nats.js bundles
 * (nkeys.js on tweetnacl). nats.js's nkeyAuthenticator re-derives the key pair from the seed and
 * signs in JavaScript on every (re)connect: about 0.3 s of CPU each here, enough that a loaded box
 * could not finish a handshake within the client's timeout. The key is derived once, natively
 * (@swarm/identity userNkeyOfSeed), and every nonce is signed natively (microseconds). Ed25519 is
 * deterministic, so the signature is the one nkeys.js would make (tested).
 */
import { sign } from 'node:crypto';
import type { UserNkey } from '@swarm/identity';
import type { Authenticator } from 'nats';

/** An authenticator for the NKey user `key` (from readBusSeed or userNkeyOfSeed). */
export function nativeNkeyAuthenticator(key: UserNkey): Authenticator {
  // nkeys.js encodes the signature as standard base64 with padding.
  return (nonce?: string) => ({ nkey: key.publicKey, sig: nonce ? sign(null, Buffer.from(nonce, 'utf8'), key.privateKey).toString('base64') : '' });
}

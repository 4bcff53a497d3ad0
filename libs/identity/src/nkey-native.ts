/**
 * NKey user seeds decoded and their keys derived with node:crypto's Ed25519. nkeys.js (bundled by
 * nats.js) derives the public key in pure JavaScript (tweetnacl): 7-40 ms of CPU per call here,
 * paid by every process start and every CLI command, twice (the seed file's check and the bus
 * authenticator). Natively it is microseconds. The encoding is nkeys.js's (base32 without padding
 * of prefix ‖ payload ‖ CRC-16/XMODEM little-endian); the results are checked against nkeys.js in
 * the tests.
 */
import type { KeyObject } from 'node:crypto';
import { createPrivateKey, createPublicKey } from 'node:crypto';

/** nkeys.js Prefix values: a seed's first 5 bits, and a user key's. */
const PREFIX_SEED = 18 << 3;
const PREFIX_USER = 20 << 3;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** 2 prefix bytes, the 32-byte Ed25519 seed, 2 checksum bytes: 58 base32 characters. */
const SEED_BYTES = 36;
/** PKCS#8 DER header of an Ed25519 private key: followed by the 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface UserNkey {
  /** The public NKey (`U…`), as nats-server's authorization block names it. */
  readonly publicKey: string;
  /** The Ed25519 private key, for signing the server's nonce. */
  readonly privateKey: KeyObject;
}

/** Decodes an NKey user seed (`SU…`, surrounding whitespace ignored); throws an Error saying what is wrong. */
export function userNkeyOfSeed(text: string): UserNkey {
  const raw = base32Decode(text.trim());
  if (raw.length !== SEED_BYTES) throw new Error(`an NKey seed is ${SEED_BYTES} bytes, this one ${raw.length}`);
  const checksum = raw[SEED_BYTES - 2] | (raw[SEED_BYTES - 1] << 8);
  if (crc16(raw.subarray(0, SEED_BYTES - 2)) !== checksum) throw new Error('the NKey seed has a wrong checksum');
  const kind = raw[0] & 0xf8;
  const role = ((raw[0] & 0x07) << 5) | ((raw[1] & 0xf8) >> 3);
  if (kind !== PREFIX_SEED || role !== PREFIX_USER) throw new Error('not an NKey user seed');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, raw.subarray(2, 34)]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicRaw = Buffer.from(jwk.x ?? '', 'base64url');
  return { publicKey: encodePublic(PREFIX_USER, publicRaw), privateKey };
}

function encodePublic(prefix: number, key: Uint8Array): string {
  const raw = new Uint8Array(1 + key.length + 2);
  raw[0] = prefix;
  raw.set(key, 1);
  const checksum = crc16(raw.subarray(0, 1 + key.length));
  raw[1 + key.length] = checksum & 0xff;
  raw[2 + key.length] = checksum >> 8;
  return base32Encode(raw);
}

/** CRC-16/XMODEM (polynomial 0x1021, initial 0), as nkeys.js computes it. */
function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let value = 0;
  let bits = 0;
  let j = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error('an NKey seed holds only the base32 letters A-Z and 2-7');
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[j++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out.subarray(0, j);
}

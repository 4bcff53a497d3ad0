/**
 * Proof of work on a node id, the small price of a new identity (ARCHITECTURE.md, trust model):
 * sha256(POW_DOMAIN ‖ node id bytes ‖ nonce as 8 big-endian bytes) must start with `difficulty`
 * zero bits. It binds to the node id, not to a record, so it is found once per node (libs/identity
 * keeps the nonce beside the key) and every record of that node reuses it; the id never changes.
 * Expected cost: 2^difficulty hashes to find, one hash to check.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { NODE_ID } from './record-rules';

/** Separates these hashes from any other use of sha256 over a node id. */
export const POW_DOMAIN = 'swarm-pow-v1';
/** Cheap enough for tests and a first start (≈ 65k hashes, tens of ms); docs/records.md has the cost table. */
export const DEFAULT_POW_DIFFICULTY = 16;
/** Beyond this a search takes hours on one core; no honest setting needs more. */
export const MAX_POW_DIFFICULTY = 40;
/** The nonce is a uint64 on the wire. */
const MAX_NONCE = 2n ** 64n - 1n;
const DOMAIN_BYTES = new TextEncoder().encode(POW_DOMAIN);

/** The hash the difficulty applies to. */
export function powHash(nodeId: string, nonce: bigint): Uint8Array {
  const nonceBytes = new Uint8Array(8);
  new DataView(nonceBytes.buffer).setBigUint64(0, BigInt.asUintN(64, nonce));
  return new Uint8Array(createHash('sha256').update(DOMAIN_BYTES).update(Buffer.from(nodeId, 'hex')).update(nonceBytes).digest());
}

export function leadingZeroBits(bytes: Uint8Array): number {
  let bits = 0;
  for (const byte of bytes) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** Whether `nonce` is a proof of work of at least `difficulty` bits for `nodeId`. */
export function hasProofOfWork(nodeId: string, nonce: bigint, difficulty: number): boolean {
  checkPowArguments(nodeId, difficulty);
  if (nonce < 0n || nonce > MAX_NONCE) return false;
  return leadingZeroBits(powHash(nodeId, nonce)) >= difficulty;
}

/**
 * The first nonce from `start` that meets `difficulty` (deterministic: every process of a node finds
 * the same one). Gives up after `maxAttempts` hashes with INVALID_ARGUMENT rather than spin forever.
 */
export function findPowNonce(nodeId: string, difficulty: number, options: { start?: bigint; maxAttempts?: number } = {}): bigint {
  checkPowArguments(nodeId, difficulty);
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  let nonce = options.start ?? 0n;
  for (let attempt = 0; attempt < maxAttempts && nonce <= MAX_NONCE; attempt++, nonce++) {
    if (leadingZeroBits(powHash(nodeId, nonce)) >= difficulty) return nonce;
  }
  throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `no proof of work of ${difficulty} bits within ${maxAttempts} attempts`);
}

export function checkPowDifficulty(difficulty: number): void {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_POW_DIFFICULTY) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `proof-of-work difficulty must be an integer 0..${MAX_POW_DIFFICULTY}, got ${String(difficulty)}`);
  }
}

function checkPowArguments(nodeId: string, difficulty: number): void {
  checkPowDifficulty(difficulty);
  if (!NODE_ID.test(nodeId)) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'node id must be 64 lowercase hex characters');
}

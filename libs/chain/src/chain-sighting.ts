/**
 * Sightings (docs/chain.md "Sightings"): a payee's signed word that it audited a payer's chain up to
 * one block, the payer's own signed block at that seq. Payees store theirs in the DHT under the
 * payer's id and read the others'; two blocks the payer signed with one seq are a fork proof
 * (fork-proof.ts), so a payer that shows two payees two branches is found by them. A sighting proves
 * nothing against its payee: it only carries the payer's block, which anyone who read the chain
 * holds. Pure: the time is an argument.
 */
import { ChainBlock, ChainSighting, SignedBlock, SignedChainSighting } from '@swarm/contracts';
import { hasProofOfWork, nodeIdOfKey } from '@swarm/records';
import { MAX_SIGNED_BLOCK_BYTES, openBlock, openSignedBlock } from './block';
import { ChainRefusal } from './chain-refusal';
import { short } from './chain-rules';
import type { ChainSigner, SignatureCheck } from './signing';
import { checkSignature, NODE_ID, PUBLIC_KEY_BYTES, sameBytes } from './signing';

export const SIGHTING_DOMAIN = 'swarm-sighting-v1';
const SIGHTING_DOMAIN_BYTES = Buffer.from(SIGHTING_DOMAIN, 'utf8');
/**
 * The longest a sighting may live (6 hours): its payee signs it again before then while it keeps
 * the view. Long, so that a payee down for hours is still compared with (its sighting is what binds
 * the payer to the branch that payee countersigned on); no longer, since a sighting anyone may make
 * (a payer's made-up payees) holds a slot of the payer's key as long (helper-155).
 */
export const MAX_SIGHTING_TTL_MS = 6 * 60 * 60 * 1_000;
/** How far a payee's clock may run ahead of ours. */
export const SIGHTING_MAX_SKEW_MS = 30_000;
/** A payer block at its largest, two node ids, a key, a signature, times and framing. */
export const MAX_SIGNED_SIGHTING_BYTES = MAX_SIGNED_BLOCK_BYTES + 512;

/** "swarm-sighting-v1" ‖ sighting bytes: what the payee signs. */
export function sightingSigningBytes(sightingBytes: Uint8Array): Uint8Array {
  return Buffer.concat([SIGHTING_DOMAIN_BYTES, sightingBytes]);
}

/** A sighting as verifyChainSighting reads it. */
export interface VerifiedSighting {
  readonly payer: string;
  readonly payee: string;
  /** The payer's block's seq. */
  readonly seq: bigint;
  /** The payer's block, an encoded SignedBlock. */
  readonly block: Uint8Array;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

export interface SightingTimes {
  readonly atMs: number;
  readonly ttlMs: number;
}

/**
 * The payee's signed sighting of `payerBlock` (an encoded SignedBlock of the payer's chain, as
 * audited), encoded; its proof-of-work nonce left 0 for the registry to add. Throws a ChainRefusal
 * when the block is not validly signed, INVALID_ARGUMENT on times out of range.
 */
export function makeChainSighting(payee: ChainSigner, payerBlock: Uint8Array, times: SightingTimes): Uint8Array {
  if (!Number.isSafeInteger(times.atMs) || times.atMs < 0 || !Number.isSafeInteger(times.ttlMs) || times.ttlMs < 1 || times.ttlMs > MAX_SIGHTING_TTL_MS) {
    throw new ChainRefusal('invalid-field', `a sighting needs a time and a lifetime of 1 to ${MAX_SIGHTING_TTL_MS} ms`);
  }
  const { signed, block } = openSignedBlock(payerBlock);
  const sighting = ChainSighting.encode({
    payerId: block.nodeId,
    payerBlock: signed,
    payeeId: nodeIdOfKey(payee.publicKey),
    payeePublicKey: payee.publicKey,
    issuedAtMs: BigInt(times.atMs),
    expiresAtMs: BigInt(times.atMs + times.ttlMs),
  }).finish();
  return SignedChainSighting.encode({ sighting, signature: payee.sign(sightingSigningBytes(sighting)), payeePowNonce: 0n }).finish();
}

/** The same sighting with the payee's proof-of-work nonce (the registry's to add: it is not signed). */
export function withPowNonce(bytes: Uint8Array, powNonce: bigint): Uint8Array {
  const signed = decodeSigned(bytes);
  return SignedChainSighting.encode({ ...signed, payeePowNonce: powNonce }).finish();
}

export interface VerifySightingOptions {
  readonly nowMs: number;
  /** Leading zero bits the payee's id needs (the swarm's SWARM_POW_DIFFICULTY). */
  readonly powDifficulty: number;
  /** The payer it must be of (the DHT key's). */
  readonly expectedPayer?: string;
  readonly checkSignature?: SignatureCheck;
}

/**
 * Checks a sighting on store and on every read: size, envelope, the payee's id (its key's hash),
 * proof of work and signature, its times, and the payer's block (validly signed by the payer it
 * names, passing every check that needs no chain, with no fields unknown here). Throws a
 * ChainRefusal `bad-sighting`, or the block's own refusal.
 */
export function verifyChainSighting(bytes: Uint8Array, options: VerifySightingOptions): VerifiedSighting {
  const check = options.checkSignature ?? checkSignature;
  const signed = decodeSigned(bytes);
  let s: ChainSighting;
  try {
    s = ChainSighting.decode(signed.sighting);
  } catch {
    throw refuse(`${signed.sighting.length} bytes that are not a protobuf ChainSighting`);
  }
  if (!NODE_ID.test(s.payeeId) || !NODE_ID.test(s.payerId)) throw refuse('payer_id and payee_id must be 64 lowercase hex characters');
  if (s.payeePublicKey.length !== PUBLIC_KEY_BYTES || nodeIdOfKey(s.payeePublicKey) !== s.payeeId) throw refuse(`payee_public_key does not hash to payee_id ${short(s.payeeId)}`);
  if (s.payeeId === s.payerId) throw refuse("a node's sighting of its own chain");
  if (options.expectedPayer !== undefined && s.payerId !== options.expectedPayer)
    throw refuse(`a sighting of ${short(s.payerId)} where one of ${short(options.expectedPayer)} was expected`);
  if (!hasProofOfWork(s.payeeId, signed.payeePowNonce, options.powDifficulty)) throw refuse(`no proof of work of ${options.powDifficulty} bits on payee ${short(s.payeeId)}`);
  checkTimes(s, options.nowMs);
  if (!check(s.payeePublicKey, sightingSigningBytes(signed.sighting), signed.signature)) throw refuse(`the signature does not verify under the key of payee ${short(s.payeeId)}`);
  if (s.payerBlock === undefined) throw refuse('no payer_block');
  const block = SignedBlock.encode(s.payerBlock).finish();
  // Every check a block passes without its chain (fields, kind, its receipt's signatures), and
  // nothing it does not know: a sighting carries a block as the payer's chain holds it, not bytes made up to fill the DHT.
  const opened = openBlock(block, check);
  if (opened.block.nodeId !== s.payerId) throw refuse(`a block of ${short(opened.block.nodeId)} in a sighting of ${short(s.payerId)}`);
  if (!sameBytes(ChainBlock.encode(opened.block).finish(), s.payerBlock.block)) throw refuse('the payer_block holds fields this node does not know');
  return { payer: s.payerId, payee: s.payeeId, seq: opened.block.seq, block, issuedAtMs: Number(s.issuedAtMs), expiresAtMs: Number(s.expiresAtMs) };
}

function checkTimes(s: ChainSighting, nowMs: number): void {
  const now = BigInt(nowMs);
  if (s.issuedAtMs > now + BigInt(SIGHTING_MAX_SKEW_MS)) throw refuse(`issued ${s.issuedAtMs - now} ms past this node's clock`);
  if (s.expiresAtMs <= now) throw refuse(`expired ${now - s.expiresAtMs} ms ago`);
  if (s.expiresAtMs <= s.issuedAtMs || s.expiresAtMs - s.issuedAtMs > BigInt(MAX_SIGHTING_TTL_MS)) throw refuse(`a lifetime outside 1 to ${MAX_SIGHTING_TTL_MS} ms`);
}

function decodeSigned(bytes: Uint8Array): SignedChainSighting {
  if (bytes.length > MAX_SIGNED_SIGHTING_BYTES) throw refuse(`${bytes.length} bytes, limit ${MAX_SIGNED_SIGHTING_BYTES}`);
  let signed: SignedChainSighting;
  try {
    signed = SignedChainSighting.decode(bytes);
  } catch {
    throw refuse(`${bytes.length} bytes that are not a protobuf SignedChainSighting`);
  }
  // Only its fields, in their one encoding, so nothing rides along unsigned but the nonce.
  if (!sameBytes(SignedChainSighting.encode(signed).finish(), bytes)) throw refuse('the envelope holds bytes besides its fields');
  return signed;
}

function refuse(message: string): ChainRefusal {
  return new ChainRefusal('bad-sighting', message);
}

/**
 * Whether more than half of the DHT nodes a lookup heard hold a payee's own sighting at `seq` or
 * above (`ownHeldSeqs`: one per holder heard, 0 where it holds none; none heard: no). Holders that
 * refused it may hold no other payee's either, and one holding it alone may be the payer's own node
 * handing each payee back its own sighting and nothing else (helper-156).
 */
export function heldByMost(ownHeldSeqs: readonly bigint[], seq: bigint): boolean {
  return 2 * ownHeldSeqs.filter((held) => held >= seq).length > ownHeldSeqs.length;
}

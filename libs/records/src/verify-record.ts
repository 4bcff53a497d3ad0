/**
 * The one check a SignedNodeRecord passes before it is stored, and again on every read (a stored
 * record may have expired, and a peer's answer is never trusted). Cheap checks come first: size
 * before decoding, the id hash and the proof of work before the signature.
 */
import { ErrorCode, NodeRecord, SignedNodeRecord, SwarmError } from '@swarm/contracts';
import { nodeIdOfKey, SIGNATURE_BYTES, verifyEd25519 } from './node-key';
import { checkPowDifficulty, hasProofOfWork } from './proof-of-work';
import { refuse, type RecordRefusal } from './record-refusal';
import { checkAdvertisedFields, checkIdentityFields, checkLifetime, MAX_RECORD_BYTES } from './record-rules';

/** How far a peer's clock may run ahead of ours before its records count as from the future. */
export const DEFAULT_MAX_SKEW_MS = 30_000;
/** Longest lifetime a record may claim; a dead node's record is gone at most this long after it died. */
export const DEFAULT_MAX_TTL_MS = 3_600_000;

export interface VerifyOptions {
  /** Wall-clock time of the check, epoch ms. */
  readonly now: number;
  /** Leading zero bits the node id's proof of work needs (the whole swarm uses one value). */
  readonly powDifficulty: number;
  /** Largest SignedNodeRecord accepted, bytes; MAX_RECORD_BYTES by default. */
  readonly maxBytes?: number;
  readonly maxSkewMs?: number;
  readonly maxTtlMs?: number;
  /** The node the record must describe (the DHT key or the peer it came from). */
  readonly expectedId?: string;
  /** The record already held for this node: the new one must be newer (replay rule). */
  readonly stored?: NodeRecord;
}

export type RecordCheck = { readonly ok: true; readonly record: NodeRecord } | { readonly ok: false; readonly refusal: RecordRefusal };

export function verifyRecord(bytes: Uint8Array, options: VerifyOptions): RecordCheck {
  const maxBytes = checkOptions(options);
  if (bytes.length > maxBytes) return refused(refuse('oversized', `${bytes.length} bytes, limit ${maxBytes}`));
  const decoded = decodeSigned(bytes);
  if ('reason' in decoded) return refused(decoded);
  const { signed, record } = decoded;
  const problem = checkIdentity(record, signed, options) ?? checkAdvertisedFields(record) ?? checkTimes(record, options) ?? checkReplay(record, options.stored);
  return problem ? refused(problem) : { ok: true, record };
}

/** Whether `a` replaces `b`: a record of the same node, issued strictly later. */
export function isNewer(a: NodeRecord, b: NodeRecord): boolean {
  return a.nodeId === b.nodeId && a.issuedAtMs > b.issuedAtMs;
}

function checkOptions(options: VerifyOptions): number {
  checkPowDifficulty(options.powDifficulty);
  const maxBytes = options.maxBytes ?? MAX_RECORD_BYTES;
  const limits = { now: options.now, maxBytes, maxSkewMs: options.maxSkewMs ?? 0, maxTtlMs: options.maxTtlMs ?? 1 };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `verifyRecord: ${name} must be a non-negative integer, got ${String(value)}`);
  }
  return maxBytes;
}

function decodeSigned(bytes: Uint8Array): { signed: SignedNodeRecord; record: NodeRecord } | RecordRefusal {
  let signed: SignedNodeRecord;
  let record: NodeRecord;
  try {
    signed = SignedNodeRecord.decode(bytes);
    record = NodeRecord.decode(signed.record);
  } catch {
    return refuse('malformed', 'not a protobuf SignedNodeRecord holding a NodeRecord');
  }
  // The envelope is unsigned: only its two fields, in the one encoding, so nothing rides along.
  // The record itself may carry fields this build does not know: they are signed, and a newer
  // node's records must stay readable here.
  if (!sameBytes(SignedNodeRecord.encode(signed).finish(), bytes)) return refuse('malformed', 'the envelope holds bytes besides record and signature');
  if (signed.signature.length !== SIGNATURE_BYTES) return refuse('bad-signature', `signature must be ${SIGNATURE_BYTES} bytes, got ${signed.signature.length}`);
  return { signed, record };
}

function checkIdentity(record: NodeRecord, signed: SignedNodeRecord, options: VerifyOptions): RecordRefusal | undefined {
  const shape = checkIdentityFields(record);
  if (shape) return shape;
  if (nodeIdOfKey(record.publicKey) !== record.nodeId) return refuse('id-mismatch', `node_id ${short(record.nodeId)} is not the sha256 of the record's public key`);
  if (options.expectedId !== undefined && options.expectedId !== record.nodeId)
    return refuse('unexpected-id', `a record of ${short(record.nodeId)} where ${short(options.expectedId)} was expected`);
  if (!hasProofOfWork(record.nodeId, record.powNonce, options.powDifficulty))
    return refuse('bad-pow', `pow_nonce of ${short(record.nodeId)} does not give ${options.powDifficulty} leading zero bits`);
  if (!verifyEd25519(record.publicKey, signed.record, signed.signature)) return refuse('bad-signature', `the signature does not verify under the key of ${short(record.nodeId)}`);
  return undefined;
}

function checkTimes(record: NodeRecord, options: VerifyOptions): RecordRefusal | undefined {
  const lifetime = checkLifetime(record, options.maxTtlMs ?? DEFAULT_MAX_TTL_MS);
  if (lifetime) return lifetime;
  const now = BigInt(options.now);
  const skew = BigInt(options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  if (record.issuedAtMs > now + skew) return refuse('from-future', `issued ${record.issuedAtMs - now} ms ahead of this node's clock (allowed ${skew} ms)`);
  if (record.expiresAtMs <= now) return refuse('expired', `expired ${now - record.expiresAtMs} ms ago`);
  return undefined;
}

function checkReplay(record: NodeRecord, stored: NodeRecord | undefined): RecordRefusal | undefined {
  if (stored === undefined) return undefined;
  if (stored.nodeId !== record.nodeId) return refuse('unexpected-id', `a record of ${short(record.nodeId)} cannot replace one of ${short(stored.nodeId)}`);
  if (!isNewer(record, stored)) return refuse('stale', `issued at ${record.issuedAtMs}, not after the held record's ${stored.issuedAtMs}`);
  return undefined;
}

function refused(refusal: RecordRefusal): RecordCheck {
  return { ok: false, refusal };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Enough of an id to recognise it in a log line. */
function short(nodeId: string): string {
  return nodeId.slice(0, 12);
}

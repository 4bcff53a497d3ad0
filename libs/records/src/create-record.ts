/**
 * Makes this node's SignedNodeRecord. The signer holds the key (libs/identity's NodeIdentity is
 * one), the clock dates it; the result passes the same field rules peers apply, or this throws.
 */
import { NodeRecord, SignedNodeRecord } from '@swarm/contracts';
import type { NodeResources, RecordSkill } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import { nodeIdOfKey } from './node-key';
import { checkAdvertisedFields, checkIdentityFields, checkLifetime } from './record-rules';
import { DEFAULT_MAX_TTL_MS } from './verify-record';

export interface RecordSigner {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature (64 bytes) of `data`. */
  sign(data: Uint8Array): Uint8Array;
}

export interface RecordFields {
  readonly gatewayAddress: string;
  readonly skills: readonly RecordSkill[];
  readonly capacity: number;
  readonly load: number;
  readonly resources: NodeResources;
  /** From findPowNonce / libs/identity's loadOrCreatePowNonce, for this node's id. */
  readonly powNonce: bigint;
  /** How long peers keep the record; republish before it runs out (needsRepublish). */
  readonly ttlMs: number;
}

export interface SignedRecord {
  /** The encoded SignedNodeRecord: what goes into the DHT. */
  readonly bytes: Uint8Array;
  readonly record: NodeRecord;
}

/**
 * `previous`, this node's last record, keeps issued-at strictly increasing even when two records
 * are made in one millisecond or the clock steps back, so peers never refuse the new one as stale.
 */
export function createRecord(fields: RecordFields, signer: RecordSigner, clock: WallClock, options: { previous?: NodeRecord; maxTtlMs?: number } = {}): SignedRecord {
  const now = BigInt(clock.now());
  const issuedAtMs = options.previous !== undefined && options.previous.issuedAtMs >= now ? options.previous.issuedAtMs + 1n : now;
  const record: NodeRecord = {
    nodeId: nodeIdOfKey(signer.publicKey),
    publicKey: Uint8Array.from(signer.publicKey),
    gatewayAddress: fields.gatewayAddress,
    skills: fields.skills.map((s) => ({ ...s })),
    capacity: fields.capacity,
    load: fields.load,
    resources: { ...fields.resources },
    issuedAtMs,
    expiresAtMs: issuedAtMs + BigInt(Number.isSafeInteger(fields.ttlMs) ? fields.ttlMs : 0),
    powNonce: fields.powNonce,
  };
  const problem = checkIdentityFields(record) ?? checkAdvertisedFields(record) ?? checkLifetime(record, options.maxTtlMs ?? DEFAULT_MAX_TTL_MS);
  if (problem) throw problem;
  const recordBytes = NodeRecord.encode(record).finish();
  const bytes = SignedNodeRecord.encode({ record: recordBytes, signature: signer.sign(recordBytes) }).finish();
  return { bytes, record };
}

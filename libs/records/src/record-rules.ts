/**
 * What a well-formed NodeRecord holds: the field rules shared by createRecord (a node never
 * publishes what its peers would refuse) and verifyRecord. Each returns the first problem or
 * undefined. Bounds keep one record small and every number safe to use as a JS number.
 */
import type { NodeRecord } from '@swarm/contracts';
import { isSkillName, SKILL_NAME_PATTERN } from '@swarm/contracts';
import { refuse, type RecordRefusal } from './record-refusal';

/** The largest record these rules allow, signed, is about 4.1 KB (a test builds it); the default leaves room for later fields. */
export const MAX_RECORD_BYTES = 8_192;
export const MAX_SKILLS = 32;
export const MAX_CAPACITY = 65_535;
export const MAX_THREADS = 4_096;
/** Longest gateway address: a 253-character DNS name, ':' and a 5-digit port. */
export const MAX_ADDRESS_LENGTH = 259;
export const SKILL_VERSION = /^[0-9A-Za-z.+-]{1,32}$/;
export const BACKEND_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const NODE_ID = /^[0-9a-f]{64}$/;
export const PUBLIC_KEY_BYTES = 32;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):([0-9]{1,5})$/;
const MAX_PORT = 65_535;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The identity fields: checked before the id hash and the signature. */
export function checkIdentityFields(record: NodeRecord): RecordRefusal | undefined {
  if (!NODE_ID.test(record.nodeId)) return refuse('invalid-field', 'node_id must be 64 lowercase hex characters');
  if (record.publicKey.length !== PUBLIC_KEY_BYTES) return refuse('invalid-field', `public_key must be ${PUBLIC_KEY_BYTES} bytes, got ${record.publicKey.length}`);
  return undefined;
}

/** Everything the node advertises about itself. */
export function checkAdvertisedFields(record: NodeRecord): RecordRefusal | undefined {
  return checkGatewayAddress(record.gatewayAddress) ?? checkSkills(record) ?? checkCapacityAndLoad(record) ?? checkResources(record);
}

/** issued_at and expires_at as a window: ordered, safe integers, at most `maxTtlMs` long. */
export function checkLifetime(record: NodeRecord, maxTtlMs: number): RecordRefusal | undefined {
  const { issuedAtMs, expiresAtMs } = record;
  if (issuedAtMs <= 0n || issuedAtMs > MAX_SAFE) return refuse('invalid-field', 'issued_at_ms must be a positive epoch time in ms');
  if (expiresAtMs <= issuedAtMs || expiresAtMs > MAX_SAFE) return refuse('invalid-field', 'expires_at_ms must be after issued_at_ms');
  if (expiresAtMs - issuedAtMs > BigInt(maxTtlMs)) return refuse('invalid-field', `lifetime ${expiresAtMs - issuedAtMs} ms exceeds the ${maxTtlMs} ms limit`);
  return undefined;
}

function checkGatewayAddress(address: string): RecordRefusal | undefined {
  const match = address.length <= MAX_ADDRESS_LENGTH ? HOST_PORT.exec(address) : null;
  const port = match ? Number(match[2]) : 0;
  if (port < 1 || port > MAX_PORT) return refuse('invalid-field', 'gateway_address must be host:port with a port 1..65535');
  return undefined;
}

function checkSkills(record: NodeRecord): RecordRefusal | undefined {
  if (record.skills.length > MAX_SKILLS) return refuse('invalid-field', `at most ${MAX_SKILLS} skills, got ${record.skills.length}`);
  const seen = new Set<string>();
  for (const [i, skill] of record.skills.entries()) {
    if (!isSkillName(skill.name)) return refuse('invalid-field', `skills[${i}].name must match ${SKILL_NAME_PATTERN}`);
    if (seen.has(skill.name)) return refuse('invalid-field', `skills[${i}] repeats skill '${skill.name}'`);
    seen.add(skill.name);
    if (!SKILL_VERSION.test(skill.version)) return refuse('invalid-field', `skills[${i}].version must match ${SKILL_VERSION.source}`);
    if (skill.pricePerMwork > MAX_SAFE) return refuse('invalid-field', `skills[${i}].price_per_mwork must be at most ${MAX_SAFE}`);
  }
  return undefined;
}

function checkCapacityAndLoad(record: NodeRecord): RecordRefusal | undefined {
  if (!Number.isInteger(record.capacity) || record.capacity < 0 || record.capacity > MAX_CAPACITY) return refuse('invalid-field', `capacity must be 0..${MAX_CAPACITY}`);
  // NaN fails both comparisons, so it is refused too.
  if (!(record.load >= 0 && record.load <= 1)) return refuse('invalid-field', 'load must be a number 0..1');
  return undefined;
}

function checkResources(record: NodeRecord): RecordRefusal | undefined {
  const resources = record.resources;
  if (resources === undefined) return refuse('invalid-field', 'resources must be present');
  if (!BACKEND_NAME.test(resources.backend)) return refuse('invalid-field', `resources.backend must match ${BACKEND_NAME.source}`);
  if (!Number.isInteger(resources.threads) || resources.threads < 0 || resources.threads > MAX_THREADS)
    return refuse('invalid-field', `resources.threads must be 0..${MAX_THREADS}`);
  return undefined;
}

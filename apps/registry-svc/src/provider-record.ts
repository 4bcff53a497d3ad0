/**
 * What a DHT provider record is to this registry: a SignedNodeRecord (libs/records) stored either
 * under a skill it advertises, or under its own node key `node/<node id>` (every node, skills or
 * not: a peer that is asked to run a task checks there that the submitter is a node of the swarm).
 * The DHT runs the validator on every store and every read; a found record becomes a Provider (or
 * a submitter's record) here only after the same check again, so nothing a peer sent is used
 * unverified. Pure: the time is an argument.
 */
import type { NodeRecord, Provider } from '@swarm/contracts';
import type { RecordValidator } from '@swarm/dht';
import { dhtEndpoint } from '@swarm/dht-gateway';
import { NODE_ID_PATTERN, parseHostPort } from '@swarm/gateway';
import { verifyRecord } from '@swarm/records';
import { checkSightingRecord, SIGHTING_KEY_PREFIX } from './chain-sightings';

/** Enough of a key or an id to recognise it in a refusal. */
const QUOTED_CHARS = 64;
/** Node keys hold a '/', which no skill name (@swarm/contracts SKILL_NAME_PATTERN) does: the two never collide. */
export const NODE_KEY_PREFIX = 'node/';

/** The DHT key under which `nodeId` provides its record. */
export function nodeRecordKey(nodeId: string): string {
  return `${NODE_KEY_PREFIX}${nodeId}`;
}

type Check = { readonly ok: true; readonly record: NodeRecord } | { readonly ok: false; readonly reason: string };

function checkProviderRecord(skill: string, value: Uint8Array, nowMs: number, powDifficulty: number): Check {
  const check = verifyRecord(value, { now: nowMs, powDifficulty });
  if (!check.ok) return { ok: false, reason: check.refusal.message };
  // A record stored under a skill it does not offer would send lookups of that skill to a node
  // that refuses its tasks.
  if (!check.record.skills.some((s) => s.name === skill)) {
    return { ok: false, reason: `the record of ${check.record.nodeId.slice(0, 12)} does not offer '${skill.slice(0, QUOTED_CHARS)}'` };
  }
  return { ok: true, record: check.record };
}

/**
 * Only the node itself can fill its node key: anyone else's record there would vouch for a node
 * that never published (it is signed by the wrong key, so it is refused).
 */
function checkNodeRecord(key: string, value: Uint8Array, nowMs: number, powDifficulty: number): Check {
  const nodeId = key.slice(NODE_KEY_PREFIX.length);
  if (!NODE_ID_PATTERN.test(nodeId)) return { ok: false, reason: `'${key.slice(0, QUOTED_CHARS)}' is not ${NODE_KEY_PREFIX}<64 hex node id>` };
  const check = verifyRecord(value, { now: nowMs, powDifficulty, expectedId: nodeId });
  return check.ok ? check : { ok: false, reason: check.refusal.message };
}

function checkRecordUnder(key: string, value: Uint8Array, nowMs: number, powDifficulty: number): Check {
  return key.startsWith(NODE_KEY_PREFIX) ? checkNodeRecord(key, value, nowMs, powDifficulty) : checkProviderRecord(key, value, nowMs, powDifficulty);
}

/**
 * The DHT's validator: signature, id = hash(key), proof of work, expiry, size, and the skill (key)
 * offered or the node (key) described; or, under a sighting key, a payee's sighting of that payer's
 * chain (chain-sightings.ts).
 */
export function createRecordValidator(powDifficulty: number): RecordValidator {
  return (key, value, nowMs) => {
    if (key.startsWith(SIGHTING_KEY_PREFIX)) return checkSightingRecord(key, value, nowMs, powDifficulty);
    const check = checkRecordUnder(key, value, nowMs, powDifficulty);
    if (!check.ok) return check;
    return { ok: true, provider: check.record.nodeId, issuedAtMs: Number(check.record.issuedAtMs), expiresAtMs: Number(check.record.expiresAtMs) };
  };
}

/**
 * A remote provider of `skill` from a record the DHT returned (rtt still to be measured), and the
 * DHT endpoint its round trip is probed at (its gateway address with the record's proof of work);
 * undefined when it does not verify.
 */
export function providerOfRecord(skill: string, value: Uint8Array, nowMs: number, powDifficulty: number): { provider: Provider; probeEndpoint: string } | undefined {
  const check = checkProviderRecord(skill, value, nowMs, powDifficulty);
  if (!check.ok) return undefined;
  const { record } = check;
  const address = parseHostPort(record.gatewayAddress);
  if (!address || address.port === 0) return undefined;
  const provider: Provider = {
    nodeId: record.nodeId,
    local: false,
    skills: record.skills.map((s) => s.name),
    endpoint: `${record.nodeId}@${record.gatewayAddress}`,
    load: record.load,
    capacity: record.capacity,
    pricePerMwork: record.skills.find((s) => s.name === skill)?.pricePerMwork ?? 0n,
    rttMs: 0,
    expiresAtMs: record.expiresAtMs,
  };
  return { provider, probeEndpoint: dhtEndpoint(record.nodeId, address, record.powNonce) };
}

/** `nodeId`'s own record from a value the DHT returned under its node key, or undefined when it does not verify (expired included). */
export function nodeRecordOf(nodeId: string, value: Uint8Array, nowMs: number, powDifficulty: number): NodeRecord | undefined {
  const check = checkNodeRecord(nodeRecordKey(nodeId), value, nowMs, powDifficulty);
  return check.ok ? check.record : undefined;
}

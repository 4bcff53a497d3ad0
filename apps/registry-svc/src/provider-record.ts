/**
 * What a DHT provider record is to this registry: a SignedNodeRecord (libs/records) that advertises
 * the skill it is stored under. The DHT runs the validator on every store and every read; a found
 * record becomes a Provider here only after the same check again, so nothing a peer sent is used
 * unverified. Pure: the time is an argument.
 */
import type { NodeRecord, Provider } from '@swarm/contracts';
import type { RecordValidator } from '@swarm/dht';
import { verifyRecord } from '@swarm/records';

/** Enough of a key or an id to recognise it in a refusal. */
const QUOTED_CHARS = 64;

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

/** The DHT's validator: signature, id = hash(key), proof of work, expiry, size, and the skill (key) offered. */
export function createRecordValidator(powDifficulty: number): RecordValidator {
  return (key, value, nowMs) => {
    const check = checkProviderRecord(key, value, nowMs, powDifficulty);
    if (!check.ok) return check;
    return { ok: true, provider: check.record.nodeId, issuedAtMs: Number(check.record.issuedAtMs), expiresAtMs: Number(check.record.expiresAtMs) };
  };
}

/** A remote provider of `skill` from a record the DHT returned (rtt still to be measured), or undefined when it does not verify. */
export function providerOfRecord(skill: string, value: Uint8Array, nowMs: number, powDifficulty: number): Provider | undefined {
  const check = checkProviderRecord(skill, value, nowMs, powDifficulty);
  if (!check.ok) return undefined;
  const { record } = check;
  return {
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
}

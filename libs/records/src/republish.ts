/**
 * TTL and republish: a record is valid until its expires_at_ms, and its node republishes a fresh one
 * `marginMs` before that, so peers never go without a valid record of a live node while a dead
 * node's record vanishes within one TTL.
 */
import type { NodeRecord } from '@swarm/contracts';

/** Epoch ms at which the owner should publish a new record. */
export function republishAt(record: NodeRecord, marginMs: number): number {
  return Number(record.expiresAtMs) - Math.max(0, marginMs);
}

export function needsRepublish(record: NodeRecord, now: number, marginMs: number): boolean {
  return now >= republishAt(record, marginMs);
}

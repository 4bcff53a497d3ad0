/**
 * Provider records for the simulation: "provider|issuedAtMs|expiresAtMs" in UTF-8, checked for shape
 * and expiry only. The registry's records are signed NodeRecords; signing does not change what the
 * simulation measures (who holds what, and how lookups reach it).
 */
import type { RecordValidator } from '@swarm/dht';

export function plainRecord(provider: string, issuedAtMs: number, expiresAtMs: number): Uint8Array {
  return new TextEncoder().encode(`${provider}|${issuedAtMs}|${expiresAtMs}`);
}

export const validatePlainRecord: RecordValidator = (_key, value, nowMs) => {
  const parts = new TextDecoder().decode(value).split('|');
  const issuedAtMs = Number(parts[1]);
  const expiresAtMs = Number(parts[2]);
  if (parts.length !== 3 || !parts[0] || !Number.isFinite(issuedAtMs) || !Number.isFinite(expiresAtMs)) return { ok: false, reason: 'not a plain record' };
  if (expiresAtMs <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, provider: parts[0], issuedAtMs, expiresAtMs };
};

export function providerOf(value: Uint8Array): string {
  return new TextDecoder().decode(value).split('|')[0];
}

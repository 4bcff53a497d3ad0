/**
 * Provider records held by one node, Map-backed (kademlia-dht keeps values in a plain object, where
 * a key such as `hasOwnProperty` or `__proto__` breaks the node): per key, one record per provider,
 * so one peer cannot overwrite another's record and a lookup finds every provider. Which provider a
 * record belongs to, and until when it lives, come from the validator, never from the sender.
 * Pure: the time is an argument.
 */

/** The validator's reading of a record it accepts. */
export interface AcceptedRecord {
  /** The provider the record speaks for (its signer, e.g. the node id). */
  readonly provider: string;
  /** When the provider issued it: a record older than the one held is a replay. */
  readonly issuedAtMs: number;
  /** Epoch ms after which no node returns it. */
  readonly expiresAtMs: number;
}

export type RecordVerdict = ({ readonly ok: true } & AcceptedRecord) | { readonly ok: false; readonly reason: string };

/**
 * Decides whether `value` may be stored (and later returned) under `key`; the registry injects the
 * signed-NodeRecord check (signature, id = hash(key), expiry, size, proof of work). Synchronous and
 * pure in its inputs: it runs on every store and every read.
 */
export type RecordValidator = (key: string, value: Uint8Array, nowMs: number) => RecordVerdict;

export interface ProviderStoreLimits {
  /** Distinct keys held; a store of a new key beyond it is refused. */
  readonly maxKeys: number;
  /** Providers held per key; a new provider beyond it is refused. */
  readonly maxProvidersPerKey: number;
}

export const DEFAULT_PROVIDER_STORE_LIMITS: ProviderStoreLimits = Object.freeze({ maxKeys: 10_000, maxProvidersPerKey: 256 });

export type PutOutcome = { readonly stored: true } | { readonly stored: false; readonly refusal: string };

interface Held extends AcceptedRecord {
  readonly value: Uint8Array;
}

export interface ProviderStore {
  put(key: string, value: Uint8Array, accepted: AcceptedRecord, nowMs: number): PutOutcome;
  /** The unexpired records under `key`, oldest provider first. */
  values(key: string, nowMs: number): Uint8Array[];
  /** Drops every expired record; returns how many. */
  sweep(nowMs: number): number;
  keyCount(): number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function createProviderStore(limits: ProviderStoreLimits = DEFAULT_PROVIDER_STORE_LIMITS): ProviderStore {
  const byKey = new Map<string, Map<string, Held>>();

  function put(key: string, value: Uint8Array, accepted: AcceptedRecord, nowMs: number): PutOutcome {
    if (accepted.expiresAtMs <= nowMs) return { stored: false, refusal: 'record has expired' };
    let providers = byKey.get(key);
    const held = providers?.get(accepted.provider);
    if (held) {
      // The same record again is a republish: accepted, nothing changes. An older or equally old
      // different record is a replay and must not displace the newer one.
      if (held.issuedAtMs === accepted.issuedAtMs && sameBytes(held.value, value)) return { stored: true };
      if (accepted.issuedAtMs <= held.issuedAtMs) return { stored: false, refusal: 'a newer record of this provider is held' };
    } else {
      if (!providers && byKey.size >= limits.maxKeys) return { stored: false, refusal: `this node holds its limit of ${limits.maxKeys} keys` };
      if (providers && providers.size >= limits.maxProvidersPerKey) return { stored: false, refusal: `this key holds its limit of ${limits.maxProvidersPerKey} providers` };
    }
    if (!providers) {
      providers = new Map();
      byKey.set(key, providers);
    }
    providers.set(accepted.provider, { provider: accepted.provider, issuedAtMs: accepted.issuedAtMs, expiresAtMs: accepted.expiresAtMs, value: value.slice() });
    return { stored: true };
  }

  function values(key: string, nowMs: number): Uint8Array[] {
    const providers = byKey.get(key);
    if (!providers) return [];
    const out: Uint8Array[] = [];
    for (const held of providers.values()) if (held.expiresAtMs > nowMs) out.push(held.value.slice());
    return out;
  }

  function sweep(nowMs: number): number {
    let dropped = 0;
    for (const [key, providers] of byKey) {
      for (const [provider, held] of providers) {
        if (held.expiresAtMs <= nowMs) {
          providers.delete(provider);
          dropped++;
        }
      }
      if (providers.size === 0) byKey.delete(key);
    }
    return dropped;
  }

  return { put, values, sweep, keyCount: () => byKey.size };
}

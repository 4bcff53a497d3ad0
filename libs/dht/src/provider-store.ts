/**
 * Provider records held by one node, Map-backed (kademlia-dht keeps values in a plain object, where
 * a key such as `hasOwnProperty` or `__proto__` breaks the node): per key, one record per provider,
 * so one peer cannot overwrite another's record and a lookup finds every provider. Which provider a
 * record belongs to, and until when it lives, come from the validator, never from the sender.
 *
 * A new identity costs a little proof of work, so a key's slots, and the node's keys, could be filled
 * with the records of made-up providers and honest newcomers shut out. Each record is therefore
 * counted against the network it was stored from (the sender's address group, which the transport
 * vouches for: the gateway takes it from the TCP connection, not from the sender): at most
 * `maxProvidersPerKeyPerNetwork` providers of one key and `maxRecordsPerNetwork` records in all
 * came from one network. Filling a key's slots then takes addresses in
 * maxProvidersPerKey / maxProvidersPerKeyPerNetwork networks, and the node's keys
 * maxKeys / maxRecordsPerNetwork: a low bar for an attacker who rents addresses in 16 networks
 * (held records are never evicted, so honest providers already held keep their slots, and it is
 * newcomers that such an attacker could shut out). Records put with no network (this node's own,
 * the memory network's) are limited by the per-key and per-node bounds only. A key's expired
 * records are dropped when a record is put under it, the rest at each sweep.
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
  /**
   * Where a record's kind ranks them (a sighting: the seq of the block it shows), a provider's record
   * under a key never goes down in rank, nor ends sooner: another one of a lower rank or an earlier
   * expiry is refused while the held one lives: what others saw there goes no lower and ends no sooner.
   */
  readonly rank?: bigint;
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
  /** Providers of one key stored from one network; a new one beyond it is refused. */
  readonly maxProvidersPerKeyPerNetwork: number;
  /** Records (over every key) stored from one network; a new one beyond it is refused. */
  readonly maxRecordsPerNetwork: number;
}

/**
 * 16 providers of one skill behind one address group is a large office or a crowded NAT; 1,024
 * records there are 16 nodes publishing 63 skills each. So 16 networks are needed to fill a key's
 * 256 slots, and 10 to fill the node's 10,000 keys.
 */
export const DEFAULT_PROVIDER_STORE_LIMITS: ProviderStoreLimits = Object.freeze({
  maxKeys: 10_000,
  maxProvidersPerKey: 256,
  maxProvidersPerKeyPerNetwork: 16,
  maxRecordsPerNetwork: 1_024,
});

export type PutOutcome = { readonly stored: true } | { readonly stored: false; readonly refusal: string };

interface Held extends AcceptedRecord {
  readonly value: Uint8Array;
  /** The network it was stored from; undefined: this node's own, or a transport without networks. */
  readonly network: string | undefined;
}

export interface ProviderStore {
  /** `network`: the sender's address group as the transport saw it (undefined: none, e.g. this node's own record). */
  put(key: string, value: Uint8Array, accepted: AcceptedRecord, nowMs: number, network?: string): PutOutcome;
  /** The unexpired records under `key`, oldest provider first. */
  values(key: string, nowMs: number): Uint8Array[];
  /**
   * What one reply to a peer carries: the unexpired records under `key`, at most `maxBytes` of them
   * in all. When they do not all fit, a random selection that does (each in a random place, drawn
   * from `random`), so no set of records, an attacker's included, is always the one shown.
   */
  valuesForReply(key: string, nowMs: number, maxBytes: number, random: () => number): Uint8Array[];
  /**
   * A page of a reply to a reader that needs every record: the unexpired records under `key` in
   * order of their provider, from the first after `after` ('' from the first), as many as fit in
   * `maxBytes` (one at least), and the provider to go on after when more follow ('' when none).
   */
  pageForReply(key: string, nowMs: number, maxBytes: number, after: string): { readonly values: Uint8Array[]; readonly moreAfter: string };
  /** Drops every expired record; returns how many. */
  sweep(nowMs: number): number;
  keyCount(): number;
  /** Records held that were stored from `network`. */
  recordsFrom(network: string): number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function createProviderStore(limits: ProviderStoreLimits = DEFAULT_PROVIDER_STORE_LIMITS): ProviderStore {
  const byKey = new Map<string, Map<string, Held>>();
  /** Records held per network they were stored from. */
  const perNetwork = new Map<string, number>();

  const count = (network: string | undefined, delta: number) => {
    if (network === undefined) return;
    const n = (perNetwork.get(network) ?? 0) + delta;
    if (n > 0) perNetwork.set(network, n);
    else perNetwork.delete(network);
  };

  /** Why `network` may not add a provider to `providers` (`provider` itself not counted), or undefined. */
  function networkRefusal(providers: Map<string, Held> | undefined, provider: string, network: string | undefined): string | undefined {
    if (network === undefined) return undefined;
    const held = providers?.get(provider);
    if (held?.network === network) return undefined; // the same slot again: nothing more is taken
    if ((perNetwork.get(network) ?? 0) >= limits.maxRecordsPerNetwork) return `this node holds its limit of ${limits.maxRecordsPerNetwork} records from your network`;
    let fromNetwork = 0;
    for (const other of providers?.values() ?? []) if (other.network === network) fromNetwork++;
    if (fromNetwork >= limits.maxProvidersPerKeyPerNetwork) return `this key holds its limit of ${limits.maxProvidersPerKeyPerNetwork} providers from your network`;
    return undefined;
  }

  /** Drops the key's expired records, so their slots (and their networks') are free before the next sweep. */
  function sweepKey(key: string, nowMs: number): Map<string, Held> | undefined {
    const providers = byKey.get(key);
    if (!providers) return undefined;
    for (const [provider, held] of providers) {
      if (held.expiresAtMs <= nowMs) {
        providers.delete(provider);
        count(held.network, -1);
      }
    }
    if (providers.size > 0) return providers;
    byKey.delete(key);
    return undefined;
  }

  function put(key: string, value: Uint8Array, accepted: AcceptedRecord, nowMs: number, network?: string): PutOutcome {
    if (accepted.expiresAtMs <= nowMs) return { stored: false, refusal: 'record has expired' };
    let providers = sweepKey(key, nowMs);
    const held = providers?.get(accepted.provider);
    if (held) {
      // The same record again is a republish: accepted, nothing changes. An older or equally old
      // different record is a replay and must not displace the newer one.
      if (held.issuedAtMs === accepted.issuedAtMs && sameBytes(held.value, value)) return { stored: true };
      if (accepted.issuedAtMs <= held.issuedAtMs) return { stored: false, refusal: 'a newer record of this provider is held' };
      if (held.rank !== undefined && (accepted.rank === undefined || accepted.rank < held.rank || accepted.expiresAtMs < held.expiresAtMs)) {
        return { stored: false, refusal: 'a record of this provider ranked higher, or living longer, is held' };
      }
    } else {
      if (!providers && byKey.size >= limits.maxKeys) return { stored: false, refusal: `this node holds its limit of ${limits.maxKeys} keys` };
      if (providers && providers.size >= limits.maxProvidersPerKey) return { stored: false, refusal: `this key holds its limit of ${limits.maxProvidersPerKey} providers` };
    }
    const refusal = networkRefusal(providers, accepted.provider, network);
    if (refusal !== undefined) return { stored: false, refusal };
    if (!providers) {
      providers = new Map();
      byKey.set(key, providers);
    }
    if (held) count(held.network, -1);
    count(network, +1);
    providers.set(accepted.provider, {
      provider: accepted.provider,
      issuedAtMs: accepted.issuedAtMs,
      expiresAtMs: accepted.expiresAtMs,
      ...(accepted.rank !== undefined ? { rank: accepted.rank } : {}),
      value: value.slice(),
      network,
    });
    return { stored: true };
  }

  function values(key: string, nowMs: number): Uint8Array[] {
    const providers = byKey.get(key);
    if (!providers) return [];
    const out: Uint8Array[] = [];
    for (const held of providers.values()) if (held.expiresAtMs > nowMs) out.push(held.value.slice());
    return out;
  }

  function valuesForReply(key: string, nowMs: number, maxBytes: number, random: () => number): Uint8Array[] {
    const live = [...(byKey.get(key)?.values() ?? [])].filter((held) => held.expiresAtMs > nowMs);
    let total = 0;
    for (const held of live) total += held.value.byteLength;
    if (total > maxBytes) {
      // Fisher-Yates, then the first ones that fit.
      for (let i = live.length - 1; i > 0; i--) {
        const j = Math.min(i, Math.floor(random() * (i + 1)));
        [live[i], live[j]] = [live[j], live[i]];
      }
    }
    const out: Uint8Array[] = [];
    let room = maxBytes;
    for (const held of live) {
      if (held.value.byteLength > room) continue;
      room -= held.value.byteLength;
      out.push(held.value.slice());
    }
    return out;
  }

  function pageForReply(key: string, nowMs: number, maxBytes: number, after: string) {
    const live = [...(byKey.get(key)?.values() ?? [])].filter((held) => held.expiresAtMs > nowMs && held.provider > after);
    live.sort((x, y) => (x.provider < y.provider ? -1 : 1));
    const values: Uint8Array[] = [];
    let room = maxBytes;
    for (const held of live) {
      // One record at least (a record is well under a reply's bytes), so every page moves on.
      if (values.length > 0 && held.value.byteLength > room) return { values, moreAfter: live[values.length - 1].provider };
      room -= held.value.byteLength;
      values.push(held.value.slice());
    }
    return { values, moreAfter: '' };
  }

  function sweep(nowMs: number): number {
    let dropped = 0;
    for (const [key, providers] of byKey) {
      const before = providers.size;
      dropped += before - (sweepKey(key, nowMs)?.size ?? 0);
    }
    return dropped;
  }

  return { put, values, valuesForReply, pageForReply, sweep, keyCount: () => byKey.size, recordsFrom: (network) => perNetwork.get(network) ?? 0 };
}

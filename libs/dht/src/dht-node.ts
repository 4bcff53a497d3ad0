/**
 * One node of the DHT: kademlia-dht's routing table (with Kademlia's eviction, contact-table.ts)
 * and iterative lookup, and everything the package's Dht class lacks or gets wrong done here
 * instead: provider records per key behind a validator (no overwrites, all providers found),
 * Map-backed storage, empty values that read as values, expiry, bucket refresh and republish by
 * the owner on an injected Scheduler, and per-lookup counts of hops and messages.
 */
import type Contact from 'kademlia-dht/lib/contact';
import type Id from 'kademlia-dht/lib/id';
import Lookup from 'kademlia-dht/lib/lookup';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { CancelTimer, Random, Scheduler, WallClock } from '@swarm/determinism';
import { Contact as ContactClass, createContactTable } from './contact-table';
import type { DialBackLimits, HostOfEndpoint } from './dial-back';
import { createDialBack } from './dial-back';
import { MAX_CONTACTS_PER_REPLY } from './wire-checks';
import { commonPrefixLength, ID_BITS, idFromCheckedHex, idFromHex, idToHex, keyId, randomIdInBucket } from './dht-id';
import type { ProviderStoreLimits, RecordValidator } from './provider-store';
import { createProviderStore, DEFAULT_PROVIDER_STORE_LIMITS } from './provider-store';
import {
  checkEndpoint,
  checkFindNodeRequest,
  checkFindNodeResponse,
  checkFindValueRequest,
  checkKey,
  checkPingRequest,
  checkPingResponse,
  checkStoreRequest,
  checkStoreResponse,
  checkValue,
  MAX_ENDPOINT_CHARS,
  MAX_REPLY_VALUE_BYTES,
} from './wire-checks';
import type { DhtHandlers, DhtTransport, WireContact } from './wire';
import { COMPLETE_LOOKUP_MS, readHolderValues, ReadCutOff } from './holder-read';

/** k: contacts per bucket and replicas per record (Kademlia's usual 20). */
export const DEFAULT_BUCKET_SIZE = 20;
/** α: lookup requests in flight at once. */
export const DEFAULT_CONCURRENCY = 3;
/** Holders with records a provider lookup hears from before it stops (more: later joiners' records too). */
export const DEFAULT_VALUE_QUORUM = 2;
/** Kademlia refreshes a bucket no lookup touched for an hour. */
export const DEFAULT_REFRESH_INTERVAL_MS = 60 * 60 * 1000;
export const DEFAULT_SWEEP_INTERVAL_MS = 5 * 60 * 1000;
/**
 * The hourly refresh suits a settled table, not a new one: a node looks itself up this long after
 * joining, then at doubling intervals up to DEFAULT_SETTLE_MAX_MS and on at that pace, and from the
 * first interval again once one of its k closest contacts has gone (one failed call forgets a
 * contact). Two nodes that joined at once through one seed, each asking before the seed had
 * admitted the other (dial-back.ts), so learn of each other within seconds, not at the next
 * republish. The cost: one self lookup a minute a node (α·log₂N requests or so), where the hourly
 * refresh alone would make one an hour.
 */
export const DEFAULT_SETTLE_FIRST_MS = 1_000;
export const DEFAULT_SETTLE_MAX_MS = 60_000;
/** An owner republishes when this share of its record's lifetime is left, so a lost round still leaves time for the next. */
export const REPUBLISH_AT_REMAINING_FRACTION = 0.5;
/** Never republish more often than this, whatever the record's lifetime. */
export const MIN_REPUBLISH_DELAY_MS = 1_000;

export interface DhtLog {
  warn(obj: object, msg: string): void;
}

export interface DhtNodeComponents {
  readonly transport: DhtTransport;
  readonly clock: WallClock;
  readonly scheduler: Scheduler;
  /** Draws refresh targets. */
  readonly random: Random;
  /** Accepts or refuses each record on store and on read (the signed-NodeRecord check). */
  readonly validate: RecordValidator;
  readonly log?: DhtLog;
}

export interface DhtNodeInit {
  /** This node's 160-bit id, 40 hex characters. */
  readonly id: string;
  /** Endpoints of known nodes; none starts a new swarm. */
  readonly seeds?: readonly string[];
  readonly bucketSize?: number;
  readonly concurrency?: number;
  readonly valueQuorum?: number;
  readonly refreshIntervalMs?: number;
  readonly sweepIntervalMs?: number;
  /** The settling self lookups' first and longest interval (DEFAULT_SETTLE_FIRST_MS). */
  readonly settleFirstMs?: number;
  readonly settleMaxMs?: number;
  /** Periodic refresh, settling self lookups and expiry sweeps (default on); the simulator runs rounds itself. */
  readonly maintenance?: boolean;
  readonly limits?: ProviderStoreLimits;
  /** Bounds on dialling back the endpoints requests claim (dial-back.ts). */
  readonly dialBack?: DialBackLimits;
  /** The host an endpoint dials, for the dial-backs' rate per host (dial-back.ts); none by default. */
  readonly hostOf?: HostOfEndpoint;
}

export interface LookupReport {
  /** Requests this lookup sent (answered or not). */
  readonly messages: number;
  /** Length of the referral chain to the first holder (provider lookups) or deepest answering contact (node lookups); 0 when answered locally. */
  readonly hops: number;
  /** Requests that failed (no reply, refused). */
  readonly failures: number;
  /** Nodes whose answer came whole (a complete lookup: every page of it). */
  readonly answered: number;
}

export interface ProvidersResult extends LookupReport {
  /** Verified, unexpired records, newest per provider. */
  readonly values: Uint8Array[];
  /** Each other node's verified records, one list per node whose answer held some (this node's own store left out). */
  readonly remoteHolders: Uint8Array[][];
  /** Nodes whose pages this lookup stopped reading (for time, or a broken page): their records are missing; and nodes from before pages whose one reply may have been cut. */
  readonly cutOff: number;
}

export interface ClosestResult extends LookupReport {
  readonly contacts: WireContact[];
}

export interface ProvideReport {
  /** Nodes (this one included) that hold the record now. */
  readonly stored: number;
  /** Of those, nodes other than this one. */
  readonly storedRemotely: number;
  readonly refused: number;
  readonly unreachable: number;
  readonly messages: number;
}

export interface BootstrapReport {
  readonly seedsReached: number;
  readonly contacts: number;
}

export interface RefreshReport {
  readonly lookups: number;
  readonly messages: number;
}

/** Makes the owner's record afresh (new issue time and expiry) for each (re)publication. */
export type MakeRecord = () => Uint8Array | Promise<Uint8Array>;

export interface DhtNode {
  readonly id: string;
  readonly endpoint: string;
  readonly bootstrapReport: BootstrapReport;
  /** Publishes this node's record under `key` on the k closest nodes, and republishes it before it expires until withdraw(). */
  provide(key: string, makeRecord: MakeRecord): Promise<ProvideReport>;
  /** Stops republishing `key`; the record lapses at its expiry. */
  withdraw(key: string): void;
  /**
   * Stores `value` under `key` on the k closest nodes once, with no republishing: for records whose
   * maker signs them again itself (a payee's chain sightings), each one replacing its last.
   */
  store(key: string, value: Uint8Array): Promise<ProvideReport>;
  /**
   * Every verified provider record for `key`, local and remote, from the holders a lookup hears
   * before it stops (`holders`, valueQuorum by default; this node counts when it holds some).
   * `complete`: every record each holder has, page by page (a holder's reply carries 64 KiB, a
   * random selection past that, which a key's filler could hide a record behind); a holder whose
   * read breaks off past its first page is cut off (holder-read.ts): its records left out, `cutOff` counted;
   * so is a holder from before pages whose one reply is full enough to have been cut (its records kept).
   */
  findProviders(key: string, options?: { readonly holders?: number; readonly complete?: boolean }): Promise<ProvidersResult>;
  /** The k nodes closest to `targetId` (hex). */
  findClosest(targetId: string): Promise<ClosestResult>;
  /**
   * Kademlia's refresh (§2.3): looks itself up, then a random id in each bucket no lookup targeted
   * within refreshIntervalMs; re-bootstraps from the seeds when the table is empty.
   */
  refresh(): Promise<RefreshReport>;
  /** Republishes every record this node provides now. */
  republish(): Promise<void>;
  /** Contacts this node knows, closest to itself first. */
  contacts(): WireContact[];
  stop(): Promise<void>;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${v}`);
  return v;
}

interface LookupRun extends LookupReport {
  readonly closest: Contact[];
  readonly values: Uint8Array[];
  readonly remoteHolders: Uint8Array[][];
  readonly cutOff: number;
}

interface Published {
  readonly makeRecord: MakeRecord;
  cancel: CancelTimer;
}

export async function startDhtNode(components: DhtNodeComponents, init: DhtNodeInit): Promise<DhtNode> {
  const { transport, clock, scheduler, random, validate, log } = components;
  const selfId = idFromHex(init.id);
  const selfHex = idToHex(selfId);
  const k = positiveInt(init.bucketSize, DEFAULT_BUCKET_SIZE, 'bucketSize');
  // Its replies list k contacts, and every node refuses a reply with more than that cap.
  if (k > MAX_CONTACTS_PER_REPLY) throw new RangeError(`bucketSize must be at most ${MAX_CONTACTS_PER_REPLY} (the contacts a reply may list), got ${k}`);
  const alpha = positiveInt(init.concurrency, DEFAULT_CONCURRENCY, 'concurrency');
  const quorum = positiveInt(init.valueQuorum, DEFAULT_VALUE_QUORUM, 'valueQuorum');
  const refreshIntervalMs = positiveInt(init.refreshIntervalMs, DEFAULT_REFRESH_INTERVAL_MS, 'refreshIntervalMs');
  const sweepIntervalMs = positiveInt(init.sweepIntervalMs, DEFAULT_SWEEP_INTERVAL_MS, 'sweepIntervalMs');
  const settleFirstMs = positiveInt(init.settleFirstMs, DEFAULT_SETTLE_FIRST_MS, 'settleFirstMs');
  const settleMaxMs = positiveInt(init.settleMaxMs, DEFAULT_SETTLE_MAX_MS, 'settleMaxMs');
  if (settleMaxMs < settleFirstMs) throw new RangeError(`settleMaxMs (${settleMaxMs}) must be at least settleFirstMs (${settleFirstMs})`);
  const seeds = (init.seeds ?? []).map(checkEndpoint);
  const store = createProviderStore(init.limits ?? DEFAULT_PROVIDER_STORE_LIMITS);
  const published = new Map<string, Published>();
  /** Bucket index (shared prefix bits) -> when a lookup last targeted it. */
  const lastLookupAt = new Map<number, number>();
  const timers = new Set<CancelTimer>();
  let stopped = false;

  /** True when `endpoint` answers a ping as `idHex`. */
  const pingAs = async (idHex: string, endpoint: string): Promise<boolean> => {
    try {
      return checkPingResponse(await transport.ping(endpoint, { id: selfHex })).remoteId === idHex;
    } catch {
      return false;
    }
  };
  const table = createContactTable(selfId, k, (contact) => pingAs(idToHex(contact.id), contact.endpoint));
  const dialBack = createDialBack(pingAs, clock, init.dialBack, init.hostOf);

  /** Every findNode reply lists k contacts: each table contact's wire form is made once (frozen: replies share it). */
  const wireForms = new WeakMap<Contact, WireContact>();
  const toWire = (c: Contact): WireContact => {
    let wire = wireForms.get(c);
    if (!wire) {
      wire = Object.freeze({ id: idToHex(c.id), endpoint: c.endpoint });
      wireForms.set(c, wire);
    }
    return wire;
  };
  const warn = (what: string, err: unknown) => log?.warn({ err, nodeId: selfHex }, `dht ${what} failed`);

  /**
   * A peer that sent a request (its id passed the request's wire check): seen again if the table
   * holds it at that endpoint, else admitted only once the endpoint answers as it (dial-back.ts).
   * An endpoint the wire check would refuse (over MAX_ENDPOINT_CHARS) is never learned: every reply
   * listing it would be refused whole by whoever asked, and this node dropped from their tables.
   */
  function learn(idHex: string, endpoint: string, network: string | undefined): void {
    if (idHex === selfHex || endpoint.length === 0 || endpoint.length > MAX_ENDPOINT_CHARS) return;
    const id = idFromCheckedHex(idHex);
    const [known] = table.closest(id, 1);
    if (known && known.endpoint === endpoint && idToHex(known.id) === idHex) return table.seen(known);
    dialBack.claim(idHex, endpoint, network, () => {
      if (!stopped) table.seen(new ContactClass(id, endpoint));
    });
  }

  function ensureRunning(): void {
    if (stopped) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the DHT node is stopped');
  }

  /**
   * Each provider's strongest verified record: the highest ranked, then the newest (a holder that
   * never held a provider's higher one may take a lower one signed later: helper-162).
   */
  function collector(key: string) {
    const newest = new Map<string, { rank: bigint; issuedAtMs: number; value: Uint8Array }>();
    const remoteHolders: Uint8Array[][] = [];
    return {
      /** `remote`: another node's reply, kept as that node's list too (false: this node's own store). */
      add(values: readonly Uint8Array[], remote: boolean): number {
        const accepted: Uint8Array[] = [];
        for (const value of values) {
          const verdict = validate(key, value, clock.now());
          if (!verdict.ok) continue;
          accepted.push(value);
          const held = newest.get(verdict.provider);
          const rank = verdict.rank ?? -1n;
          if (!held || rank > held.rank || (rank === held.rank && verdict.issuedAtMs > held.issuedAtMs))
            newest.set(verdict.provider, { rank, issuedAtMs: verdict.issuedAtMs, value });
        }
        if (remote && accepted.length > 0) remoteHolders.push(accepted);
        return accepted.length;
      },
      values: () => [...newest.values()].map((v) => v.value),
      remoteHolders: () => remoteHolders,
    };
  }

  function lookup(target: Id, key?: string, holdersWanted = quorum, complete = false): Promise<LookupRun> {
    lastLookupAt.set(commonPrefixLength(selfId, target), clock.now());
    const targetHex = idToHex(target);
    /** Contacts this lookup has heard of (hex id), with their depth in the referral chain: each is made once. */
    const met = new Map<string, { readonly depth: number; readonly contact: Contact }>();
    const seedContacts = table.closest(target, k);
    for (const contact of seedContacts) met.set(idToHex(contact.id), { depth: 1, contact });
    const found = key === undefined ? undefined : collector(key);
    let messages = 0;
    let failures = 0;
    let hops = 0;
    let holders = 0;
    let answered = 0;
    let done = false;
    let cutOff = 0;
    const read =
      key === undefined ? undefined : { transport, selfHex, targetHex, key, complete, clock, pagesUntilMs: clock.now() + COMPLETE_LOOKUP_MS, onPage: () => void messages++ };
    if (found && key !== undefined && found.add(store.values(key, clock.now()), false) > 0) {
      holders++; // this node holds records: hops stays 0
      done = holders >= holdersWanted;
    }
    return new Promise((resolve) => {
      Lookup.proceed(
        target,
        seedContacts,
        {
          size: k,
          concurrency: alpha,
          findNode(contact, _targetId, cb) {
            const hex = idToHex(contact.id);
            if (done || stopped || hex === selfHex) return queueMicrotask(() => cb(null, []));
            const d = met.get(hex)?.depth ?? 1;
            messages++;
            const request: Promise<{ readonly contacts: readonly WireContact[]; readonly values?: readonly Uint8Array[]; readonly leftOut?: boolean }> =
              read === undefined
                ? transport.findNode(contact.endpoint, { id: selfHex, targetId: targetHex }).then(checkFindNodeResponse)
                : readHolderValues(contact.endpoint, read);
            request.then(
              (reply) => {
                table.seen(contact);
                answered++;
                // A holder from before pages whose one reply may have been cut: its records count, but the answer is not whole.
                if (reply.leftOut === true) cutOff++;
                const next: Contact[] = [];
                for (const w of reply.contacts) {
                  // The lookup list keeps the first contact it meets for an id, so later referrals reuse it.
                  let known = met.get(w.id);
                  if (!known) {
                    known = { depth: d + 1, contact: new ContactClass(idFromCheckedHex(w.id), w.endpoint) };
                    met.set(w.id, known);
                  }
                  next.push(known.contact);
                }
                if (found && reply.values && reply.values.length > 0 && found.add(reply.values, true) > 0) {
                  if (holders === 0) hops = d;
                  holders++;
                  if (holders >= holdersWanted) done = true;
                } else if (!found) hops = Math.max(hops, d);
                cb(null, next);
              },
              (err: unknown) => {
                // Stopped by this lookup's own time: the contact is fine, but its records are missing.
                if (err instanceof ReadCutOff) cutOff++;
                else {
                  failures++;
                  table.failed(contact);
                }
                cb(err instanceof Error ? err : new Error(String(err)));
              },
            );
          },
        },
        (_err, closest) => resolve({ closest, values: found?.values() ?? [], remoteHolders: found?.remoteHolders() ?? [], messages, hops, failures, answered, cutOff }),
      );
    });
  }

  async function storeEverywhere(key: string, value: Uint8Array): Promise<ProvideReport> {
    const run = await lookup(keyId(key));
    let stored = 0;
    let refused = 0;
    let unreachable = 0;
    let messages = run.messages;
    // The owner always keeps its own record: a lone node, or one outside the k closest, still answers for itself.
    const local = putLocal(key, value).stored ? 1 : 0;
    stored += local;
    await Promise.all(
      run.closest
        .filter((c) => !c.id.equal(selfId))
        .map(async (contact) => {
          messages++;
          try {
            const reply = checkStoreResponse(await transport.store(contact.endpoint, { id: selfHex, key, value }));
            table.seen(contact);
            if (reply.stored) stored++;
            else refused++;
          } catch {
            table.failed(contact);
            unreachable++;
          }
        }),
    );
    return { stored, storedRemotely: stored - local, refused, unreachable, messages };
  }

  function putLocal(key: string, value: Uint8Array, network?: string) {
    const now = clock.now();
    const verdict = validate(key, value, now);
    if (!verdict.ok) return { stored: false, refusal: verdict.reason } as const;
    return store.put(key, value, verdict, now, network);
  }

  function setTimer(ms: number, fn: () => void): CancelTimer {
    const cancel = scheduler.setTimer(ms, () => {
      timers.delete(cancel);
      if (!stopped) fn();
    });
    timers.add(cancel);
    return () => {
      timers.delete(cancel);
      cancel();
    };
  }

  async function publishOnce(key: string, entry: Published): Promise<ProvideReport> {
    const value = checkValue(await entry.makeRecord());
    const verdict = validate(key, value, clock.now());
    if (!verdict.ok) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `the record to provide under '${key}' is refused by the validator: ${verdict.reason}`);
    const report = await storeEverywhere(key, value);
    if (published.get(key) === entry && !stopped) {
      const delay = Math.max(MIN_REPUBLISH_DELAY_MS, (verdict.expiresAtMs - clock.now()) * REPUBLISH_AT_REMAINING_FRACTION);
      entry.cancel();
      entry.cancel = setTimer(delay, () => void publishOnce(key, entry).catch((err: unknown) => warn('republish', err)));
    }
    return report;
  }

  /** The last self lookup: it refreshed every bucket deeper than `shallowest`. */
  let selfLookup: { readonly atMs: number; readonly shallowest: number } | undefined;
  const stale = (bucket: number, now: number) => {
    const last = Math.max(lastLookupAt.get(bucket) ?? -Infinity, selfLookup && bucket > selfLookup.shallowest ? selfLookup.atMs : -Infinity);
    return now - last >= refreshIntervalMs;
  };

  /**
   * Looks this node up. Every node sharing more than c leading bits with this one is closer to it
   * than any node sharing exactly c, so when the k closest found share at least c bits, the lookup
   * has met every node of the buckets deeper than c: those count as refreshed, and a random lookup
   * in them would only find the same nodes again.
   */
  async function lookupSelf(): Promise<LookupRun> {
    const run = await lookup(selfId);
    const others = run.closest.filter((c) => !c.id.equal(selfId));
    if (others.length === 0) return run;
    selfLookup = { atMs: clock.now(), shallowest: Math.min(...others.map((c) => commonPrefixLength(selfId, c.id))) };
    return run;
  }

  async function bootstrap(): Promise<BootstrapReport> {
    let seedsReached = 0;
    await Promise.all(
      seeds.map(async (endpoint) => {
        try {
          const reply = checkPingResponse(await transport.ping(endpoint, { id: selfHex }));
          // Dialled and answered: proven, no dial-back needed.
          if (reply.remoteId !== selfHex) table.seen(new ContactClass(idFromCheckedHex(reply.remoteId), endpoint));
          seedsReached++;
        } catch (err) {
          warn('bootstrap ping', err);
        }
      }),
    );
    if (seedsReached > 0) await lookupSelf();
    return { seedsReached, contacts: table.closest(selfId, k).length };
  }

  async function refresh(): Promise<RefreshReport> {
    ensureRunning();
    let lookups = 0;
    let messages = 0;
    if (table.closest(selfId, 1).length === 0 && seeds.length > 0) await bootstrap();
    if (table.closest(selfId, 1).length === 0) return { lookups, messages };
    if (stale(ID_BITS, clock.now())) {
      const run = await lookupSelf();
      lookups++;
      messages += run.messages;
    }
    // Buckets past the deepest contact are empty: nothing to refresh there (Kademlia §2.3).
    const known = table.closest(selfId, k);
    if (known.length === 0) return { lookups, messages };
    const deepest = Math.max(...known.map((c) => commonPrefixLength(selfId, c.id)));
    for (let bucket = 0; bucket <= deepest; bucket++) {
      if (!stale(bucket, clock.now())) continue;
      const run = await lookup(randomIdInBucket(selfId, bucket, random));
      lookups++;
      messages += run.messages;
    }
    return { lookups, messages };
  }

  const handlers: DhtHandlers = {
    ping(from, raw, network) {
      const request = checkPingRequest(raw);
      learn(request.id, from, network);
      return { remoteId: selfHex };
    },
    store(from, raw, network) {
      const request = checkStoreRequest(raw);
      learn(request.id, from, network);
      const outcome = putLocal(request.key, request.value, network);
      return outcome.stored ? { stored: true, refusal: '' } : { stored: false, refusal: outcome.refusal };
    },
    findNode(from, raw, network) {
      const request = checkFindNodeRequest(raw);
      learn(request.id, from, network);
      return { contacts: table.closest(idFromCheckedHex(request.targetId), k).map(toWire) };
    },
    findValue(from, raw, network) {
      const request = checkFindValueRequest(raw);
      learn(request.id, from, network);
      const contacts = table.closest(idFromCheckedHex(request.targetId), k).map(toWire);
      if (!request.paged) return { values: store.valuesForReply(request.key, clock.now(), MAX_REPLY_VALUE_BYTES, random), contacts };
      const page = store.pageForReply(request.key, clock.now(), MAX_REPLY_VALUE_BYTES, request.after ?? '');
      return { values: page.values, contacts, moreAfter: page.moreAfter, paged: true };
    },
  };

  transport.listen(handlers);
  const bootstrapReport = await bootstrap();

  if (init.maintenance ?? true) {
    const everyRefresh = () => {
      setTimer(refreshIntervalMs, () => {
        void refresh()
          .catch((err: unknown) => warn('refresh', err))
          .finally(everyRefresh);
      });
    };
    const everySweep = () => {
      setTimer(sweepIntervalMs, () => {
        store.sweep(clock.now());
        everySweep();
      });
    };
    const closestIds = () => new Set(table.closest(selfId, k).map((c) => idToHex(c.id)));
    /** A self lookup (or, with no contacts and seeds, a bootstrap) after delayMs; see DEFAULT_SETTLE_FIRST_MS. */
    const settle = (delayMs: number, closestBefore: ReadonlySet<string>) => {
      setTimer(delayMs, () => {
        const run = table.closest(selfId, 1).length > 0 ? lookupSelf() : seeds.length > 0 ? bootstrap() : Promise.resolve();
        void run
          .catch((err: unknown) => warn('settling lookup', err))
          .finally(() => {
            if (stopped) return;
            const closest = closestIds();
            const forgot = [...closestBefore].some((id) => !closest.has(id));
            settle(forgot ? settleFirstMs : Math.min(delayMs * 2, settleMaxMs), closest);
          });
      });
    };
    everyRefresh();
    everySweep();
    settle(settleFirstMs, closestIds());
  }

  return {
    id: selfHex,
    endpoint: transport.endpoint,
    bootstrapReport,
    async provide(key, makeRecord) {
      ensureRunning();
      checkKey(key);
      published.get(key)?.cancel();
      const entry: Published = { makeRecord, cancel: () => undefined };
      published.set(key, entry);
      return publishOnce(key, entry);
    },
    withdraw(key) {
      published.get(key)?.cancel();
      published.delete(key);
    },
    async store(key, value) {
      ensureRunning();
      checkKey(key);
      return storeEverywhere(key, checkValue(value));
    },
    async findProviders(key, options) {
      ensureRunning();
      checkKey(key);
      const run = await lookup(keyId(key), key, positiveInt(options?.holders, quorum, 'holders'), options?.complete === true);
      return { values: run.values, remoteHolders: run.remoteHolders, cutOff: run.cutOff, messages: run.messages, hops: run.hops, failures: run.failures, answered: run.answered };
    },
    async findClosest(targetId) {
      ensureRunning();
      const run = await lookup(idFromHex(targetId));
      return { contacts: run.closest.map(toWire), messages: run.messages, hops: run.hops, failures: run.failures, answered: run.answered };
    },
    refresh,
    async republish() {
      ensureRunning();
      await Promise.all([...published].map(([key, entry]) => publishOnce(key, entry)));
    },
    contacts: () => table.closest(selfId, Number.MAX_SAFE_INTEGER).map(toWire),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const cancel of [...timers]) cancel();
      published.clear();
      await transport.close();
    },
  };
}

/**
 * DNS lookups of names that peers chose, bounded. Node's `dns.lookup` is the system's getaddrinfo on
 * one of libuv's four threads, which it holds until the resolver gives up (seconds to minutes) and
 * which nothing can cancel. A record or a DHT claim naming a slow-resolving name held a thread and a
 * caller per dial: four such dials stalled every lookup and file read of the process. Here:
 * - one lookup of a name at a time, shared by whoever asks meanwhile;
 * - at most `maxInFlight` lookups running, counted until the system's resolver answers (not until a
 *   caller gives up): the rest wait their turn in order, at most `maxQueued` of them;
 * - a caller waits at most `waitMs`, then gets the name's last answer if it has one (`staleMs`) or
 *   an error; a name whose lookup failed or outlasted `waitMs` is not asked again for `failureMs`
 *   after that lookup ends;
 * - an answer is used for `freshMs` as it is, then up to `staleMs` while a new lookup runs behind
 *   it (queued if need be, and run at its turn though nobody waits: helper-173): peers known by
 *   name keep being dialled while strangers' slow names hold every turn;
 * - `maxNames` remembered, those without an answer forgotten first, a name refused a turn not at
 *   all (1,024 refused names pushed a known peer's answer out: helper-173), and answers that
 *   reached a peer (`keep`) only after every other (a wildcard zone answering 1,024 names pushed
 *   one out: helper-174), one name kept for each peer that reached it (a node answering at 256
 *   wildcard names took every kept slot: helper-175); at most MAX_ADDRESSES_KEPT addresses of an answer.
 * Ages go by a Stopwatch, waits by a Scheduler (virtual in tests).
 */
import type { Scheduler, Stopwatch } from '@swarm/determinism';
import { RecencyMap } from '@swarm/recency-map';
import type { ResolveHost } from './claimed-address';

export interface ResolverLimits {
  /** Lookups running at once, each on a libuv thread until the system's resolver answers (libuv has 4). */
  readonly maxInFlight: number;
  /** Names waiting for a turn; past that a new name is refused at once. */
  readonly maxQueued: number;
  /** How long a caller waits for its answer. */
  readonly waitMs: number;
  /** An answer used as it is. */
  readonly freshMs: number;
  /** An answer still used, while a new lookup runs, or when it fails or is slow. */
  readonly staleMs: number;
  /** A name whose lookup failed or was slow is not asked again for this long after it ends. */
  readonly failureMs: number;
  /** Names remembered; forgotten first those without an answer, then answers not kept, each least recently asked first. */
  readonly maxNames: number;
}

export const DEFAULT_RESOLVER_LIMITS: ResolverLimits = Object.freeze({
  maxInFlight: 2,
  maxQueued: 64,
  waitMs: 3_000,
  freshMs: 5_000,
  staleMs: 600_000,
  failureMs: 10_000,
  maxNames: 1_024,
});

interface Lookup {
  /** When its turn came (undefined while queued). */
  startedAtMs: number | undefined;
  /** Callers waiting for it; a queued lookup nobody waits for any more is not run, unless `background`. */
  waiting: number;
  /** A refresh behind a stale answer: run when its turn comes though nobody waits. */
  background: boolean;
  /** Settles (never rejects) when the lookup ends or is dropped. */
  readonly done: Promise<void>;
  readonly end: () => void;
}

interface NameState {
  answer: { readonly addresses: readonly string[]; readonly atMs: number } | undefined;
  /** When the last lookup failed, or ended after outlasting `waitMs`. */
  failedAtMs: number | undefined;
  /** Why it failed, for the error. */
  failure: string;
  lookup: Lookup | undefined;
  /** Its answer reached a peer (BoundedResolver.keep): forgotten only after every answer not kept. */
  kept: boolean;
}

/** A ResolveHost whose answers can be kept. */
export interface BoundedResolver extends ResolveHost {
  /**
   * Keeps `host`'s answer (a dial at it reached the peer `holder`, its node id) past strangers'
   * names: forgotten only after every name not kept, a quarter of `maxNames` at most (the least
   * recently asked unkept first). One name for each holder: a holder's earlier name is kept no more
   * (unless another holder keeps it), and past a quarter of `maxNames` holders the least recently
   * kept holder's name is let go.
   */
  keep(host: string, holder: string): void;
}

const QUOTED_CHARS = 64;
/** Addresses of one name kept (and given): a dial takes the first that fits this node's scope. */
export const MAX_ADDRESSES_KEPT = 64;

export function createBoundedResolver(
  resolve: ResolveHost,
  time: { readonly stopwatch: Stopwatch; readonly scheduler: Scheduler },
  limits: ResolverLimits = DEFAULT_RESOLVER_LIMITS,
): BoundedResolver {
  for (const [name, value] of Object.entries(limits)) {
    if (!(typeof value === 'number' && value >= 0 && Number.isFinite(value))) throw new RangeError(`resolver limit ${name} must be a finite number >= 0, got ${String(value)}`);
  }
  if (limits.maxInFlight < 1) throw new RangeError(`resolver limit maxInFlight must be >= 1, got ${limits.maxInFlight}`);
  // Names being looked up are never forgotten: fewer names than that would leave no room for the one asked.
  if (limits.maxNames <= limits.maxInFlight + limits.maxQueued) {
    throw new RangeError(`resolver limit maxNames must be more than maxInFlight + maxQueued (${limits.maxInFlight + limits.maxQueued}), got ${limits.maxNames}`);
  }
  const { stopwatch, scheduler } = time;
  /** Map order: least recently asked first. */
  const names = new Map<string, NameState>();
  /** Names whose lookups wait for a turn, first come first. */
  const queue: string[] = [];
  let inFlight = 0;
  /** Names kept now. */
  let kept = 0;
  const maxKept = Math.max(1, Math.floor(limits.maxNames / 4));

  function forget(host: string, state: NameState): void {
    names.delete(host);
    if (state.kept) kept -= 1;
  }

  function stateOf(host: string): NameState {
    let state = names.get(host);
    if (state === undefined) state = { answer: undefined, failedAtMs: undefined, failure: '', lookup: undefined, kept: false };
    names.delete(host);
    names.set(host, state);
    // Forgotten first: names without an answer, then answers not kept, then kept ones.
    for (const pass of [0, 1, 2]) {
      for (const [name, old] of names) {
        if (names.size <= limits.maxNames) break;
        if (name === host || old.lookup !== undefined || (pass < 2 && old.kept) || (pass === 0 && old.answer !== undefined)) continue;
        forget(name, old);
      }
    }
    return state;
  }

  /** Starts `host`'s lookup, or queues it; undefined when the queue is full. */
  function lookupOf(host: string, state: NameState): Lookup | undefined {
    if (state.lookup !== undefined) return state.lookup;
    if (inFlight >= limits.maxInFlight && queue.length >= limits.maxQueued) return undefined;
    let end: () => void = () => undefined;
    const done = new Promise<void>((resolveDone) => (end = resolveDone));
    const lookup: Lookup = { startedAtMs: undefined, waiting: 0, background: false, done, end };
    state.lookup = lookup;
    if (inFlight < limits.maxInFlight) run(host, state, lookup);
    else queue.push(host);
    return lookup;
  }

  function run(host: string, state: NameState, lookup: Lookup): void {
    inFlight += 1;
    lookup.startedAtMs = stopwatch.now();
    const settle = (answer: readonly string[] | undefined, failure: string) => {
      inFlight -= 1;
      const now = stopwatch.now();
      if (answer !== undefined) state.answer = { addresses: answer, atMs: now };
      // A lookup that outlasted a caller's wait counts as failed even when it answered at last: asked again, it would hold a thread as long.
      if (answer === undefined || now - (lookup.startedAtMs ?? now) > limits.waitMs) {
        state.failedAtMs = now;
        state.failure = answer === undefined ? failure : `its lookup took over ${limits.waitMs} ms`;
      } else state.failedAtMs = undefined;
      if (state.lookup === lookup) state.lookup = undefined;
      lookup.end();
      next();
    };
    let pending: Promise<string[]>;
    try {
      pending = resolve(host);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      // A 64 KB answer over TCP holds ~4,000 addresses: kept whole for 1,024 names, 229 MiB (helper-173).
      (addresses) => settle(addresses.slice(0, MAX_ADDRESSES_KEPT), ''),
      (err: unknown) => settle(undefined, (err instanceof Error ? err.message : String(err)).slice(0, 200)),
    );
  }

  /** Gives the freed turn to the first queued name someone still waits for. */
  function next(): void {
    while (inFlight < limits.maxInFlight && queue.length > 0) {
      const host = queue.shift() as string;
      const state = names.get(host);
      const lookup = state?.lookup;
      if (state === undefined || lookup === undefined) continue;
      if (lookup.waiting === 0 && !lookup.background) {
        state.lookup = undefined;
        lookup.end();
        continue;
      }
      run(host, state, lookup);
    }
  }

  /** Waits for `lookup` at most `ms`: true when it ended. */
  async function waitFor(lookup: Lookup, ms: number): Promise<boolean> {
    let timedOut = false;
    let cancel: () => void = () => undefined;
    const timer = new Promise<void>((resolveTimer) => {
      cancel = scheduler.setTimer(ms, () => {
        timedOut = true;
        resolveTimer();
      });
    });
    lookup.waiting += 1;
    try {
      await Promise.race([lookup.done, timer]);
    } finally {
      lookup.waiting -= 1;
      cancel();
    }
    return !timedOut;
  }

  /** Lets `host` go unless a holder keeps it still. */
  const release = (host: string): void => {
    for (const held of keptFor.values()) if (held === host) return;
    const state = names.get(host);
    if (state?.kept !== true) return;
    state.kept = false;
    kept -= 1;
  };
  /** The name each holder keeps; a holder forgotten lets its name go. */
  const keptFor = new RecencyMap<string, string>(maxKept, undefined, (_holder, host) => release(host));

  const keep = (host: string, holder: string): void => {
    const state = names.get(host);
    // Only an answer is kept: a name without one takes no holder's slot.
    if (state === undefined || state.answer === undefined) return;
    const before = keptFor.get(holder);
    keptFor.set(holder, host);
    if (before !== undefined && before !== host) release(before);
    if (state.kept) return;
    state.kept = true;
    kept += 1;
    for (const old of names.values()) {
      if (kept <= maxKept) break;
      if (old !== state && old.kept) {
        old.kept = false;
        kept -= 1;
      }
    }
  };

  const resolveBounded = async (host: string): Promise<string[]> => {
    const quoted = host.slice(0, QUOTED_CHARS);
    // A new name with no turn to be had is refused before it is remembered: remembered, it pushed out
    // another name's answer or failure (helper-173, helper-175).
    if (!names.has(host) && inFlight >= limits.maxInFlight && queue.length >= limits.maxQueued) throw new Error(`too many names are being looked up; ${quoted} was not`);
    const state = stateOf(host);
    const now = stopwatch.now();
    const answer = state.answer !== undefined && now - state.answer.atMs <= limits.staleMs ? state.answer : undefined;
    // A kept answer gone stale past use is kept no more: its slot goes to the living (helper-175).
    if (answer === undefined && state.kept) {
      state.kept = false;
      kept -= 1;
    }
    if (answer !== undefined && now - answer.atMs <= limits.freshMs) return [...answer.addresses];
    const failedLately = state.failedAtMs !== undefined && now - state.failedAtMs < limits.failureMs;
    // A lookup running longer than a caller waits is as good as failed: its callers are not made to wait again.
    const slow = state.lookup?.startedAtMs !== undefined && now - state.lookup.startedAtMs >= limits.waitMs;
    if (failedLately || slow) {
      if (answer !== undefined) return [...answer.addresses];
      throw new Error(failedLately ? `the lookup of ${quoted} failed lately (${state.failure})` : `the lookup of ${quoted} is taking over ${limits.waitMs} ms`);
    }
    const lookup = lookupOf(host, state);
    if (lookup === undefined && answer === undefined && state.failedAtMs === undefined) forget(host, state); // refused: remember nothing
    if (answer !== undefined && lookup !== undefined) lookup.background = true;
    if (answer !== undefined) return [...answer.addresses]; // stale: the new lookup runs behind it
    if (lookup === undefined) throw new Error(`too many names are being looked up; ${quoted} was not`);
    const ended = await waitFor(lookup, limits.waitMs);
    const latest = state.answer;
    if (latest !== undefined && latest.atMs >= now) return [...latest.addresses];
    if (ended) throw new Error(`the lookup of ${quoted} failed (${state.failure})`);
    throw new Error(lookup.startedAtMs === undefined ? `no turn to look up ${quoted} within ${limits.waitMs} ms` : `the lookup of ${quoted} took over ${limits.waitMs} ms`);
  };
  return Object.assign(resolveBounded, { keep });
}

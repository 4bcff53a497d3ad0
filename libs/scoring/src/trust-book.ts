/**
 * A router's trust in other nodes (issue 14), learned from how their attempts ended, pure: the
 * clock is a parameter (a Stopwatch reading: trust lives in one process, so durations suffice).
 *
 * Per node id, τ in [0, 1]:
 * - A node never seen has τ = 0 ("new identities start with zero trust"); so does a forgotten one.
 * - A verified attempt ('ok') raises it: τ ← τ + gain·(1 − τ) (gain 0.1: ten verified results take
 *   a new node to 0.65, thirty to 0.96).
 * - A rejected one ('rejected-by-verification': a result proven wrong, or a replica the referee
 *   refuted) cuts it hard: τ ← τ·(1 − rejectCut) (0.5), and makes the node a suspect for
 *   `suspectMs` (an hour): a selector tries a suspect only after every other candidate. Cutting τ
 *   alone does nothing to a new node (τ = 0 already), so a fresh identity returning wrong results
 *   would otherwise keep winning on the price and load it claims.
 * - 'failed' and 'timeout' cut it slightly: τ ← τ·(1 − failCut) (0.02). They may be the network's
 *   fault rather than the node's (or, for a result that failed its check without proof it is wrong,
 *   the submitter's crafted inputs: docs/verification.md), earn it nothing, and the selector already sends a task's retry
 *   elsewhere; but a node that keeps wasting attempts should not keep its standing for free.
 *   'overloaded' leaves τ as it is (refusing work for lack of capacity is honest), and so do
 *   'cut-short' and 'unjudged'; the stall rule below may still make such a node a suspect.
 * - A 'failed', 'timeout' or 'overloaded' attempt of a node whose τ was below `stallSlack` (0.5:
 *   fewer than about seven verified results), and a 'cut-short' one of a node never verified, also
 *   make it a suspect for `stallSuspectMs` (10 minutes), until it next returns a verified result
 *   (stalls()). Without it, identities that accept tasks and never answer, or answer "full" or an
 *   error (0.1 s of proof of work each, claiming no load and no price), would win every choice and
 *   fail every task, each attempt going to the next of them; with it, each costs the router one
 *   attempt per 10 minutes at most, and probation (below) bounds them all together. A node with a
 *   record of verified results keeps its place through a stall. 'unjudged' (a verified result that
 *   could not count) changes nothing.
 * - An 'overloaded' attempt ("full") also marks the node busy, whatever its τ: for `busyBaseMs` (1 s)
 *   after its first refusal in a row, doubling with each further one up to `busyMaxMs` (a minute),
 *   until its next verified result (isBusy()). "In a row": a refusal within the window still
 *   running (attempts sent before the first came back) starts it again at the same length; one
 *   after it, within twice its length, doubles it; one later than that starts a new run at 1 s.
 *   A selector tries a busy node after the others that have not refused lately (its advertised
 *   load is contradicted by its own answer): a node that is really full gets time to drain, and one
 *   that says "full" to every task, whatever standing it earned, costs this router one quick
 *   refusal a minute rather than one per task. Not kept across a restart: the window is too short
 *   to matter.
 * - Idle time decays it: τ ← τ·(1−β)^(Δt/T0) (@swarm/chain decayTrust, DEFAULT_TRUST_DECAY: 5% a
 *   day), Δt counted from the node's last recorded attempt. Every update but a verified one only
 *   multiplies τ, and the exponent is continuous, so this equals decaying since the last verified
 *   attempt: materializing the decay at each update changes nothing.
 * - Probation: a node never verified (τ = 0) is tried ahead of a proven candidate one attempt at a
 *   time (its probe), and the probes of all such nodes come out of one budget: `probationAttempts`
 *   (10), one back per `probationRefillMs` (a minute) and one back per verified result of a node that
 *   had none. A selector charges it when it chooses an unproven node over a proven one, and tries the
 *   proven candidates first while the budget is spent or while that node's probe is in flight
 *   (probationOpen, isProbing, chargeProbation). Without it, each new identity (0.1 s of proof of
 *   work) cost the router an attempt per stallSuspectMs, however many identities, and several at
 *   once while tasks were in flight; with it, all of them together cost at most the budget and one a
 *   minute while a proven provider is left, and a newcomer gets its second task once its first came
 *   back verified. A probe ends with the node's next recorded attempt, or after stallSuspectMs
 *   (one never dispatched). Among new nodes only (nobody proven) nothing is charged: a new swarm
 *   bootstraps. Not kept across a restart.
 * - `distrust` marks a node untrusted for good (a fork proof convicted it): τ = 0 from then on,
 *   whatever it does, and a selector never chooses it.
 * This node's own executors (local candidates) are not judged: there is no peer to trust.
 *
 * Bounded memory: at most `maxNodes` (10,000) nodes with a trust, the least recently recorded
 * forgotten first (back to τ = 0, which costs a returning node only its head start); untrusted marks
 * are held apart, at most `maxUntrusted` (100,000, ~10 MB) of them: none is forgotten while fewer
 * are held, and beyond that the oldest mark goes first (its proof stays wherever its caller kept
 * it). Recording is O(1); reading one node's trust is O(1).
 */
import type { TrustDecay } from '@swarm/chain';
import { decayTrust, DEFAULT_TRUST_DECAY, NODE_ID } from '@swarm/chain';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { RecencyMap } from '@swarm/recency-map';
import type { AttemptObserver, AttemptReport } from './attempt-report';
import type { TrustReader } from './candidate';

export interface TrustRules {
  /** Share of the way to 1 a verified attempt gains, 0..1. */
  readonly gain: number;
  /** Share of τ a rejected attempt loses, 0..1. */
  readonly rejectCut: number;
  /** Share of τ a failed or timed-out attempt loses, 0..1. */
  readonly failCut: number;
  /** How long a rejected attempt makes its node a suspect, ms (≥ 0). */
  readonly suspectMs: number;
  /** How long a stall (stalls(): a failure, a timeout or "full" below `stallSlack`) makes its node a suspect, ms (≥ 0). */
  readonly stallSuspectMs: number;
  /** τ from which a failed, timed-out or "full" attempt no longer makes a node a suspect, 0..1. */
  readonly stallSlack: number;
  /** How long a node's first "full" in a row makes it busy (isBusy), ms (≥ 0); each further one doubles it. */
  readonly busyBaseMs: number;
  /** The longest a run of "full" answers makes a node busy, ms (≥ 0). */
  readonly busyMaxMs: number;
  readonly decay: TrustDecay;
  /** Probation: attempts given to nodes never verified ahead of a proven candidate, at most, in a burst (≥ 0). */
  readonly probationAttempts: number;
  /** Probation: how often one such attempt comes back, ms (≥ 1). */
  readonly probationRefillMs: number;
  /** Nodes holding a trust at once (≥ 1). */
  readonly maxNodes: number;
  /** Untrusted marks held at once (≥ 1). */
  readonly maxUntrusted: number;
}

export const DEFAULT_TRUST_RULES: TrustRules = Object.freeze({
  gain: 0.1,
  rejectCut: 0.5,
  failCut: 0.02,
  suspectMs: 3_600_000,
  stallSuspectMs: 600_000,
  stallSlack: 0.5,
  busyBaseMs: 1_000,
  busyMaxMs: 60_000,
  decay: DEFAULT_TRUST_DECAY,
  probationAttempts: 10,
  probationRefillMs: 60_000,
  maxNodes: 10_000,
  maxUntrusted: 100_000,
});

/** One node as the book holds it (RouterTrust's NodeTrust). */
export interface NodeTrustView {
  readonly nodeId: string;
  /** 0..1, decayed to the time asked; 0 when untrusted. */
  readonly trust: number;
  /** Verified and rejected attempts recorded since the node was first recorded (kept across restarts by snapshot/restore), or since it was forgotten. */
  readonly verified: number;
  readonly rejected: number;
  /** Results that failed their check without proof they are wrong (each a 'failed' attempt), counted over the same time. */
  readonly unprovenFailures: number;
  readonly untrusted: boolean;
}

export interface TrustBook {
  /** Learns from one attempt that ended at `nowMs` (Stopwatch ms). O(1). */
  record(report: AttemptReport, nowMs: number): void;
  /** τ of `nodeId` at `nowMs`: 0 for a node never seen, forgotten or untrusted. */
  trustOf(nodeId: string, nowMs: number): number;
  /** Whether a result of `nodeId` was rejected less than `suspectMs` before `nowMs`, or it stalled (below `stallSlack`) less than `stallSuspectMs` before and has not been verified since. */
  isSuspect(nodeId: string, nowMs: number): boolean;
  /** Whether `nodeId` answered "full" ('overloaded') within its busy window before `nowMs` and has not been verified since. */
  isBusy(nodeId: string, nowMs: number): boolean;
  isUntrusted(nodeId: string): boolean;
  /** Whether the probation budget (see the file comment) holds at least one attempt at `nowMs`. */
  probationOpen(nowMs: number): boolean;
  /** Whether `nodeId`'s probe (see the file comment) is in flight at `nowMs`. */
  isProbing(nodeId: string, nowMs: number): boolean;
  /** `nodeId`'s probe starts at `nowMs`: one attempt from the probation budget (down to minus probationAttempts). */
  chargeProbation(nodeId: string, nowMs: number): void;
  /** Marks `nodeId` untrusted for good; true when it was not already. */
  distrust(nodeId: string): boolean;
  /** Up to `limit` nodes, most trusted first, the untrusted ones last (ties by node id). */
  list(nowMs: number, limit: number): NodeTrustView[];
  /** Nodes holding a trust now, and untrusted marks. */
  size(): { readonly trusted: number; readonly untrusted: number };
  /**
   * The trusted nodes as kept across restarts, least recently recorded first: τ decayed to `nowMs`
   * and dated `wallNowMs` (wall-clock ms: a stopwatch's readings mean nothing to the next process).
   * Untrusted marks are not in it: their fork proofs are their record.
   */
  snapshot(nowMs: number, wallNowMs: number): TrustSnapshotEntry[];
  /**
   * Takes back a snapshot at a start: each τ decayed by the wall time since it was dated (none for a
   * date ahead), then held as of `nowMs`. Entries that do not hold (a node id that is not 64
   * lowercase hex, τ outside 0..1, counts that are not whole numbers ≥ 0, a date that is not one),
   * nodes already held or untrusted, and those beyond `maxNodes` are skipped. Answers the counts.
   */
  restore(entries: readonly TrustSnapshotEntry[], nowMs: number, wallNowMs: number): { readonly restored: number; readonly skipped: number };
}

/** One node's trust as kept across restarts (TrustBook.snapshot). */
export interface TrustSnapshotEntry {
  readonly nodeId: string;
  readonly trust: number;
  readonly verified: number;
  readonly rejected: number;
  /** Absent in files written before it was counted (read as 0). */
  readonly unprovenFailures?: number;
  /** When `trust` was its value: wall-clock ms since the Unix epoch. */
  readonly atMs: number;
  /** When a result of it was last rejected (wall-clock ms), while that still makes it a suspect; absent otherwise. */
  readonly rejectedAtMs?: number;
  /** When it last stalled (stalls(); wall-clock ms), while that still makes it a suspect; absent otherwise. */
  readonly stalledAtMs?: number;
}

interface Entry {
  /** τ as of `at`. */
  trust: number;
  at: number;
  verified: number;
  rejected: number;
  unprovenFailures: number;
  /** When its last rejected attempt ended (Stopwatch ms); undefined for none. */
  rejectedAt?: number;
  /** When it last stalled (stalls(); Stopwatch ms), with no verified attempt since; undefined for none. */
  stalledAt?: number;
  /** "full" answers in a row since its last verified attempt, and when the last one came (Stopwatch ms). */
  refusals?: number;
  refusedAt?: number;
}

interface Mark {
  verified: number;
  rejected: number;
  unprovenFailures: number;
}

export function createTrustBook(overrides: Partial<TrustRules> = {}): TrustBook {
  const rules = checkedRules({ ...DEFAULT_TRUST_RULES, ...overrides });
  // Least recently recorded forgotten first.
  const entries = new RecencyMap<string, Entry>(rules.maxNodes);
  const marks = new RecencyMap<string, Mark>(rules.maxUntrusted);
  /** How long ago `e`'s last result was rejected, while that still makes it a suspect; undefined otherwise. */
  const suspectAge = (e: Entry, nowMs: number) => ageWithin(e.rejectedAt, nowMs, rules.suspectMs);
  /** How long ago `e` stalled, while that still makes it a suspect; undefined otherwise. */
  const stallAge = (e: Entry, nowMs: number) => ageWithin(e.stalledAt, nowMs, rules.stallSuspectMs);

  // A stopwatch that went back (or a NaN) decays nothing rather than throwing on the hot path.
  const decayed = (e: Entry, nowMs: number) => (nowMs > e.at ? decayTrust(e.trust, nowMs - e.at, rules.decay) : e.trust);

  // Probation: what the budget held at `probationAt` (Stopwatch ms), refilled continuously since;
  // and the probes in flight, by when each started (the oldest forgotten first).
  const probes = new RecencyMap<string, number>(rules.maxNodes);
  let probation = rules.probationAttempts;
  let probationAt = Number.NEGATIVE_INFINITY;
  const probationLeft = (nowMs: number) => (nowMs > probationAt ? Math.min(rules.probationAttempts, probation + (nowMs - probationAt) / rules.probationRefillMs) : probation);
  const addProbation = (delta: number, nowMs: number) => {
    probation = Math.max(-rules.probationAttempts, Math.min(rules.probationAttempts, probationLeft(nowMs) + delta));
    if (nowMs > probationAt) probationAt = nowMs;
  };

  return {
    record(report, nowMs) {
      if (report.candidate.local) return;
      const nodeId = report.candidate.nodeId;
      const mark = marks.get(nodeId);
      if (mark) {
        count(mark, report);
        return;
      }
      probes.delete(nodeId);
      const known = entries.get(nodeId);
      const e: Entry = known ?? { trust: 0, at: nowMs, verified: 0, rejected: 0, unprovenFailures: 0 };
      const before = decayed(e, nowMs);
      e.trust = clamp(updated(before, report, rules));
      if (nowMs > e.at) e.at = nowMs;
      count(e, report);
      if (report.outcome === 'rejected-by-verification') e.rejectedAt = nowMs;
      if (report.outcome === 'ok') {
        // A node never verified that proves itself gives its probation attempt back.
        if (before === 0) addProbation(1, nowMs);
        e.stalledAt = undefined;
        e.refusals = undefined;
        e.refusedAt = undefined;
      } else if (stalls(report.outcome, before, rules)) e.stalledAt = nowMs;
      if (report.outcome === 'overloaded') {
        e.refusals = refusalsAfter(e, nowMs, rules);
        e.refusedAt = nowMs;
      }
      entries.set(nodeId, e);
    },
    trustOf(nodeId, nowMs) {
      if (marks.has(nodeId)) return 0;
      const e = entries.get(nodeId);
      return e ? decayed(e, nowMs) : 0;
    },
    isSuspect(nodeId, nowMs) {
      const e = entries.get(nodeId);
      return e !== undefined && (suspectAge(e, nowMs) !== undefined || stallAge(e, nowMs) !== undefined);
    },
    isBusy(nodeId, nowMs) {
      const e = entries.get(nodeId);
      return e?.refusals !== undefined && ageWithin(e.refusedAt, nowMs, busyWindow(e.refusals, rules)) !== undefined;
    },
    isUntrusted: (nodeId) => marks.has(nodeId),
    probationOpen: (nowMs) => probationLeft(nowMs) >= 1,
    isProbing: (nodeId, nowMs) => ageWithin(probes.get(nodeId), nowMs, rules.stallSuspectMs) !== undefined,
    chargeProbation(nodeId, nowMs) {
      addProbation(-1, nowMs);
      probes.set(nodeId, nowMs);
    },
    distrust(nodeId) {
      if (marks.has(nodeId)) return false;
      const e = entries.get(nodeId);
      entries.delete(nodeId);
      marks.set(nodeId, { verified: e?.verified ?? 0, rejected: e?.rejected ?? 0, unprovenFailures: e?.unprovenFailures ?? 0 });
      return true;
    },
    list(nowMs, limit) {
      const n = Math.max(0, Math.floor(limit));
      const trusted: NodeTrustView[] = [...entries].map(([nodeId, e]) => ({ nodeId, trust: decayed(e, nowMs), ...counters(e), untrusted: false }));
      trusted.sort((a, b) => b.trust - a.trust || compareIds(a.nodeId, b.nodeId));
      const out = trusted.slice(0, n);
      if (out.length < n) {
        const untrusted = [...marks].map(([nodeId, m]): NodeTrustView => ({ nodeId, trust: 0, ...counters(m), untrusted: true }));
        out.push(...untrusted.sort((a, b) => compareIds(a.nodeId, b.nodeId)).slice(0, n - out.length));
      }
      return out;
    },
    size: () => ({ trusted: entries.size, untrusted: marks.size }),
    snapshot(nowMs, wallNowMs) {
      return [...entries].map(([nodeId, e]) => {
        // Dated by the wall clock, as `atMs`: a stopwatch's readings mean nothing to the next process.
        const age = suspectAge(e, nowMs);
        const rejected = age === undefined ? {} : { rejectedAtMs: Math.max(0, Math.round(wallNowMs - age)) };
        const stall = stallAge(e, nowMs);
        const stalled = stall === undefined ? {} : { stalledAtMs: Math.max(0, Math.round(wallNowMs - stall)) };
        return { nodeId, trust: decayed(e, nowMs), ...counters(e), atMs: wallNowMs, ...rejected, ...stalled };
      });
    },
    restore(kept, nowMs, wallNowMs) {
      let restored = 0;
      for (const k of kept) {
        if (!holds(k) || entries.has(k.nodeId) || marks.has(k.nodeId) || entries.size >= rules.maxNodes) continue;
        const trust = wallNowMs > k.atMs ? decayTrust(k.trust, wallNowMs - k.atMs, rules.decay) : k.trust;
        // A suspect stays one for what is left of its hour (none when the wall clock says it is over).
        const stopwatchAt = (wallMs: number | undefined) => (wallMs === undefined ? undefined : nowMs - Math.max(0, wallNowMs - wallMs));
        const rejectedAt = stopwatchAt(k.rejectedAtMs);
        const stalledAt = stopwatchAt(k.stalledAtMs);
        entries.set(k.nodeId, {
          trust: clamp(trust),
          at: nowMs,
          verified: k.verified,
          rejected: k.rejected,
          unprovenFailures: k.unprovenFailures ?? 0,
          ...(rejectedAt === undefined ? {} : { rejectedAt }),
          ...(stalledAt === undefined ? {} : { stalledAt }),
        });
        restored += 1;
      }
      return { restored, skipped: kept.length - restored };
    },
  };
}

/** The length of `e`'s run of "full" answers, counting one more at `nowMs` (see the file comment). */
function refusalsAfter(e: Entry, nowMs: number, rules: TrustRules): number {
  if (e.refusals === undefined || e.refusedAt === undefined) return 1;
  const window = busyWindow(e.refusals, rules);
  const age = nowMs - e.refusedAt;
  if (age < window) return e.refusals;
  return age < 2 * window ? e.refusals + 1 : 1;
}

/** How long `refusals` "full" answers in a row make a node busy: busyBaseMs, doubled per further one, at most busyMaxMs. */
function busyWindow(refusals: number, rules: TrustRules): number {
  return Math.min(rules.busyMaxMs, rules.busyBaseMs * 2 ** (refusals - 1));
}

/** How long before `nowMs` `at` was, while that is under `windowMs`; undefined for none or past it. */
function ageWithin(at: number | undefined, nowMs: number, windowMs: number): number | undefined {
  const age = at === undefined ? undefined : nowMs - at;
  return age !== undefined && age < windowMs ? age : undefined;
}

/** A kept entry as restore takes it (its source is a file: anything may be in it). */
function holds(k: TrustSnapshotEntry): boolean {
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  return (
    typeof k === 'object' &&
    k !== null &&
    typeof k.nodeId === 'string' &&
    NODE_ID.test(k.nodeId) &&
    typeof k.trust === 'number' &&
    k.trust >= 0 &&
    k.trust <= 1 &&
    count(k.verified) &&
    count(k.rejected) &&
    (k.unprovenFailures === undefined || count(k.unprovenFailures)) &&
    count(k.atMs) &&
    (k.rejectedAtMs === undefined || count(k.rejectedAtMs)) &&
    (k.stalledAtMs === undefined || count(k.stalledAtMs))
  );
}

/** The book as a selector reads it, at the time `stopwatch` says. */
export function trustReader(book: TrustBook, stopwatch: { now(): number }): TrustReader {
  return {
    trustOf: (nodeId) => book.trustOf(nodeId, stopwatch.now()),
    isUntrusted: (nodeId) => book.isUntrusted(nodeId),
    isSuspect: (nodeId) => book.isSuspect(nodeId, stopwatch.now()),
    isBusy: (nodeId) => book.isBusy(nodeId, stopwatch.now()),
    probationOpen: () => book.probationOpen(stopwatch.now()),
    isProbing: (nodeId) => book.isProbing(nodeId, stopwatch.now()),
    chargeProbation: (nodeId) => book.chargeProbation(nodeId, stopwatch.now()),
  };
}

/** An AttemptObserver that records every attempt into `book`, timed by `stopwatch`. */
export function trustObserver(book: TrustBook, stopwatch: { now(): number }): AttemptObserver {
  return { onAttempt: (report) => book.record(report, stopwatch.now()) };
}

function updated(trust: number, report: AttemptReport, rules: TrustRules): number {
  switch (report.outcome) {
    case 'ok':
      return trust + rules.gain * (1 - trust);
    case 'rejected-by-verification':
      return trust * (1 - rules.rejectCut);
    case 'failed':
    case 'timeout':
      return trust * (1 - rules.failCut);
    case 'overloaded':
    case 'cut-short':
    case 'unjudged':
      return trust;
  }
}

/**
 * Whether an attempt that ended so makes its node a suspect for stallSuspectMs: a failure, a
 * timeout or a refusal for lack of capacity below stallSlack (a node that keeps answering "full" or
 * an error wastes attempts as surely as a silent one, whatever its answer says, and being tried
 * after the others costs an honestly busy node nothing it could have used); an attempt the task's
 * deadline cut short, only for a node never verified (τ = 0), which cannot be told from one that
 * never answers. A verified result that could not count ('unjudged') says nothing.
 */
function stalls(outcome: AttemptReport['outcome'], trust: number, rules: TrustRules): boolean {
  switch (outcome) {
    case 'failed':
    case 'timeout':
    case 'overloaded':
      return trust < rules.stallSlack;
    case 'cut-short':
      return trust === 0;
    case 'ok':
    case 'unjudged':
    case 'rejected-by-verification':
      return false;
  }
}

function count(counters: Mark, report: AttemptReport): void {
  if (report.outcome === 'ok') counters.verified += 1;
  else if (report.outcome === 'rejected-by-verification') counters.rejected += 1;
  // A result that failed its check unproven: the pipeline reports it 'failed' with this code.
  else if (report.outcome === 'failed' && report.errorCode === ErrorCode.ERROR_CODE_VERIFICATION_FAILED) counters.unprovenFailures += 1;
}

function counters(c: Mark): Mark {
  return { verified: c.verified, rejected: c.rejected, unprovenFailures: c.unprovenFailures };
}

/** Float rounding must not leave [0, 1]. */
function clamp(trust: number): number {
  return trust > 1 ? 1 : trust > 0 ? trust : 0;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkedRules(rules: TrustRules): TrustRules {
  const problems: string[] = [];
  for (const name of ['gain', 'rejectCut', 'failCut', 'stallSlack'] as const) {
    const v = rules[name];
    if (!(v >= 0 && v <= 1)) problems.push(`${name} must be in 0..1, got ${String(v).slice(0, 24)}`);
  }
  for (const name of ['suspectMs', 'stallSuspectMs', 'busyBaseMs', 'busyMaxMs'] as const) {
    const v = rules[name];
    if (!Number.isSafeInteger(v) || v < 0) problems.push(`${name} must be an integer >= 0, got ${String(v).slice(0, 24)}`);
  }
  if (!Number.isSafeInteger(rules.probationAttempts) || rules.probationAttempts < 0)
    problems.push(`probationAttempts must be an integer >= 0, got ${String(rules.probationAttempts).slice(0, 24)}`);
  for (const name of ['maxNodes', 'maxUntrusted', 'probationRefillMs'] as const) {
    const v = rules[name];
    if (!Number.isSafeInteger(v) || v < 1) problems.push(`${name} must be an integer >= 1, got ${String(v).slice(0, 24)}`);
  }
  // decayTrust checks β and T0 itself; checking them here refuses a bad book when it is made.
  try {
    decayTrust(0, 0, rules.decay);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `trust book: ${problems.join('; ')}`);
  return Object.freeze({ ...rules });
}

/**
 * The default utility: candidates are compared on these criteria in order, each deciding only
 * when all earlier ones tie.
 *  0. An untrusted candidate (convicted by a fork proof, see TrustReader) is never chosen: it is
 *     dropped before any comparison, so a task whose only providers are untrusted gets none.
 *  ½. Not a suspect: a candidate whose result this router rejected lately (trust-book.ts
 *     suspectMs) is tried only when no other is left, whatever price and load it claims.
 *  1. Fewest failed attempts at this task: whoever failed it is tried again only when every other
 *     candidate has failed it at least as often (a retry should go elsewhere when it can).
 *  1½. Once an attempt at this task has failed, or when this attempt gets less than its fair time
 *     (SelectionTask.shortened), a proven candidate (this node's executors, or a remote one with
 *     τ > 0: the router has verified a result of it) before an unproven one: an identity that takes
 *     tasks and never answers can cost a task one attempt, not all of them, while any proven
 *     provider is left, and a short deadline goes to a node that has shown it answers (for a short
 *     attempt a saturated local executor is not counted proven: the idle remote goes first, as
 *     criterion 2 says). Probation, while a proven candidate (not a suspect, not untrusted) could
 *     take the attempt: an unproven node also comes after it while the router's probation budget
 *     is spent or while that node's probe is in flight (TrustReader.probationOpen, isProbing;
 *     trust-book.ts), and choosing one over it charges the budget (chargeProbation): all identities
 *     never verified together get a bounded number of attempts ahead of proven candidates, however
 *     many of them there are, one at a time each. Among new nodes only (all τ = 0) nothing changes.
 *  1¾. Not busy: a remote candidate that answered "full" lately (trust-book.ts isBusy: a second at
 *     first, doubling per refusal in a row up to a minute, until it is verified again) comes after
 *     those that did not, whatever load it advertises: its own answer says the claim is wrong. A
 *     node that is really full gets time to drain, and one that says "full" to every task costs a
 *     quick refusal a minute, not one per task, however trusted it is.
 *  2. This node's executors while they have spare capacity (advertised load < 1, or none said): no
 *     network hop, no peer to trust; then remote candidates; a saturated local candidate (load >= 1)
 *     last (issue 13's rule: local if it has spare capacity, else the best remote).
 *  3. Expected wait: a local candidate's advertised load; a remote one's advertised load × measured
 *     round trip (issue 13's rule: a busy node near by and an idle one far away both wait long),
 *     weighed by the router's trust τ in it: × (1 − TRUST_WAIT_DISCOUNT·τ), so a fully trusted peer's
 *     wait counts 3/4 of an unknown one's. A mild factor: a new node (τ = 0) still wins against a
 *     trusted one that is clearly busier or farther, and gets every task when it is the only
 *     provider, so a swarm of new nodes bootstraps. Unknown or invalid load counts as saturated (1);
 *     an unknown or invalid round trip counts as UNKNOWN_RTT_MS, so a measured peer comes before an
 *     unmeasured one at equal load.
 *  4. Lowest advertised price; unknown or invalid counts as the most expensive (Infinity).
 *  5. Higher trust: between remote candidates whose waits are both 0 (idle) at one price, the more
 *     trusted one.
 *  6. Shortest round trip: two idle remote candidates (load 0, so both waits are 0) at one price and
 *     trust go to the nearer one.
 *  7. Among candidates equal on all of these, one drawn with the injected Random: spreads tasks
 *     over equals, and repeats exactly with a seeded generator (tests, the simulator).
 * Advertised load and price are the provider's own claims; trust is learned from verified outcomes
 * (trust-book.ts). Without a TrustReader every τ is 0 and criteria 3 and 5 reduce to issue 13's.
 * The extra work per choice is one trust read per candidate.
 */
import type { Random } from '@swarm/determinism';
import type { AttemptReport } from './attempt-report';
import type { Candidate, CandidateSelector, TrustReader } from './candidate';

/** A candidate's place in the default order; lower `compareScores` is better. */
export interface CandidateScore {
  /** Criterion ½: a result of it was rejected lately. */
  readonly suspect: boolean;
  readonly failures: number;
  /** Criterion 1½: not proven, and an attempt at this task failed, this one is shortened, or probation holds it back. */
  readonly unprovenLast: boolean;
  /** Criterion 1¾: a remote candidate that answered "full" lately. */
  readonly busy: boolean;
  readonly local: boolean;
  /** Criterion 2: 0 local with spare capacity, 1 remote, 2 local and saturated. */
  readonly tier: 0 | 1 | 2;
  /** In [0, 1]. */
  readonly load: number;
  /** Finite and > 0 for a remote candidate (UNKNOWN_RTT_MS when not measured); 0 for a local one. */
  readonly rttMs: number;
  /** Finite and >= 0, or Infinity. */
  readonly price: number;
  /** The router's trust in a remote candidate, 0..1; 0 for a local one or without a TrustReader. */
  readonly trust: number;
}

const UNKNOWN_LOAD = 1;
const UNKNOWN_PRICE = Number.POSITIVE_INFINITY;
/**
 * Round trip assumed for a peer nobody has measured: longer than any path worth using (a longer
 * measurement is capped to it, so an unmeasured peer never beats a measured one at equal load), and
 * finite, so that an idle peer's expected wait stays 0 × rtt = 0.
 */
export const UNKNOWN_RTT_MS = 10_000;
/** Criterion 3: the share of a remote candidate's expected wait that full trust (τ = 1) takes off. */
export const TRUST_WAIT_DISCOUNT = 0.25;

/**
 * `probation`: whether a proven candidate could take this attempt, so that the probation rule
 * (criterion 1½) applies.
 */
export function scoreCandidate(candidate: Candidate, attempts: readonly AttemptReport[], trust?: TrustReader, shortened = false, probation = false): CandidateScore {
  let failures = 0;
  let taskFailed = false;
  for (const a of attempts) {
    if (a.outcome === 'ok') continue;
    taskFailed = true;
    if (a.candidate.nodeId === candidate.nodeId) failures += 1;
  }
  // Advertised facts come from other nodes: anything outside its range is treated as unsaid, so
  // a NaN cannot break the order and a negative price cannot buy first place.
  const { load, price, rttMs } = candidate;
  const local = candidate.local === true;
  const saturated = typeof load === 'number' && load >= 1;
  // Local candidates are this node: no peer to trust. A reader's value outside 0..1 (or NaN) is clamped.
  const trusted = local || trust === undefined ? 0 : trustIn(trust.trustOf(candidate.nodeId));
  return {
    suspect: isSuspectIn(candidate, trust),
    failures,
    // After a failure even a saturated local executor beats an unknown node; for an attempt that is
    // merely short of time, only one with room does (else the idle remote goes first, as tier says).
    unprovenLast: taskFailed || (probation && heldOnProbation(candidate, trust)) ? !local && trusted === 0 : shortened && (local ? saturated : trusted === 0),
    busy: isBusyIn(candidate, trust),
    local,
    tier: !local ? 1 : saturated ? 2 : 0,
    load: typeof load === 'number' && load >= 0 && load <= 1 ? load : UNKNOWN_LOAD,
    // A local candidate has no network hop, whatever it says; 0 (proto's "not measured") is unknown.
    rttMs: local ? 0 : typeof rttMs === 'number' && rttMs > 0 ? Math.min(rttMs, UNKNOWN_RTT_MS) : UNKNOWN_RTT_MS,
    price: typeof price === 'number' && price >= 0 && Number.isFinite(price) ? price : UNKNOWN_PRICE,
    trust: trusted,
  };
}

/** Criterion ½: a remote candidate the reader holds a suspect (this node's executors never are). */
function isSuspectIn(candidate: Candidate, trust: TrustReader | undefined): boolean {
  return candidate.local !== true && trust?.isSuspect?.(candidate.nodeId) === true;
}

/** Criterion 1¾: a remote candidate the reader holds busy (this node's executors never are). */
function isBusyIn(candidate: Candidate, trust: TrustReader | undefined): boolean {
  return candidate.local !== true && trust?.isBusy?.(candidate.nodeId) === true;
}

/** A candidate the probation rule counts as proven and choosable: this node's executors, or a remote one with τ > 0, neither untrusted nor a suspect. */
function isProvenChoice(candidate: Candidate, trust: TrustReader): boolean {
  if (trust.isUntrusted(candidate.nodeId) || isSuspectIn(candidate, trust)) return false;
  return candidate.local === true || trustIn(trust.trustOf(candidate.nodeId)) > 0;
}

/** Criterion 1½'s probation: the budget is spent, or this remote candidate's probe is in flight (whether it is proven is checked beside). */
function heldOnProbation(candidate: Candidate, trust: TrustReader | undefined): boolean {
  return candidate.local !== true && (trust?.probationOpen?.() === false || trust?.isProbing?.(candidate.nodeId) === true);
}

function trustIn(t: number): number {
  return t > 0 ? Math.min(t, 1) : 0;
}

/** Criterion 3: load alone for a local candidate, load × round trip weighed by trust for a remote one. */
function expectedWait(s: CandidateScore): number {
  return s.local ? s.load : s.load * s.rttMs * (1 - TRUST_WAIT_DISCOUNT * s.trust);
}

/** A total preorder on scores: negative when `a` is better, 0 when equal, positive when worse. */
export function compareScores(a: CandidateScore, b: CandidateScore): number {
  if (a.suspect !== b.suspect) return a.suspect ? 1 : -1;
  if (a.failures !== b.failures) return a.failures - b.failures;
  if (a.unprovenLast !== b.unprovenLast) return a.unprovenLast ? 1 : -1;
  if (a.busy !== b.busy) return a.busy ? 1 : -1;
  if (a.tier !== b.tier) return a.tier - b.tier;
  const waitA = expectedWait(a);
  const waitB = expectedWait(b);
  if (waitA !== waitB) return waitA < waitB ? -1 : 1;
  if (a.price !== b.price) return a.price < b.price ? -1 : 1;
  if (a.trust !== b.trust) return a.trust > b.trust ? -1 : 1;
  if (a.rttMs !== b.rttMs) return a.rttMs < b.rttMs ? -1 : 1;
  // Rounding can give two loads one product with the same round trip: the load decides, so that
  // 0 means equal scores.
  if (a.load !== b.load) return a.load < b.load ? -1 : 1;
  return 0;
}

/**
 * Draws from `random` only when the best candidates tie, so a single candidate costs no draw.
 * `trust`: the router's trust in other nodes (criteria 0, ½, 1½, 1¾, 3 and 5), and its probation
 * budget, which `select` charges; without it nobody is untrusted, suspect or busy, and every τ is 0.
 */
export function createDefaultSelector(random: Random, trust?: TrustReader): CandidateSelector {
  return {
    isSuspect: (candidate) => isSuspectIn(candidate, trust),
    isBusy: (candidate) => isBusyIn(candidate, trust),
    isProven: (candidate) => (trust === undefined ? candidate.local === true : isProvenChoice(candidate, trust)),
    select(task, candidates, attempts) {
      // Probation (criterion 1½): asked only when a proven candidate could take the attempt.
      const provenLeft = trust?.chargeProbation !== undefined && candidates.some((c) => isProvenChoice(c, trust));
      let best: number[] = [];
      let bestScore: CandidateScore | undefined;
      candidates.forEach((candidate, i) => {
        if (trust?.isUntrusted(candidate.nodeId)) return;
        const score = scoreCandidate(candidate, attempts, trust, task.shortened === true, provenLeft);
        const order = bestScore === undefined ? -1 : compareScores(score, bestScore);
        if (order < 0) {
          best = [i];
          bestScore = score;
        } else if (order === 0) best.push(i);
      });
      if (best.length === 0) return undefined;
      // min(): a Random that returns exactly 1 (outside its contract) still picks a tied candidate.
      const pick = best.length === 1 ? 0 : Math.min(best.length - 1, Math.floor(random() * best.length));
      const chosen = candidates[best[pick]];
      // Tied candidates share a trust (criterion 5), so the best score's says whether it is proven.
      if (provenLeft && !chosen.local && bestScore?.trust === 0) trust?.chargeProbation?.(chosen.nodeId);
      return chosen;
    },
  };
}

import type { AttemptReport } from './attempt-report';

/**
 * A provider a task may be dispatched to, with what it advertises about itself. Advertised facts
 * are claims, not evidence: a selector may use them to order candidates, never to trust one.
 */
export interface Candidate {
  readonly nodeId: string;
  /** This node's own executors (no network hop). */
  readonly local: boolean;
  /** Advertised load in [0, 1] (1: saturated); absent when the provider says nothing. */
  readonly load?: number;
  /**
   * Advertised price in credits per million units of the skill's work (a NodeRecord's
   * price_per_mwork); absent when the provider says nothing.
   */
  readonly price?: number;
  /** Where a remote provider's gateway listens, `<node id>@host:port`; absent for local ones. */
  readonly endpoint?: string;
  /** Measured round trip to a remote provider through both gateways, ms; absent when not measured. */
  readonly rttMs?: number;
}

/** What a selector knows about the task it chooses for. */
export interface SelectionTask {
  readonly taskId: string;
  readonly skill: string;
  /**
   * The attempt gets less than its fair time for the work (the task's deadline is near): whoever
   * takes it may fail it without blame, so a node never verified cannot be judged by it.
   */
  readonly shortened?: boolean;
}

/** Chooses who gets a task's next attempt. */
export interface CandidateSelector {
  /**
   * One of `candidates` for the next attempt, or undefined to dispatch to none (the task then
   * fails with NO_PROVIDER). `attempts` are this task's attempts so far, oldest first.
   */
  select(task: SelectionTask, candidates: readonly Candidate[], attempts: readonly AttemptReport[]): Candidate | undefined;
  /**
   * Whether `candidate` is to be tried only when no other is left (a result of it was rejected
   * lately): for callers that narrow the candidates before `select` (a sharded task spreading its
   * blocks by load). Absent: none is.
   */
  isSuspect?(candidate: Candidate): boolean;
  /** Whether `candidate` said "full" lately (tried after those that did not, before suspects), for the same callers. Absent: none did. */
  isBusy?(candidate: Candidate): boolean;
  /**
   * Whether `candidate` is proven: this node's executors, or a remote node the router has verified
   * a result of (τ > 0), neither untrusted nor a suspect. For callers that keep room for proven
   * nodes (an escrow's payees, a redundant task's first replica). Absent: none is.
   */
  isProven?(candidate: Candidate): boolean;
}

/**
 * What a selector may know of its router's trust in other nodes (trust-book.ts), read at the time of
 * the choice. Learned from verified outcomes, unlike a candidate's advertised facts.
 */
export interface TrustReader {
  /** 0..1; 0 for a node never seen (new identities start with zero trust) or untrusted. */
  trustOf(nodeId: string): number;
  /** Convicted (a fork proof): never to be chosen. */
  isUntrusted(nodeId: string): boolean;
  /** A result of it was rejected lately: tried after every other candidate (absent: none is). */
  isSuspect?(nodeId: string): boolean;
  /** It answered "full" lately: tried after the candidates that did not (absent: none did). */
  isBusy?(nodeId: string): boolean;
  /**
   * Whether the probation budget (trust-book.ts) may pay for one more attempt at a node never
   * verified ahead of a proven candidate (absent: always).
   */
  probationOpen?(): boolean;
  /** Whether a probe of this node never verified is in flight: its next attempt waits behind proven candidates (absent: none is). */
  isProbing?(nodeId: string): boolean;
  /** Called by the selector when it chose a node never verified over a proven candidate: that attempt is its probe, paid from the budget. */
  chargeProbation?(nodeId: string): void;
}

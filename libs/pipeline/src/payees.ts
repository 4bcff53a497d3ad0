/**
 * Who a task's escrow may pay. credit-svc lets a settle pay only the payees named at reserve time
 * (credit.proto ReserveRequest.payees), so the router learns the candidates before it reserves,
 * names them, and afterwards dispatches only to those: a provider that appears later could not be
 * paid for its work.
 */
import { ErrorCode, isSwarmError } from '@swarm/contracts';
import type { Candidate, CandidateSelector } from '@swarm/scoring';
import { compareScores, scoreCandidate } from '@swarm/scoring';
import type { TaskPorts } from './task-types';

/** Most payees one escrow may name (credit.proto ReserveRequest.payees: 1 to 16). */
export const ESCROW_MAX_PAYEES = 16;

/**
 * The distinct node ids of `candidates`, at most ESCROW_MAX_PAYEES. When there are more, proven
 * ones (this node's executors, or nodes the router has verified a result of) are kept first, then
 * those the default order ranks first (not a suspect, not busy, then local, then the shortest
 * expected wait, then the cheapest): load and price are the providers' own claims, so 16 new
 * identities claiming load 0 and price 0 cannot crowd every proven provider out of the escrow, and
 * identities that stalled, returned wrong results or said "full" lately cannot crowd out an honest
 * one. The sort is stable and draws nothing, so equals keep the registry's order and the task's
 * random draws are left to the selector and the verifier.
 */
export function payeesOf(candidates: readonly Candidate[], selector?: Pick<CandidateSelector, 'isSuspect' | 'isBusy' | 'isProven'>): string[] {
  const distinct = new Map<string, Candidate>();
  for (const c of candidates) if (!distinct.has(c.nodeId)) distinct.set(c.nodeId, c);
  const all = [...distinct.values()];
  if (all.length <= ESCROW_MAX_PAYEES) return all.map((c) => c.nodeId);
  return all
    .map((c) => ({
      c,
      proven: selector?.isProven?.(c) === true,
      score: { ...scoreCandidate(c, []), suspect: selector?.isSuspect?.(c) === true, busy: selector?.isBusy?.(c) === true },
    }))
    .sort((a, b) => (a.proven !== b.proven ? (a.proven ? -1 : 1) : compareScores(a.score, b.score)))
    .slice(0, ESCROW_MAX_PAYEES)
    .map(({ c }) => c.nodeId);
}

/** The candidates the escrow can pay, in the order given. */
export function payableCandidates(candidates: readonly Candidate[], payees: ReadonlySet<string>): Candidate[] {
  return candidates.filter((c) => payees.has(c.nodeId));
}

/**
 * Who a replacement (a replica, a row block) may go to now: a fresh lookup, since who is alive
 * changes. A lookup saying every provider known is out of reach (NO_PROVIDER) leaves none; any other
 * failure falls back to `found`, the providers the escrow was made for.
 */
export function providersForReplacement(ports: Pick<TaskPorts, 'findProviders'>, skill: string, signal: AbortSignal, found: readonly Candidate[]): Promise<readonly Candidate[]> {
  return ports.findProviders(skill, signal).catch((err: unknown) => (isSwarmError(err, ErrorCode.ERROR_CODE_NO_PROVIDER) ? [] : found));
}

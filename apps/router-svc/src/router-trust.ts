/**
 * The router's trust in other nodes (issue 14), around libs/scoring's TrustBook: every dispatch
 * attempt is recorded, the default selector reads it, providers convicted by a fork proof are left
 * out before a task names its payees, and two operator requests (observer key):
 * - `swarm.v1.router.report-fork`: a fork proof is verified (a bad one is refused and changes
 *   nothing), its node marked untrusted for good, and the proof kept on disk (fork-proofs.ts);
 * - `swarm.v1.router.trust`: the nodes the router holds a trust for.
 * The proofs kept are loaded again at each start, so a conviction survives restarts.
 */
import type { Handler } from '@swarm/bus';
import { encodeForkProof, MAX_FORK_PROOF_BYTES, verifyForkProof } from '@swarm/chain';
import type { ReportForkRequest, ReportForkResponse, TrustRequest, TrustResponse } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import type { TaskPorts } from '@swarm/pipeline';
import type { TrustBook } from '@swarm/scoring';
import { DEFAULT_TRUST_RULES } from '@swarm/scoring';
import type { Logger } from '@swarm/telemetry';
import { keepForkProof, loadForkProofs } from './fork-proofs';

/** A ReportForkRequest is a ForkProof in one field: the proof's limit and the field's few bytes. */
export const MAX_REPORT_FORK_BYTES = MAX_FORK_PROOF_BYTES + 16;
/** A TrustRequest is empty. */
export const MAX_TRUST_REQUEST_BYTES = 256;
/** Nodes one Trust answer lists (TrustResponse's bound): ~100 bytes each. */
export const MAX_TRUST_LISTED = 1_000;

/** Marks every node a kept proof convicts; answers how many were convicted and how many files were skipped. */
export async function restoreConvictions(book: TrustBook, dir: string, log: Logger): Promise<{ convicted: number; skipped: number }> {
  const { convicted, skipped } = await loadForkProofs(dir, log, DEFAULT_TRUST_RULES.maxUntrusted);
  for (const c of convicted) book.distrust(c.nodeId);
  return { convicted: new Set(convicted.map((c) => c.nodeId)).size, skipped };
}

/**
 * The ports with untrusted providers left out of every provider list: such a node is never named
 * an escrow's payee, never chosen, and a task whose only providers are untrusted fails with
 * NO_PROVIDER before anything is reserved. (The selector drops them too, should another path
 * hand it one.)
 */
export function withoutUntrusted(ports: TaskPorts, book: Pick<TrustBook, 'isUntrusted'>): TaskPorts {
  return {
    ...ports,
    findProviders: async (skill, signal) => (await ports.findProviders(skill, signal)).filter((c) => !book.isUntrusted(c.nodeId)),
  };
}

export interface ReportForkDeps {
  readonly book: TrustBook;
  /** Where proofs are kept: <data-dir>/router/fork-proofs. */
  readonly dir: string;
  /** This node: a proof against it is refused (its own executors are not judged by trust). */
  readonly nodeId: string;
}

export function reportForkHandler(deps: ReportForkDeps): Handler<ReportForkRequest, ReportForkResponse> {
  return async (req, ctx) => {
    if (req.proof === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'a fork report needs a proof: two blocks one node signed with one seq');
    // A ChainRefusal (SWARM_INVALID_CHAIN, or PAYLOAD_TOO_LARGE / MALFORMED_MESSAGE for a block
    // that is not one) goes back as it is; nothing was changed.
    const evidence = verifyForkProof(req.proof);
    const { nodeId, seq } = evidence;
    if (nodeId === deps.nodeId) {
      throw new SwarmError(
        ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        `the proof convicts this node itself (seq ${seq}): its router does not distrust its own executors; keep the proof and look into this node's chain (swarm ledger)`,
      );
    }
    const knownBefore = deps.book.isUntrusted(nodeId);
    // Marked before the disk is touched: no task goes to it from now on, whatever the write does.
    deps.book.distrust(nodeId);
    let kept;
    try {
      kept = await keepForkProof(deps.dir, evidence, encodeForkProof(req.proof));
    } catch (err) {
      ctx.log.error({ err, nodeId, seq: String(seq), dir: deps.dir }, 'could not keep a fork proof');
      throw new SwarmError(
        ErrorCode.ERROR_CODE_INTERNAL,
        `node ${nodeId} is untrusted until the router restarts, but its fork proof could not be kept in ${deps.dir}: ${(err as Error).message.slice(0, 200)}`,
      );
    }
    if (!knownBefore) ctx.log.warn({ nodeId, seq: String(seq), kept }, 'node untrusted: a fork proof convicts it; no task goes to it again');
    return { nodeId, seq, alreadyKnown: knownBefore || kept !== 'kept' };
  };
}

export function trustHandler(book: TrustBook, stopwatch: Stopwatch): Handler<TrustRequest, TrustResponse> {
  return () => ({
    nodes: book.list(stopwatch.now(), MAX_TRUST_LISTED).map((n) => ({
      nodeId: n.nodeId,
      trust: n.trust,
      verified: BigInt(n.verified),
      rejected: BigInt(n.rejected),
      untrusted: n.untrusted,
    })),
  });
}

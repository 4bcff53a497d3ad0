/**
 * The router's trust in other nodes (issue 14), around libs/scoring's TrustBook: every dispatch
 * attempt is recorded, the default selector reads it, providers convicted by a proof (a fork, a
 * broken void) are left out before a task names its payees, and three requests (the observer key's;
 * the two reports also credit-svc's, whose watches find such proofs):
 * - `swarm.v1.router.report-fork` and `report-void-breach`: a proof of misbehaviour is verified (a
 *   bad one is refused and changes nothing), its node marked untrusted for good, and the proof kept
 *   on disk (kept-proofs.ts);
 * - `swarm.v1.router.trust`: the nodes the router holds a trust for.
 * The proofs kept are loaded again at each start, so a conviction survives restarts.
 */
import { join } from 'node:path';
import type { Handler } from '@swarm/bus';
import { encodeForkProof, encodeVoidBreachProof, MAX_FORK_PROOF_BYTES, MAX_VOID_BREACH_PROOF_BYTES, verifyForkProof, verifyVoidBreachProof } from '@swarm/chain';
import type { ReportForkRequest, ReportForkResponse, ReportVoidBreachRequest, ReportVoidBreachResponse, TrustRequest, TrustResponse } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import type { TaskPorts } from '@swarm/pipeline';
import type { TrustBook } from '@swarm/scoring';
import { DEFAULT_TRUST_RULES } from '@swarm/scoring';
import type { Logger } from '@swarm/telemetry';
import type { ProofKind } from './kept-proofs';
import { FORK_PROOFS, keepProof, loadProofs, VOID_BREACH_PROOFS } from './kept-proofs';

/** A ReportForkRequest is a ForkProof in one field: the proof's limit and the field's few bytes. */
export const MAX_REPORT_FORK_BYTES = MAX_FORK_PROOF_BYTES + 16;
/** The same for a ReportVoidBreachRequest. */
export const MAX_REPORT_VOID_BREACH_BYTES = MAX_VOID_BREACH_PROOF_BYTES + 16;
/** A TrustRequest is empty. */
export const MAX_TRUST_REQUEST_BYTES = 256;
/** Nodes one Trust answer lists (TrustResponse's bound): ~100 bytes each. */
export const MAX_TRUST_LISTED = 1_000;

/**
 * Marks every node a proof kept under `dataDir` convicts (fork and void breach proofs); answers how
 * many nodes were convicted and how many files were skipped.
 */
export async function restoreConvictions(book: TrustBook, dataDir: string, log: Logger, self: string): Promise<{ convicted: number; skipped: number }> {
  const max = DEFAULT_TRUST_RULES.maxUntrusted;
  const forks = await loadProofs(FORK_PROOFS, join(dataDir, FORK_PROOFS.dir), log, max);
  const breaches = await loadProofs(VOID_BREACH_PROOFS, join(dataDir, VOID_BREACH_PROOFS.dir), log, max);
  const nodes = new Set([...forks.convicted, ...breaches.convicted].map((c) => c.nodeId));
  // As a report of one is refused: a proof against this node (copied in from elsewhere) would
  // leave its own executors out of every task.
  let skipped = forks.skipped + breaches.skipped;
  if (nodes.delete(self)) {
    skipped += 1;
    log.warn({ nodeId: self }, 'kept proofs convict this node itself: not applied here (its router does not distrust its own executors); look into its chain');
  }
  for (const nodeId of nodes) book.distrust(nodeId);
  return { convicted: nodes.size, skipped };
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

export interface ReportDeps {
  readonly book: TrustBook;
  /** The node's data dir: each kind of proof is kept in its own folder under the router's. */
  readonly dataDir: string;
  /** This node: a proof against it is refused (its own executors are not judged by trust). */
  readonly nodeId: string;
}

export function reportForkHandler(deps: ReportDeps): Handler<ReportForkRequest, ReportForkResponse> {
  return async (req, ctx) => {
    if (req.proof === undefined)
      throw new SwarmError(
        ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
        'a fork report needs a proof: two blocks one node signed with one seq, or a block and the next one naming another before it',
      );
    // A ChainRefusal (SWARM_INVALID_CHAIN, or PAYLOAD_TOO_LARGE / MALFORMED_MESSAGE for a block
    // that is not one) goes back as it is; nothing was changed.
    // Verified as the very bytes kept, so the proof read back at the next start passes alike.
    const bytes = encodeForkProof(req.proof);
    const evidence = verifyForkProof(bytes);
    const alreadyKnown = await convict(deps, ctx.log, FORK_PROOFS, evidence, bytes, `seq ${evidence.seq}`);
    return { nodeId: evidence.nodeId, seq: evidence.seq, alreadyKnown };
  };
}

export function reportVoidBreachHandler(deps: ReportDeps): Handler<ReportVoidBreachRequest, ReportVoidBreachResponse> {
  return async (req, ctx) => {
    if (req.proof === undefined)
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'a void breach report needs a proof: a countersigned void and the payee’s block holding its receipt');
    // A ReceiptRefusal (the void) or a ChainRefusal (the block, or `not-a-breach`) goes back as it
    // is; nothing was changed.
    const bytes = encodeVoidBreachProof(req.proof);
    const evidence = verifyVoidBreachProof(bytes);
    const alreadyKnown = await convict(deps, ctx.log, VOID_BREACH_PROOFS, evidence, bytes, `receipt ${evidence.receiptId.slice(0, 80)}`);
    return { nodeId: evidence.nodeId, receiptId: evidence.receiptId, alreadyKnown };
  };
}

/**
 * Marks the node a verified proof convicts untrusted and keeps the proof; answers whether the
 * router knew already. A proof against this node itself is refused.
 */
async function convict<E extends { readonly nodeId: string }>(deps: ReportDeps, log: Logger, kind: ProofKind<E>, evidence: E, bytes: Uint8Array, what: string): Promise<boolean> {
  const { nodeId } = evidence;
  if (nodeId === deps.nodeId) {
    throw new SwarmError(
      ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
      `the proof convicts this node itself (${what}): its router does not distrust its own executors; keep the proof and look into this node's chain (swarm ledger)`,
    );
  }
  const knownBefore = deps.book.isUntrusted(nodeId);
  // Marked before the disk is touched: no task goes to it from now on, whatever the write does.
  deps.book.distrust(nodeId);
  const dir = join(deps.dataDir, kind.dir);
  let kept;
  try {
    kept = await keepProof(kind, dir, evidence, bytes);
  } catch (err) {
    log.error({ err, nodeId, dir }, `could not keep one of the ${kind.label}`);
    throw new SwarmError(
      ErrorCode.ERROR_CODE_INTERNAL,
      `node ${nodeId} is untrusted until the router restarts, but its proof could not be kept in ${dir}: ${(err as Error).message.slice(0, 200)}`,
    );
  }
  if (!knownBefore) log.warn({ nodeId, proof: kind.extension, what, kept }, 'node untrusted: a proof convicts it; no task goes to it again');
  return knownBefore || kept !== 'kept';
}

export function trustHandler(book: TrustBook, stopwatch: Stopwatch): Handler<TrustRequest, TrustResponse> {
  return () => ({
    nodes: book.list(stopwatch.now(), MAX_TRUST_LISTED).map((n) => ({
      nodeId: n.nodeId,
      trust: n.trust,
      verified: BigInt(n.verified),
      rejected: BigInt(n.rejected),
      untrusted: n.untrusted,
      unprovenFailures: BigInt(n.unprovenFailures),
    })),
  });
}

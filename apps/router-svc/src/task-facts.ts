/**
 * What a settle's receipts name when it pays other nodes (credit.proto TaskFacts, docs/chain.md):
 * SHA-256 of the task's inputs and of the verified result, each tensor's protobuf encoding in
 * order with its length before it (so two different lists never hash alike), the share of the pool
 * each payee got in ppm, and the remote payees' keys. Built only for settles that pay another node:
 * a task this node ran itself moves nothing between chains and pays for no hashing.
 */
import type { ShapleyShare, TaskFacts } from '@swarm/contracts';
import { Tensor } from '@swarm/contracts';
import type { Payout, SettleFacts } from '@swarm/pipeline';
import { createHash } from 'node:crypto';

const PPM = 1_000_000n;

export function tensorsDigest(tensors: readonly Tensor[]): Uint8Array {
  const hash = createHash('sha256');
  const length = Buffer.alloc(4);
  for (const t of tensors) {
    const bytes = Tensor.encode(t).finish();
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  }
  return new Uint8Array(hash.digest());
}

/**
 * Each payee's part of what the settle pays, in ppm, rounded down (so they sum to at most 10⁶);
 * empty for a single payee. The payouts are the Shapley split (libs/attribution), so this is it.
 */
export function sharesOf(payouts: readonly Payout[]): ShapleyShare[] {
  if (payouts.length < 2) return [];
  const total = payouts.reduce((sum, p) => sum + p.amount, 0n);
  if (total === 0n) return [];
  return payouts.map((p) => ({ nodeId: p.payee, sharePpm: Number((p.amount * PPM) / total) }));
}

/** The TaskFacts of a settle, or undefined when it pays no other node. */
export function taskFactsOf(taskId: string, nodeId: string, payouts: readonly Payout[], facts: SettleFacts | undefined): TaskFacts | undefined {
  if (!facts || payouts.every((p) => p.payee === nodeId)) return undefined;
  return {
    taskId,
    taskHash: tensorsDigest(facts.inputs),
    resultHash: tensorsDigest(facts.outputs),
    shares: sharesOf(payouts),
    payeeKeys: [...facts.payeeKeys].map(([id, k]) => ({ nodeId: id, publicKey: k.publicKey, serveTicket: k.serveTicket })),
  };
}

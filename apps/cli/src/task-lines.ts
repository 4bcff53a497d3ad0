/**
 * Lines that describe a finished task, shared by `swarm submit` (its result) and `swarm task` (its
 * status): who was paid, where the time went, and how wide their tables may grow.
 */
import type { SubmitTaskResponse } from '@swarm/contracts';
import { credits, ms } from './output';

/** The value column of a task's result: with the key column, about 115 columns in all (notes wrap). */
export const RESULT_VALUE_WIDTH = 100;

/**
 * Where a task's time went. With several dispatches (row blocks, replicas) they overlap: execute
 * runs from the first dispatch to the last verdict and verify sums every block's check, so the
 * parts do not add up to the total.
 */
export function timeLine(t: NonNullable<SubmitTaskResponse['timing']>, overlapping: boolean): string {
  // The total also holds what no phase times (validation, the provider lookup, dispatch, retries'
  // waits): named as the rest, so the line adds up.
  const rest = (...phases: number[]) => ` + the rest ${ms(Math.max(0, t.totalMs - phases.reduce((a, b) => a + b, 0)))} (checks, lookup, dispatch)`;
  // The folded path (a small task on this node's executors) reserves nothing: run first, then one charge.
  if (!overlapping && t.escrowMs === 0) {
    return `total ${ms(t.totalMs)} = execute ${ms(t.executeMs)} + verify ${ms(t.verifyMs)} + charge ${ms(t.settleMs)}${rest(t.executeMs, t.verifyMs, t.settleMs)}; no escrow: run first, charged once verified`;
  }
  if (!overlapping) {
    return `total ${ms(t.totalMs)} = escrow ${ms(t.escrowMs)} + execute ${ms(t.executeMs)} + verify ${ms(t.verifyMs)} + settle ${ms(t.settleMs)}${rest(t.escrowMs, t.executeMs, t.verifyMs, t.settleMs)}`;
  }
  return `total ${ms(t.totalMs)}: escrow ${ms(t.escrowMs)}, execute ${ms(t.executeMs)} (first dispatch to last verdict), verify ${ms(t.verifyMs)} (summed over the dispatches, during execute), settle ${ms(t.settleMs)}`;
}

/**
 * Who was paid. A node's own task run by its own executors pays its own account (the node id):
 * nothing leaves the node, though the account counts it as spent (and earned). A redundant or
 * sharded task names each provider paid (its contributions), and what of it left the node.
 */
export function paidLine(res: Pick<SubmitTaskResponse, 'cost' | 'refunded' | 'providerId' | 'account'> & Partial<Pick<SubmitTaskResponse, 'contributions'>>): string {
  const own = (id: string) => id === res.account;
  const paid = (res.contributions ?? []).filter((c) => c.paid > 0n);
  if (paid.length > 0) {
    const parts = paid.map((c) => `${credits(c.paid)} to ${own(c.providerId) ? "this node's own executors" : `${c.providerId.slice(0, 16)}…`}`);
    // Only a node's own task (its account is the node id) can tell what stayed in the node.
    const left = paid.filter((c) => !own(c.providerId)).reduce((sum, c) => sum + c.paid, 0n);
    const stayed = paid.some((c) => own(c.providerId)) ? `; ${left === 0n ? 'nothing left the node' : `${credits(left)} left the node`}` : '';
    return `${credits(res.cost)}: ${parts.join(', ')}${stayed} (refunded ${res.refunded})`;
  }
  const to = `${res.providerId.slice(0, 16)}…`;
  return own(res.providerId)
    ? `${credits(res.cost)} to this node's own executors (${to}): nothing left the node (refunded ${res.refunded})`
    : `${credits(res.cost)} to ${to} (refunded ${res.refunded})`;
}

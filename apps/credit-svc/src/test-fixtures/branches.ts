/**
 * For the sighting specs: a payer's chain forked into branches, receipts pledged on each, and a
 * receipt's whole way through a payee's ledger (prepare, then check in its turn).
 */
import { appendPledge, hex, sha256 } from '@swarm/chain';
import type { SignedReceipt } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import type { PayerViews } from '../payer-views';
import type { Node } from './chains';
import { node, receipt, rules, spender, START_MS } from './chains';

/** What a payee is asked about: a receipt's id and its digest. */
export interface Asked {
  readonly id: string;
  readonly digest: string;
}

/** `payer` pledges a receipt of `amount` to `to` in its chain (a PLEDGE block), as a payer does before it sends it. */
export function pledge(payer: Node, to: Node, amount: bigint, taskId: string): Asked {
  const signed: SignedReceipt = receipt(payer, to, amount, taskId);
  const id = `${taskId}:${payer.id}:${to.id}`;
  const r = appendPledge(payer.head, signed, payer.signer, rules, { atMs: START_MS + 1_000, hasReceipt: (x) => payer.ids.has(x) });
  payer.blocks.push(...r.blocks);
  payer.head = r.head;
  payer.ids.add(id);
  return { id, digest: hex(sha256(signed.receipt)) };
}

/** A copy of `n` that goes on on its own (another branch of its chain from here). */
export const branchOf = (n: Node): Node => ({ ...n, blocks: [...n.blocks], ids: new Set(n.ids) });

/** Runs `p` while virtual time moves on, `stepMs` at a time (prepare's clear races a timer). */
export async function settle<T>(vt: VirtualTime, p: Promise<T>, stepMs = 50, maxMs = 60_000): Promise<T> {
  let done = false;
  const out = p.finally(() => (done = true));
  for (let t = 0; !done && t < maxMs; t += stepMs) await vt.advance(stepMs);
  return out;
}

/** The receipt's whole way through a payee's ledger: prepare, then check in its turn. Countersigned, or the refusal's code. */
export async function accept(vt: VirtualTime, p: { readonly views: Pick<PayerViews, 'prepare' | 'check'> }, payer: Node, asked: Asked): Promise<string> {
  await settle(vt, p.views.prepare(payer.id, asked.id, asked.digest));
  try {
    p.views.check(payer.id, asked.id, asked.digest);
    return 'countersigned';
  } catch (err) {
    return err instanceof SwarmError ? ErrorCode[err.code] : String(err);
  }
}

/**
 * Two payees and a payer unlocked with 100 that forks right after: branch A pledges 80 to payee A,
 * branch B the same 80 to payee B.
 */
export function forkedPayer() {
  const [meA, meB] = [node(), node()];
  const payer = spender(node(), 0);
  const [branchA, branchB] = [branchOf(payer), branchOf(payer)];
  const toA = pledge(branchA, meA, 80n, 'task-a');
  const toB = pledge(branchB, meB, 80n, 'task-b');
  return { meA, meB, payer, branchA, branchB, toA, toB };
}

/**
 * The swarm-wide check over audited chains: every receipt appears in exactly the two chains it
 * belongs to (RECEIPT_OUT in the payer's, RECEIPT_IN in the payee's), once each, with the same
 * bytes; and credit is conserved: Σ (available + locked + burned + pledged) over the chains equals
 * the genesis issued. Per chain, genesis + received = available + locked + burned + pledged + paid,
 * so the sum holds exactly when every paid receipt was also received (a receipt still pledged counts
 * on its payer's side until its RECEIPT_OUT or RELEASE).
 */
import { BlockKind } from '@swarm/contracts';
import { short } from './chain-rules';
import type { ChainAudit } from './verify-chain';

/** Problems listed in a report; the count says how many there were. */
export const MAX_REPORTED_PROBLEMS = 100;

export interface CrossChainReport {
  readonly chains: number;
  /** Distinct receipt ids seen. */
  readonly receipts: number;
  readonly genesisIssued: bigint;
  readonly available: bigint;
  readonly locked: bigint;
  readonly burned: bigint;
  /** Pledged to receipts in flight (PLEDGE blocks not yet paid or released). */
  readonly pledged: bigint;
  /** available + locked + burned + pledged over all chains. */
  readonly total: bigint;
  /** total = genesisIssued and no problems. */
  readonly conserved: boolean;
  readonly problemCount: number;
  /** The first MAX_REPORTED_PROBLEMS, in words. */
  readonly problems: readonly string[];
}

interface Sighting {
  readonly payer: string;
  readonly payee: string;
  readonly out: { node: string; digest: string }[];
  readonly in: { node: string; digest: string }[];
}

/** Checks chains that each passed verifyChain (whole, from genesis). */
export function checkCrossChain(audits: readonly ChainAudit[]): CrossChainReport {
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (text: string) => {
    problemCount += 1;
    if (problems.length < MAX_REPORTED_PROBLEMS) problems.push(text);
  };
  const nodes = new Set<string>();
  const sightings = new Map<string, Sighting>();
  let genesisIssued = 0n;
  let available = 0n;
  let locked = 0n;
  let burned = 0n;
  let pledged = 0n;
  for (const audit of audits) {
    const { nodeId, balances } = audit.head;
    if (nodes.has(nodeId)) problem(`the chain of ${short(nodeId)} is given twice`);
    nodes.add(nodeId);
    available += balances.available;
    locked += balances.locked;
    burned += balances.burned;
    pledged += balances.pledged;
    for (const e of audit.entries) {
      if (e.kind === BlockKind.BLOCK_KIND_GENESIS) genesisIssued += e.amount;
      // A PLEDGE (open or closed) and a RELEASE are the payer's alone; the receipt is in flight or voided.
      if (e.receipt === undefined || (e.kind !== BlockKind.BLOCK_KIND_RECEIPT_OUT && e.kind !== BlockKind.BLOCK_KIND_RECEIPT_IN)) continue;
      const s = sightings.get(e.receipt.receiptId) ?? { payer: e.receipt.payer, payee: e.receipt.payee, out: [], in: [] };
      sightings.set(e.receipt.receiptId, s);
      (e.kind === BlockKind.BLOCK_KIND_RECEIPT_OUT ? s.out : s.in).push({ node: nodeId, digest: e.receipt.digest });
    }
  }
  for (const [id, s] of sightings) checkSighting(id.slice(0, 64), s, nodes, problem);
  const total = available + locked + burned + pledged;
  if (total !== genesisIssued) problem(`available + locked + burned + pledged is ${total}, the genesis issued ${genesisIssued}`);
  return { chains: nodes.size, receipts: sightings.size, genesisIssued, available, locked, burned, pledged, total, conserved: problemCount === 0, problemCount, problems };
}

function checkSighting(id: string, s: Sighting, nodes: ReadonlySet<string>, problem: (text: string) => void): void {
  for (const [side, seen, owner] of [
    ['RECEIPT_OUT', s.out, s.payer],
    ['RECEIPT_IN', s.in, s.payee],
  ] as const) {
    if (seen.length === 0) problem(`receipt ${id} is missing as ${side} from ${nodes.has(owner) ? 'the chain of' : 'the unaudited chain of'} ${short(owner)}`);
    if (seen.length > 1) problem(`receipt ${id} appears ${seen.length} times as ${side}`);
  }
  const digests = new Set([...s.out, ...s.in].map((x) => x.digest));
  if (digests.size > 1) problem(`receipt ${id} has different bytes in the payer's and the payee's chain`);
}

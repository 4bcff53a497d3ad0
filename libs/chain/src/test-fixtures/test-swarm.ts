/**
 * For tests and benches: a few nodes with in-memory chains, paying each other with countersigned
 * receipts through the public API.
 */
import { createHash } from 'node:crypto';
import type { SignedReceipt } from '@swarm/contracts';
import { appendDueBurns, appendReceipt, createGenesis } from '../append';
import type { ChainRules } from '../chain-rules';
import type { ChainHead } from '../chain-state';
import { countersignReceipt, makeReceipt, receiptIdOf } from '../receipt';
import type { TestSigner } from './seeded-signer';
import { seededSigner } from './seeded-signer';

export interface TestNode {
  readonly signer: TestSigner;
  head: ChainHead;
  readonly blocks: Uint8Array[];
  readonly receiptIds: Set<string>;
}

export interface TestSwarm {
  readonly nodes: TestNode[];
  readonly rules: ChainRules;
  /** A countersigned receipt from node `payer` to node `payee` (indexes), not yet appended. */
  receipt(payer: number, payee: number, amount: bigint, taskId: string, atMs: number): SignedReceipt;
  /** receipt(), then appended to the payee's chain and the payer's. */
  pay(payer: number, payee: number, amount: bigint, taskId: string, atMs: number): SignedReceipt;
  /** Appends the idle burns due by `atMs` to node `i`'s chain. */
  burn(i: number, atMs: number): void;
}

export function sha256Of(text: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(text).digest());
}

/** `n` nodes (seeds 1..n unless given) with their genesis blocks at `genesisAtMs`. */
export function testSwarm(n: number, rules: ChainRules, genesisAtMs: number, seeds?: readonly number[]): TestSwarm {
  const nodes: TestNode[] = Array.from({ length: n }, (_, i) => {
    const signer = seededSigner(seeds?.[i] ?? i + 1);
    const g = createGenesis(signer, rules, genesisAtMs);
    return { signer, head: g.head, blocks: [...g.blocks], receiptIds: new Set<string>() };
  });
  const append = (node: TestNode, signed: SignedReceipt, atMs: number) => {
    const r = appendReceipt(node.head, signed, node.signer, rules, { atMs, hasReceipt: (id) => node.receiptIds.has(id) });
    node.blocks.push(...r.blocks);
    node.head = r.head;
  };
  const receipt = (payer: number, payee: number, amount: bigint, taskId: string, atMs: number) => {
    const from = nodes[payer];
    const to = nodes[payee];
    const signed = makeReceipt(
      {
        payeePublicKey: to.signer.publicKey,
        amount,
        taskId,
        taskHash: sha256Of(`task ${taskId}`),
        resultHash: sha256Of(`result ${taskId}`),
        atMs,
        serveTicket: new Uint8Array(32).fill(7),
      },
      from.signer,
    );
    return countersignReceipt(signed, to.signer);
  };
  return {
    nodes,
    rules,
    receipt,
    pay(payer, payee, amount, taskId, atMs) {
      const signed = receipt(payer, payee, amount, taskId, atMs);
      // The payer first: in a node, its escrow already holds the amount; here its chain refuses an overspend before the payee records anything.
      const id = receiptIdOf(taskId, nodes[payer].signer.nodeId, nodes[payee].signer.nodeId);
      append(nodes[payer], signed, atMs);
      nodes[payer].receiptIds.add(id);
      append(nodes[payee], signed, atMs);
      nodes[payee].receiptIds.add(id);
      return signed;
    },
    burn(i, atMs) {
      const node = nodes[i];
      const r = appendDueBurns(node.head, node.signer, rules, atMs);
      node.blocks.push(...r.blocks);
      node.head = r.head;
    },
  };
}

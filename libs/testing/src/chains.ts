/**
 * For tests of chains across nodes (credit-svc, registry-svc): nodes with real keys and chains (genesis, receipts paid and countersigned
 * at once), and blocks re-signed by a chain's own key, as a forking payer would sign them.
 */
import type { ChainHead, ChainSigner } from '@swarm/chain';
import { appendReceipt, BLOCK_DOMAIN, chainRules, countersignReceipt, createGenesis, makeReceipt } from '@swarm/chain';
import type { SignedReceipt } from '@swarm/contracts';
import { ChainBlock, SignedBlock } from '@swarm/contracts';
import { generateKeyPairSync, sign } from 'node:crypto';

/** 3 Dec 2026 10:00 UTC. */
export const START_MS = 1_796_292_000_000;
export const HASH = new Uint8Array(32).fill(3);
export const rules = chainRules();

export interface Node {
  readonly id: string;
  readonly signer: ChainSigner;
  head: ChainHead;
  readonly blocks: Uint8Array[];
  readonly ids: Set<string>;
}

export function node(): Node {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer: ChainSigner = { publicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }).subarray(12)), sign: (d) => new Uint8Array(sign(null, d, privateKey)) };
  const g = createGenesis(signer, rules, START_MS);
  return { id: g.head.nodeId, signer, head: g.head, blocks: [...g.blocks], ids: new Set() };
}

export function append(n: Node, signed: SignedReceipt, id: string) {
  const r = appendReceipt(n.head, signed, n.signer, rules, { atMs: START_MS + 1_000, hasReceipt: (x) => n.ids.has(x) });
  n.blocks.push(...r.blocks);
  n.head = r.head;
  n.ids.add(id);
}

export function receipt(payer: Node, payee: Node, amount: bigint, taskId: string): SignedReceipt {
  return makeReceipt(
    { payeePublicKey: payee.signer.publicKey, amount, taskId, taskHash: HASH, resultHash: HASH, atMs: START_MS + 1_000, serveTicket: new Uint8Array(32).fill(7) },
    payer.signer,
  );
}

/** A receipt from `payer` to `payee`, countersigned and appended to both chains at once (as before pledges). */
export function pay(payer: Node, payee: Node, amount: bigint, taskId: string): void {
  const signed = countersignReceipt(receipt(payer, payee, amount, taskId), payee.signer);
  const id = `${taskId}:${payer.id}:${payee.id}`;
  append(payer, signed, id);
  append(payee, signed, id);
}

/** A node whose genesis another node unlocked, that then paid `other` 1 credit `payments` times (its chain: payments + 2 blocks). */
export function spender(other: Node, payments: number): Node {
  const n = node();
  pay(node(), n, 100n, 'unlock');
  for (let i = 0; i < payments; i += 1) pay(n, other, 1n, `t${i}`);
  return n;
}

/** `signed` (a SignedBlock) with its block changed by `edit` and signed again by `signer`. */
export function resigned(signed: Uint8Array, signer: ChainSigner, edit: (block: ChainBlock) => void): Uint8Array {
  const block = ChainBlock.decode(SignedBlock.decode(signed).block);
  edit(block);
  const bytes = ChainBlock.encode(block).finish();
  return SignedBlock.encode({ block: bytes, signature: signer.sign(new Uint8Array([...new TextEncoder().encode(BLOCK_DOMAIN), ...bytes])) }).finish();
}

/** All of the above under one name (their own names are too plain for the library's index). */
export const testChains = Object.freeze({ START_MS, HASH, rules, node, append, receipt, pay, spender, resigned });

/**
 * For the router's specs: node keys, and real proofs of misbehaviour made through @swarm/chain's
 * public API (a fork at seq 1; a payee that took a receipt into its chain and also countersigned
 * the payer's void of it). Never for real nodes.
 */
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import type { ChainSigner } from '@swarm/chain';
import { appendReceipt, chainRules, countersignReceipt, countersignVoid, createGenesis, forkProofOf, makeReceipt, makeVoid } from '@swarm/chain';
import type { ForkProof, VoidBreachProof } from '@swarm/contracts';
import { SignedBlock } from '@swarm/contracts';
import { nodeIdOfKey } from '@swarm/records';

/** An Ed25519 node key, as libs/identity's NodeIdentity signs. */
export function nodeKey(): ChainSigner & { nodeId: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(12));
  return { nodeId: nodeIdOfKey(publicKey), publicKey, sign: (data: Uint8Array) => new Uint8Array(sign(null, data, privateKey)) };
}

/** Two GENESIS blocks one node signed at `atMs` and `later` ms after: a real fork at seq 1. */
export function forkOf(signer: ChainSigner, atMs: number, later = 1_000): ForkProof {
  const proof = forkProofOf(createGenesis(signer, chainRules(), atMs).blocks[0], createGenesis(signer, chainRules(), atMs + later).blocks[0]);
  if (!proof) throw new Error('two different genesis blocks make a fork');
  return proof;
}

/**
 * `payee` took a receipt from `payer` into its chain (a RECEIPT_IN at seq 2, a second after
 * `atMs`) and also countersigned the payer's void of it: a void breach proof against `payee`.
 */
export function breachOf(payer: ChainSigner, payee: ChainSigner, atMs: number, taskId = 'task-1'): VoidBreachProof {
  const rules = chainRules();
  const genesis = createGenesis(payee, rules, atMs);
  const fields = { payeePublicKey: payee.publicKey, amount: 3n, taskId, taskHash: new Uint8Array(32).fill(1), resultHash: new Uint8Array(32).fill(2), atMs: atMs + 1_000 };
  const asked = makeReceipt({ ...fields, serveTicket: new Uint8Array(32).fill(7) }, payer);
  const appended = appendReceipt(genesis.head, countersignReceipt(asked, payee), payee, rules, { atMs: atMs + 1_000, hasReceipt: () => false });
  return { signedVoid: countersignVoid(makeVoid(asked, payer), payee), block: SignedBlock.decode(appended.blocks[0]) };
}

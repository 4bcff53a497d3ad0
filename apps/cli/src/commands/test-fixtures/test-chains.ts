/**
 * For tests: two nodes paying each other, their chains built through @swarm/chain's public API
 * (its own test fixtures are not importable from another project), with keys from fixed seeds, and
 * the blocks a broken or cheating node could send. Never for real nodes.
 */
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import type { ChainHead, ChainRules, ChainSigner } from '@swarm/chain';
import { appendReceipt, countersignReceipt, createGenesis, makeReceipt, receiptIdOf } from '@swarm/chain';
import type { SignedReceipt } from '@swarm/contracts';
import { SignedBlock } from '@swarm/contracts';

// DER prefix of an Ed25519 PKCS#8 private key (RFC 8410 §7); the SPKI's raw key is its last 32 bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX_BYTES = 12;

export interface TestSigner extends ChainSigner {
  readonly nodeId: string;
}

/** A signer whose 32-byte seed is `seed` repeated. */
export function seededSigner(seed: number): TestSigner {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, new Uint8Array(32).fill(seed & 0xff)]), format: 'der', type: 'pkcs8' });
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX_BYTES));
  return { nodeId: createHash('sha256').update(publicKey).digest('hex'), publicKey, sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

export interface TestNode {
  readonly signer: TestSigner;
  readonly blocks: Uint8Array[];
  /** heads[i] is the head after block i + 1. */
  readonly heads: ChainHead[];
  readonly receiptIds: Set<string>;
}

function sha256(text: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(text).digest());
}

export class TestNodes {
  readonly nodes: [TestNode, TestNode];

  constructor(
    readonly rules: ChainRules,
    genesisAtMs: number,
  ) {
    const node = (seed: number): TestNode => {
      const signer = seededSigner(seed);
      const g = createGenesis(signer, rules, genesisAtMs);
      return { signer, blocks: [...g.blocks], heads: [g.head], receiptIds: new Set() };
    };
    this.nodes = [node(1), node(2)];
  }

  /** A receipt from node `payer` to node `payee` (0 or 1), countersigned, not appended. */
  receipt(payer: number, amount: bigint, taskId: string, atMs: number): SignedReceipt {
    const from = this.nodes[payer];
    const to = this.nodes[1 - payer];
    const signed = makeReceipt(
      {
        payeePublicKey: to.signer.publicKey,
        amount,
        taskId,
        taskHash: sha256(`task ${taskId}`),
        resultHash: sha256(`result ${taskId}`),
        atMs,
        serveTicket: new Uint8Array(32).fill(7),
      },
      from.signer,
    );
    return countersignReceipt(signed, to.signer);
  }

  /** Node `payer` pays the other: the receipt appended to both chains. */
  pay(payer: number, amount: bigint, taskId: string, atMs: number): void {
    const signed = this.receipt(payer, amount, taskId, atMs);
    for (const node of [this.nodes[payer], this.nodes[1 - payer]]) {
      const r = this.appendTo(node, node.heads[node.heads.length - 1], signed, atMs);
      node.blocks.push(...r.blocks);
      node.heads.push(r.head);
      node.receiptIds.add(receiptIdOf(taskId, this.nodes[payer].signer.nodeId, this.nodes[1 - payer].signer.nodeId));
    }
  }

  /**
   * Another block with seq `seq` of node `i`, validly signed: it pays a receipt the chain does not
   * hold, appended to the head before block `seq`. Beside the chain's own block `seq`, a fork.
   */
  otherBlock(i: number, seq: number, atMs: number): Uint8Array {
    const node = this.nodes[i];
    const signed = this.receipt(i, 1n, `other-${seq}`, atMs);
    return this.appendTo(node, node.heads[seq - 2], signed, atMs).blocks[0];
  }

  private appendTo(node: TestNode, head: ChainHead, signed: SignedReceipt, atMs: number) {
    return appendReceipt(head, signed, node.signer, this.rules, { atMs, hasReceipt: (id) => node.receiptIds.has(id) });
  }
}

/** The block with one byte of its signature changed: it no longer verifies. */
export function withForgedSignature(block: Uint8Array): Uint8Array {
  const signed = SignedBlock.decode(block);
  const signature = Uint8Array.from(signed.signature);
  signature[0] ^= 0xff;
  return SignedBlock.encode({ block: signed.block, signature }).finish();
}

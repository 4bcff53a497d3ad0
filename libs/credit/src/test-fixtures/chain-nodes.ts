/** Nodes with a chain book over an in-memory ledger, for the chain book's and voids' specs. */
import type { ChainRules, ChainSigner } from '@swarm/chain';
import { chainRules } from '@swarm/chain';
import type { SettleRequest } from '@swarm/contracts';
import type { ManualClock } from '@swarm/determinism';
import { nodeIdOfKey } from '@swarm/records';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import type { ChainBook, PayerCheck } from '../chain-book';
import { createChainBook } from '../chain-book';
import { createLedger } from '../create-ledger';
import type { Ledger } from '../ledger';
import type { LedgerStore } from '../ledger-store';
import { createMemoryStore } from '../memory-store';

/** 3 Dec 2026 10:00 UTC. */
export const START_MS = 1_796_292_000_000;
export const HASH = new Uint8Array(32).fill(7);

// DER prefix of an Ed25519 PKCS#8 private key (RFC 8410 §7): the 32-byte seed follows it.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
let nextSeed = 1;

/** A signer with a key of its own: seeds are drawn in turn, so each test's nodes are the same every run. */
export function newSigner(): ChainSigner & { nodeId: string } {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, nextSeed++);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(12));
  return { nodeId: nodeIdOfKey(publicKey), publicKey, sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

export interface Node {
  readonly id: string;
  readonly signer: ChainSigner & { nodeId: string };
  readonly book: ChainBook;
  readonly ledger: Ledger;
}

export async function startNode(
  clock: ManualClock,
  rules: ChainRules = chainRules(),
  signer = newSigner(),
  store: LedgerStore = createMemoryStore(),
  payers?: PayerCheck,
): Promise<Node> {
  const book = createChainBook({ signer, nodeAccount: signer.nodeId, rules, clock, ...(payers ? { payers } : {}) });
  const ledger = await createLedger({ store, clock }, { nodeAccount: signer.nodeId, genesisGrant: 1_000n, hooks: book.hooks });
  await book.open(ledger);
  return { id: signer.nodeId, signer, book, ledger };
}

/** A settle of `escrowId` paying `payee` `amount`, naming what its receipt needs. */
export function settlePaying(escrowId: string, payee: Node, amount: bigint): SettleRequest {
  return {
    escrowId,
    payee: '',
    amount: 0n,
    payouts: [{ payee: payee.id, amount }],
    task: {
      taskId: escrowId,
      taskHash: HASH,
      resultHash: HASH,
      shares: [],
      payeeKeys: [{ nodeId: payee.id, publicKey: payee.signer.publicKey, serveTicket: new Uint8Array(32).fill(7) }],
    },
  };
}

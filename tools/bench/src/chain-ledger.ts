/**
 * A node's ledger with its chain for the ledger bench (docs/chain.md): fsync on, group commit, every
 * credit spendable (the bench measures throughput, not the genesis lock), a fresh Ed25519 key.
 * Shared by the bench's main thread (the payer) and payee-worker.ts (a payee in its own thread).
 */
import { join } from 'node:path';
import type { ChainSigner } from '@swarm/chain';
import { chainRules } from '@swarm/chain';
import { createChainBook } from '@swarm/credit';
import { openLedger } from '@swarm/credit-level';
import { systemClock } from '@swarm/determinism';
import { nodeIdOfKey } from '@swarm/records';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';

/** Enough that no run ever runs out of credit (each pair escrows 10). */
export const GRANT = 1_000_000_000n;

export function freshSigner(): ChainSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  // The SPKI DER of an Ed25519 key ends with the raw 32-byte key (RFC 8410 §4).
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(12));
  return { publicKey, sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

export type ChainLedger = Awaited<ReturnType<typeof openChainLedger>>;

export async function openChainLedger(dir: string, name: string) {
  const rules = chainRules({ genesisGrant: GRANT, starterAllowance: GRANT });
  const signer = freshSigner();
  const id = nodeIdOfKey(signer.publicKey);
  const book = createChainBook({ signer, nodeAccount: id, rules, clock: systemClock });
  const ledger = await openLedger({ path: join(dir, name), sync: true, clock: systemClock, nodeAccount: id, genesisGrant: GRANT, hooks: book.hooks });
  await book.open(ledger);
  return { id, signer, book, ledger };
}

import { BlockKind, ChainBlock, ChainSighting, SignedBlock, SignedChainSighting } from '@swarm/contracts';
import { findPowNonce } from '@swarm/records';
import { chainRules } from './chain-rules';
import { makeChainSighting, MAX_SIGHTING_TTL_MS, sightingSigningBytes, verifyChainSighting, withPowNonce } from './chain-sighting';
import { ChainRefusal } from './chain-refusal';
import { blockSigningBytes } from './signing';
import { forkProofOf, verifyForkProof } from './fork-proof';
import { forged } from './test-fixtures/forge-block';
import { refusalOf } from './test-fixtures/refusal-of';
import { seededSigner } from './test-fixtures/seeded-signer';
import { testSwarm } from './test-fixtures/test-swarm';

const AT = 1_700_000_000_000;
const RULES = chainRules({ genesisGrant: 1_000n, starterAllowance: 100n, drainPpm: 0 });
const POW = 6;
const payee = seededSigner(41);
const nonce = findPowNonce(payee.nodeId, POW);

function payerChain() {
  const swarm = testSwarm(2, RULES, AT);
  swarm.pay(0, 1, 30n, 't1', AT + 1_000);
  return swarm.nodes[0];
}

const sighted = (block: Uint8Array, atMs = AT + 5_000, ttlMs = 60_000) => withPowNonce(makeChainSighting(payee, block, { atMs, ttlMs }), nonce);
const verify = (bytes: Uint8Array, nowMs = AT + 6_000, expectedPayer?: string) => verifyChainSighting(bytes, { nowMs, powDifficulty: POW, expectedPayer });
const reasonOf = (fn: () => unknown) => {
  const r = refusalOf(ChainRefusal, fn);
  return `${r.reason}: ${r.message.replace(/^chain refused(?: at block \d+)? \([a-z-]+\): /, '')}`;
};

/** `bytes` with its ChainSighting changed and signed again by `signer` (the payee by default). */
function resigned(bytes: Uint8Array, change: (s: ChainSighting) => void, signer = payee): Uint8Array {
  const signed = SignedChainSighting.decode(bytes);
  const s = ChainSighting.decode(signed.sighting);
  change(s);
  const sighting = ChainSighting.encode(s).finish();
  return SignedChainSighting.encode({ sighting, signature: signer.sign(sightingSigningBytes(sighting)), payeePowNonce: signed.payeePowNonce }).finish();
}

describe('chain sightings', () => {
  it("carries the payer's block at the head a payee audited, signed by the payee", () => {
    const payer = payerChain();
    const head = payer.blocks[payer.blocks.length - 1];
    const v = verify(sighted(head), AT + 6_000, payer.signer.nodeId);
    expect(v).toEqual({ payer: payer.signer.nodeId, payee: payee.nodeId, seq: BigInt(payer.blocks.length), block: head, issuedAtMs: AT + 5_000, expiresAtMs: AT + 65_000 });
  });

  it("two payees' sightings of one seq with other blocks signed by the payer make a fork proof", () => {
    const payer = payerChain();
    const seq = payer.blocks.length;
    const other = forged(payer.blocks[seq - 1], payer.signer, (b) => (b.atMs += 1n));
    const mine = verify(sighted(payer.blocks[seq - 1]));
    const theirs = verify(sighted(other));
    const proof = forkProofOf(mine.block, theirs.block);
    expect(proof && verifyForkProof(proof)).toEqual({ nodeId: payer.signer.nodeId, seq: BigInt(seq) });
  });

  it('refuses what does not check out, naming why', () => {
    const payer = payerChain();
    const head = payer.blocks[payer.blocks.length - 1];
    const good = sighted(head);
    expect(reasonOf(() => verify(good, AT + 66_000))).toBe('bad-sighting: expired 1000 ms ago');
    expect(reasonOf(() => verify(good, AT + 6_000, payee.nodeId))).toMatch(/^bad-sighting: a sighting of [0-9a-f]{12} where one of [0-9a-f]{12} was expected$/);
    expect(reasonOf(() => verify(withPowNonce(good, nonce + 1n)))).toMatch(/^bad-sighting: no proof of work of 6 bits on payee/);
    expect(reasonOf(() => verify(sighted(head, AT + 60_000)))).toBe("bad-sighting: issued 54000 ms past this node's clock");
    // Signed by another key than the payee's it names.
    expect(reasonOf(() => verify(resigned(good, () => undefined, seededSigner(42))))).toMatch(/^bad-sighting: the signature does not verify under the key of payee/);
    expect(reasonOf(() => verify(resigned(good, (s) => (s.expiresAtMs = s.issuedAtMs + BigInt(MAX_SIGHTING_TTL_MS) + 1n))))).toBe(
      `bad-sighting: a lifetime outside 1 to ${MAX_SIGHTING_TTL_MS} ms`,
    );
    expect(reasonOf(() => verify(resigned(good, (s) => (s.payerId = payee.nodeId))))).toBe("bad-sighting: a node's sighting of its own chain");
    expect(reasonOf(() => verify(resigned(good, (s) => (s.payeeId = payer.signer.nodeId))))).toMatch(/^bad-sighting: payee_public_key does not hash to payee_id/);
    // The payer's block forged: not the payer's signature.
    const notSigned = resigned(good, (s) => (s.payerBlock = { ...s.payerBlock!, signature: new Uint8Array(64).fill(3) }));
    expect(reasonOf(() => verify(notSigned))).toMatch(/^bad-signature: /);
    // Another node's block under this payer's id.
    const stranger = resigned(good, (s) => (s.payerId = seededSigner(43).nodeId));
    expect(reasonOf(() => verify(stranger))).toMatch(/^bad-sighting: a block of [0-9a-f]{12} in a sighting of /);
    expect(reasonOf(() => verify(new Uint8Array([1, 2, 3])))).toMatch(/^bad-sighting: 3 bytes that are not a protobuf/);
    expect(reasonOf(() => verify(new Uint8Array(20_000)))).toMatch(/^bad-sighting: 20000 bytes, limit/);
    const padded = new Uint8Array([...good, 0x22, 0x00]);
    expect(reasonOf(() => verify(padded))).toMatch(/^bad-sighting: (the envelope holds bytes besides its fields|.* not a protobuf)/);
  });

  it("refuses a block no chain could hold, or with fields unknown here (helper-152: made-up blocks at any seq, padded to crowd the DHT's replies)", () => {
    const payer = payerChain();
    const made = (seq: bigint, padding: Uint8Array) => {
      const body = ChainBlock.encode({
        nodeId: payer.signer.nodeId,
        publicKey: payer.signer.publicKey,
        seq,
        prevHash: new Uint8Array(32),
        kind: BlockKind.BLOCK_KIND_GENESIS,
        amount: 1_000n,
        atMs: 1n,
      }).finish();
      const bytes = new Uint8Array([...body, ...padding]);
      return SignedBlock.encode({ block: bytes, signature: payer.signer.sign(blockSigningBytes(bytes)) }).finish();
    };
    // Field 1000, length-delimited, 8,000 bytes: decoding skips it; the payer's signature covers it.
    const padding = new Uint8Array([0xc2, 0x3e, 0xc0, 0x3e, ...new Uint8Array(8_000).fill(0x61)]);
    expect(reasonOf(() => verify(sighted(made(2n ** 62n, new Uint8Array()))))).toBe('bad-genesis: GENESIS only at seq 1');
    expect(reasonOf(() => verify(sighted(made(1n, padding))))).toBe('bad-sighting: the payer_block holds fields this node does not know');
  });

  it('is made only of a block validly signed, for a lifetime within the bound', () => {
    const payer = payerChain();
    const head = payer.blocks[payer.blocks.length - 1];
    expect(reasonOf(() => makeChainSighting(payee, head, { atMs: AT, ttlMs: MAX_SIGHTING_TTL_MS + 1 }))).toMatch(/^invalid-field: a sighting needs/);
    const junk = forged(head, seededSigner(44), () => undefined);
    expect(reasonOf(() => makeChainSighting(payee, junk, { atMs: AT, ttlMs: 1_000 }))).toMatch(/^(bad-signature|wrong-node): /);
  });
});

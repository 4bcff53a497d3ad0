import { ErrorCode, SignedBlock } from '@swarm/contracts';
import { ChainRefusal } from './chain-refusal';
import type { ChainRefusalReason } from './chain-refusal';
import { chainRules } from './chain-rules';
import { encodeForkProof, forkProofOf, provenFork, verifyForkProof } from './fork-proof';
import { forged } from './test-fixtures/forge-block';
import { sha256 } from './signing';
import { seededSigner } from './test-fixtures/seeded-signer';
import { testSwarm } from './test-fixtures/test-swarm';

const AT = 1_700_000_000_000;
const RULES = chainRules({ drainPpm: 0 });

function refusedWith(fn: () => unknown, reason: ChainRefusalReason): ChainRefusal {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChainRefusal) {
      expect(err.reason).toBe(reason);
      return err;
    }
    throw err;
  }
  throw new Error('expected a ChainRefusal');
}

describe('fork proof', () => {
  const swarm = testSwarm(2, RULES, AT);
  swarm.pay(0, 1, 10n, 'a', AT + 1_000);
  swarm.pay(0, 1, 10n, 'b', AT + 2_000);
  const { blocks, signer } = swarm.nodes[0];
  const twin = forged(blocks[1], signer, (b) => (b.atMs += 7n));

  it('is made from two different blocks one node signed with one seq, and convicts that node', () => {
    const proof = forkProofOf(blocks[1], twin);
    expect(proof).toBeDefined();
    expect(verifyForkProof(proof!)).toEqual({ nodeId: signer.nodeId, seq: 2n });
    expect(verifyForkProof(encodeForkProof(proof!))).toEqual({ nodeId: signer.nodeId, seq: 2n });
  });

  it('is no proof for the same block twice, other seqs, or blocks of two nodes', () => {
    expect(forkProofOf(blocks[1], blocks[1])).toBeUndefined();
    expect(forkProofOf(blocks[1], blocks[2])).toBeUndefined();
    expect(forkProofOf(blocks[1], swarm.nodes[1].blocks[1])).toBeUndefined();
    const s = (b: Uint8Array) => SignedBlock.decode(b);
    refusedWith(() => verifyForkProof({ first: s(blocks[1]), second: s(blocks[1]) }), 'not-a-fork');
    refusedWith(() => verifyForkProof({ first: s(blocks[1]), second: s(blocks[2]) }), 'not-a-fork');
    refusedWith(() => verifyForkProof({ first: s(blocks[1]), second: s(swarm.nodes[1].blocks[1]) }), 'not-a-fork');
    refusedWith(() => verifyForkProof({ first: s(blocks[1]) }), 'not-a-fork');
  });

  it('is made from a block and one the node signed with the next seq naming another block before it (a broken link)', () => {
    // Block 3 re-signed on top of the twin: its node signed a block 2 other than blocks[1].
    const onTwin = forged(blocks[2], signer, (b) => (b.prevHash = sha256(SignedBlock.decode(twin).block)));
    const proof = forkProofOf(blocks[1], onTwin);
    expect(proof).toBeDefined();
    expect(verifyForkProof(proof!)).toEqual({ nodeId: signer.nodeId, seq: 2n });
    // Not the other way round, not two seqs apart, not a block and the one that goes on from it.
    expect(forkProofOf(onTwin, blocks[1])).toBeUndefined();
    expect(forkProofOf(blocks[0], onTwin)).toBeUndefined();
    expect(forkProofOf(twin, onTwin)).toBeUndefined();
    const s = (b: Uint8Array) => SignedBlock.decode(b);
    expect(refusedWith(() => verifyForkProof({ first: s(twin), second: s(onTwin) }), 'not-a-fork').message).toMatch(/the second going on from the first/);
    refusedWith(() => verifyForkProof({ first: s(onTwin), second: s(blocks[1]) }), 'not-a-fork');
  });

  it('is refused when a block is not signed by the node it names (a forged accusation)', () => {
    const framed = forged(blocks[1], seededSigner(9), (b) => (b.atMs += 7n));
    refusedWith(() => forkProofOf(blocks[1], framed), 'bad-signature');
    refusedWith(() => verifyForkProof({ first: SignedBlock.decode(blocks[1]), second: SignedBlock.decode(framed) }), 'bad-signature');
    // provenFork: no proof and no throw, for callers that refuse such a block for what it is.
    expect(provenFork(blocks[1], framed)).toBeUndefined();
    expect(provenFork(blocks[1], Uint8Array.from([0xff]))).toBeUndefined();
  });

  it('refuses malformed and oversized proofs', () => {
    expect(refusedWith(() => verifyForkProof(Uint8Array.from([0xff, 0xff])), 'malformed').code).toBe(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
    expect(refusedWith(() => verifyForkProof(new Uint8Array(100_000)), 'oversized').code).toBe(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE);
  });
});

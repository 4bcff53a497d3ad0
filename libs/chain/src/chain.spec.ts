import { BlockKind, ErrorCode, SignedBlock } from '@swarm/contracts';
import { appendReceipt, createGenesis } from './append';
import { MAX_SIGNED_BLOCK_BYTES } from './block';
import type { ChainRefusalReason } from './chain-refusal';
import { ChainRefusal } from './chain-refusal';
import { chainRules } from './chain-rules';
import { verifyForkProof } from './fork-proof';
import { countersignReceipt, makeReceipt } from './receipt';
import { blockSigningBytes } from './signing';
import { blockOf, forged, hashOf, linkedBlock } from './test-fixtures/forge-block';
import { refusalOf } from './test-fixtures/refusal-of';
import { seededSigner } from './test-fixtures/seeded-signer';
import { sha256Of, testSwarm } from './test-fixtures/test-swarm';
import { verifyChain, verifyChainSuffix } from './verify-chain';

const AT = 1_700_000_000_000;
/** No idle drain here: burn.spec.ts covers it. */
const RULES = chainRules({ genesisGrant: 1_000n, starterAllowance: 100n, drainPpm: 0 });

const refusal = (fn: () => unknown): ChainRefusal => refusalOf(ChainRefusal, fn);

function expectRefused(blocks: readonly Uint8Array[], reason: ChainRefusalReason, seq?: bigint): ChainRefusal {
  const r = refusal(() => verifyChain(blocks, RULES));
  expect(r.reason).toBe(reason);
  if (seq !== undefined) expect(r.seq).toBe(seq);
  expect(r.message.length).toBeLessThan(400);
  return r;
}

/** Node 0 pays node 1 twice and node 1 pays node 0 once. */
function history() {
  const swarm = testSwarm(2, RULES, AT);
  swarm.pay(0, 1, 30n, 't1', AT + 1_000);
  swarm.pay(0, 1, 20n, 't2', AT + 2_000);
  swarm.pay(1, 0, 500n, 't3', AT + 3_000);
  return swarm;
}

describe('chain - append and verify', () => {
  it("derives each node's balances from its chain, as the writer computed them", () => {
    const swarm = history();
    const [a, b] = swarm.nodes;
    const auditA = verifyChain(a.blocks, RULES, { expectedNodeId: a.signer.nodeId, nowMs: AT + 4_000 });
    const auditB = verifyChain(b.blocks, RULES);
    expect(auditA.head).toEqual(a.head);
    expect(auditB.head).toEqual(b.head);
    // a: 100 starter - 30 - 20, then paid 500, which unlocks its 900.
    expect(a.head.balances).toEqual({ available: 50n + 900n + 500n, locked: 0n, burned: 0n, received: 500n, paid: 50n, pledged: 0n });
    // b: unlocked by its first serve, then pays 500.
    expect(b.head.balances).toEqual({ available: 1_000n + 50n - 500n, locked: 0n, burned: 0n, received: 50n, paid: 500n, pledged: 0n });
    expect(auditA.entries.map((e) => e.kind)).toEqual([
      BlockKind.BLOCK_KIND_GENESIS,
      BlockKind.BLOCK_KIND_RECEIPT_OUT,
      BlockKind.BLOCK_KIND_RECEIPT_OUT,
      BlockKind.BLOCK_KIND_RECEIPT_IN,
    ]);
    expect(auditA.owed).toMatchObject({ count: 0, amount: 0n });
  });

  it('continues an audit from a known head with only the new blocks', () => {
    const swarm = history();
    const a = swarm.nodes[0];
    const first = verifyChain(a.blocks.slice(0, 2), RULES);
    const ids = new Set(first.entries.flatMap((e) => (e.receipt ? [e.receipt.receiptId] : [])));
    const rest = verifyChainSuffix(first.head, a.blocks.slice(2), RULES, (id) => ids.has(id));
    expect(rest.head).toEqual(a.head);
    expect(rest.entries.map((e) => e.seq)).toEqual([3n, 4n]);
    expect(refusal(() => verifyChainSuffix(first.head, a.blocks.slice(3), RULES, (id) => ids.has(id))).reason).toBe('gap');
    expect(refusal(() => verifyChainSuffix(first.head, swarm.nodes[1].blocks.slice(2), RULES, () => false)).reason).toBe('wrong-node');
    expect(refusal(() => verifyChainSuffix(first.head, a.blocks.slice(1), RULES, () => false)).reason).toBe('gap');
  });

  it('refuses paying more than is available when appending: INSUFFICIENT_CREDIT, nothing signed', () => {
    const swarm = testSwarm(2, RULES, AT);
    const a = swarm.nodes[0];
    const big = swarm.receipt(0, 1, 150n, 'big', AT + 1_000);
    expect(() => appendReceipt(a.head, big, a.signer, RULES, { atMs: AT + 1_000, hasReceipt: () => false })).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, message: expect.stringContaining('100 available (900 locked') }),
    );
  });

  it('refuses appending a receipt of two other nodes, or with a signer that is not the chain node', () => {
    const swarm = testSwarm(3, RULES, AT);
    const [a, , c] = swarm.nodes;
    const other = swarm.receipt(1, 2, 5n, 'x', AT + 1_000);
    expect(() => appendReceipt(a.head, other, a.signer, RULES, { atMs: AT + 1_000, hasReceipt: () => false })).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }),
    );
    const mine = swarm.receipt(0, 1, 5n, 'y', AT + 1_000);
    expect(() => appendReceipt(a.head, mine, c.signer, RULES, { atMs: AT + 1_000, hasReceipt: () => false })).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_ARGUMENT }),
    );
  });
});

describe('chain - refused', () => {
  it('a gap: a block missing in the middle', () => {
    const { blocks } = history().nodes[0];
    expectRefused([blocks[0], blocks[2], blocks[3]], 'gap', 3n);
    expectRefused(blocks.slice(1), 'gap', 2n);
  });

  it('a broken link: block 1 naming a block before it', () => {
    const swarm = history();
    const { blocks, signer } = swarm.nodes[0];
    const zeroed = forged(blocks[0], signer, (b) => (b.prevHash = new Uint8Array(32).fill(1)));
    expectRefused([zeroed], 'broken-link', 1n);
  });

  it('a broken link signed by the node is a fork: it names another block of the seq before than the one it signed, with a proof', () => {
    const swarm = history();
    const { blocks, signer } = swarm.nodes[0];
    const relinked = forged(blocks[2], signer, (b) => (b.prevHash = hashOf(blocks[0])));
    const r = expectRefused([blocks[0], blocks[1], relinked], 'fork', 2n);
    expect(r.message).toMatch(/signed block 3 going on from another block 2 than the one it signed/);
    expect(verifyForkProof(r.forkProof!)).toEqual({ nodeId: signer.nodeId, seq: 2n });
  });

  it("goes on from the head's own block when given it: a first block that does not go on from it is a fork, with a proof", () => {
    const swarm = history();
    const a = swarm.nodes[0];
    const first = verifyChain(a.blocks.slice(0, 2), RULES);
    const ids = new Set(first.entries.flatMap((e) => (e.receipt ? [e.receipt.receiptId] : [])));
    const suffix = (blocks: Uint8Array[], headBlock?: Uint8Array) => () => verifyChainSuffix(first.head, blocks, RULES, (id) => ids.has(id), { headBlock });
    expect(suffix(a.blocks.slice(2), a.blocks[1])().head).toEqual(a.head);
    const relinked = forged(a.blocks[2], a.signer, (b) => (b.prevHash = hashOf(a.blocks[0])));
    // Without the head's block a broken link proves nothing; with it, the node signed two blocks 2.
    expect(refusal(suffix([relinked])).reason).toBe('broken-link');
    const linkFork = refusal(suffix([relinked], a.blocks[1]));
    expect({ reason: linkFork.reason, seq: linkFork.seq, proven: verifyForkProof(linkFork.forkProof!) }).toEqual({
      reason: 'fork',
      seq: 2n,
      proven: { nodeId: a.signer.nodeId, seq: 2n },
    });
    const otherTwo = forged(a.blocks[1], a.signer, (b) => (b.atMs += 1n));
    const seqFork = refusal(suffix([otherTwo], a.blocks[1]));
    expect({ reason: seqFork.reason, seq: seqFork.seq, proven: verifyForkProof(seqFork.forkProof!).seq }).toEqual({ reason: 'fork', seq: 2n, proven: 2n });
    expect(refusal(suffix([a.blocks[1]], a.blocks[1])).reason).toBe('gap');
    // A block of the node that is not the head's own is the caller's mistake, never a proof.
    expect(() => suffix(a.blocks.slice(2), a.blocks[0])()).toThrow(/headBlock is not block 2/);
    expect(() => suffix(a.blocks.slice(2), otherTwo)()).toThrow(/headBlock is not block 2/);
  });

  it('a fork: two different blocks signed with one seq, with a proof anyone can check', () => {
    const swarm = history();
    const { blocks, signer } = swarm.nodes[0];
    const other = forged(blocks[1], signer, (b) => (b.atMs += 1n));
    const r = expectRefused([blocks[0], blocks[1], other], 'fork', 2n);
    expect(r.code).toBe(ErrorCode.ERROR_CODE_INVALID_CHAIN);
    expect(verifyForkProof(r.forkProof!)).toEqual({ nodeId: signer.nodeId, seq: 2n });
    expectRefused([blocks[0], blocks[1], blocks[1]], 'gap', 2n);
    // Still a fork when the second block is nonsense otherwise (here: a RECEIPT_OUT without a receipt).
    const nonsense = forged(blocks[1], signer, (b) => (b.receipt = undefined));
    expect(verifyForkProof(expectRefused([blocks[0], blocks[1], nonsense], 'fork', 2n).forkProof!).seq).toBe(2n);
  });

  it('a bad signature: altered bytes, another key, a signature moved from another block', () => {
    const swarm = history();
    const { blocks } = swarm.nodes[0];
    const stranger = seededSigner(9);
    expectRefused([blocks[0], forged(blocks[1], stranger, () => undefined)], 'bad-signature', 2n);
    const moved = SignedBlock.decode(blocks[1]);
    moved.signature = SignedBlock.decode(blocks[2]).signature;
    expectRefused([blocks[0], SignedBlock.encode(moved).finish()], 'bad-signature', 2n);
    const raw = SignedBlock.decode(blocks[1]);
    raw.signature = stranger.sign(blockSigningBytes(raw.block));
    expectRefused([blocks[0], SignedBlock.encode(raw).finish()], 'bad-signature', 2n);
  });

  it('a receipt twice in one chain', () => {
    const swarm = history();
    const a = swarm.nodes[0];
    const again = linkedBlock(a.head, a.signer, { ...pick(blockOf(a.blocks[1])), atMs: a.head.atMs });
    expectRefused([...a.blocks, again], 'duplicate-receipt', 5n);
  });

  it('an overspend, and spending genesis credit still locked', () => {
    const swarm = testSwarm(2, RULES, AT);
    const a = swarm.nodes[0];
    const locked = swarm.receipt(0, 1, 150n, 'locked', AT + 1_000);
    expectRefused(
      [...a.blocks, linkedBlock(a.head, a.signer, { kind: BlockKind.BLOCK_KIND_RECEIPT_OUT, amount: 150n, receipt: locked, atMs: BigInt(AT + 1_000) })],
      'spends-locked',
      2n,
    );
    const over = swarm.receipt(0, 1, 1_001n, 'over', AT + 1_000);
    expectRefused(
      [...a.blocks, linkedBlock(a.head, a.signer, { kind: BlockKind.BLOCK_KIND_RECEIPT_OUT, amount: 1_001n, receipt: over, atMs: BigInt(AT + 1_000) })],
      'overspend',
      2n,
    );
  });

  it('a receipt on the wrong side, not countersigned, or with another amount', () => {
    const swarm = testSwarm(2, RULES, AT);
    const a = swarm.nodes[0];
    const signed = swarm.receipt(0, 1, 10n, 'w', AT + 1_000);
    const at = BigInt(AT + 1_000);
    expectRefused([...a.blocks, linkedBlock(a.head, a.signer, { kind: BlockKind.BLOCK_KIND_RECEIPT_IN, amount: 10n, receipt: signed, atMs: at })], 'wrong-side', 2n);
    const unsigned = { ...signed, payeeSignature: new Uint8Array(0) };
    const r = expectRefused([...a.blocks, linkedBlock(a.head, a.signer, { kind: BlockKind.BLOCK_KIND_RECEIPT_OUT, amount: 10n, receipt: unsigned, atMs: at })], 'bad-receipt', 2n);
    expect(r.message).toContain('not-countersigned');
    expectRefused([...a.blocks, linkedBlock(a.head, a.signer, { kind: BlockKind.BLOCK_KIND_RECEIPT_OUT, amount: 11n, receipt: signed, atMs: at })], 'invalid-field', 2n);
    expectRefused([...a.blocks, linkedBlock(a.head, a.signer, { kind: BlockKind.BLOCK_KIND_RECEIPT_OUT, amount: 10n, atMs: at })], 'invalid-field', 2n);
    expectRefused([...a.blocks, linkedBlock(a.head, a.signer, { kind: BlockKind.BLOCK_KIND_RECEIPT_OUT, amount: 10n, receipt: signed, atMs: at - 1n })], 'invalid-field', 2n);
  });

  it('time running backwards, and blocks from the future of the auditor', () => {
    const swarm = history();
    const { blocks, signer } = swarm.nodes[0];
    const late = forged(blocks[1], signer, (b) => (b.atMs = BigInt(AT + 2_500)));
    const relinked = forged(blocks[2], signer, (b) => (b.prevHash = hashOf(late)));
    expectRefused([blocks[0], late, relinked], 'time-reversal', 3n);
    expect(refusal(() => verifyChain(blocks, RULES, { nowMs: AT + 2_000, maxSkewMs: 100 })).reason).toBe('from-future');
  });

  it('a genesis granting another amount, missing, or repeated', () => {
    const swarm = history();
    const { blocks, signer } = swarm.nodes[0];
    expectRefused([forged(blocks[0], signer, (b) => (b.amount = 1_000_000n))], 'bad-genesis', 1n);
    expectRefused([forged(blocks[0], signer, (b) => (b.kind = BlockKind.BLOCK_KIND_BURN))], 'bad-genesis', 1n);
    expectRefused([blocks[0], forged(blocks[1], signer, (b) => ((b.kind = BlockKind.BLOCK_KIND_GENESIS), (b.receipt = undefined)))], 'bad-genesis', 2n);
    expectRefused([], 'bad-genesis');
  });

  it("another node's block in the chain, or a chain of another node than expected", () => {
    const swarm = history();
    const [a, b] = swarm.nodes;
    expectRefused([a.blocks[0], b.blocks[1]], 'wrong-node', 2n);
    expect(refusal(() => verifyChain(a.blocks, RULES, { expectedNodeId: b.signer.nodeId })).reason).toBe('wrong-node');
    const lying = forged(a.blocks[0], a.signer, (blk) => (blk.nodeId = b.signer.nodeId));
    expectRefused([lying], 'wrong-node', 1n);
  });

  it('oversized and malformed blocks, and an envelope with extra bytes', () => {
    const { blocks } = history().nodes[0];
    expect(expectRefused([new Uint8Array(MAX_SIGNED_BLOCK_BYTES + 1)], 'oversized').code).toBe(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE);
    expect(expectRefused([Uint8Array.from([0xff, 0x01])], 'malformed').code).toBe(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE);
    expectRefused([Uint8Array.from([...blocks[0], 0x18, 0x01])], 'malformed');
  });

  it('dates a block no earlier than the last one when the clock reads earlier', () => {
    const signer = seededSigner(4);
    const g = createGenesis(signer, RULES, AT);
    expect(verifyChain(g.blocks, RULES).head).toEqual(g.head);
    const r = makeReceipt(
      { payeePublicKey: signer.publicKey, amount: 1n, taskId: 't', taskHash: sha256Of('a'), resultHash: sha256Of('b'), atMs: AT, serveTicket: new Uint8Array(32).fill(7) },
      seededSigner(5),
    );
    const appended = appendReceipt(g.head, countersignReceipt(r, signer), signer, RULES, { atMs: AT - 10, hasReceipt: () => false });
    // Dated no earlier than the genesis, though the clock read earlier.
    expect(appended.head.atMs).toBe(BigInt(AT));
    expect(verifyChain([...g.blocks, ...appended.blocks], RULES).head).toEqual(appended.head);
  });
});

function pick(b: ReturnType<typeof blockOf>) {
  return { kind: b.kind, amount: b.amount, receipt: b.receipt };
}

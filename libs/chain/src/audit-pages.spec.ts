import { BlockKind, ErrorCode, SwarmError } from '@swarm/contracts';
import type { ChainPage, FetchChainPage } from './audit-pages';
import { CHAIN_PAGE_MAX_BLOCKS } from '@swarm/contracts';
import { auditChainPages } from './audit-pages';
import { ChainRefusal } from './chain-refusal';
import { chainRules, DEFAULT_EPOCH_MS, DEFAULT_IDLE_WINDOW_MS } from './chain-rules';
import { verifyForkProof } from './fork-proof';
import { forged, linkedBlock } from './test-fixtures/forge-block';
import { testSwarm } from './test-fixtures/test-swarm';
import { verifyChain } from './verify-chain';

const AT = 1_700_000_000_000;
/** No idle drain unless a test says so. */
const RULES = chainRules({ drainPpm: 0 });

/** Node 0 of a two-node swarm with `payments` receipts out and in, alternating (1 + payments blocks). */
function chainOf(payments: number, rules = RULES) {
  const swarm = testSwarm(2, rules, AT);
  for (let i = 0; i < payments; i++) {
    if (i % 2 === 0) swarm.pay(1, 0, 10n, `in-${i}`, AT + 1_000 * (i + 1));
    else swarm.pay(0, 1, 5n, `out-${i}`, AT + 1_000 * (i + 1));
  }
  return swarm.nodes[0];
}

/** A node that answers pages of `blocks` as credit-svc would: from the seq asked, at most `limit`. */
function servedBy(blocks: readonly Uint8Array[], nodeId: string, calls: Array<[bigint, number]> = []): FetchChainPage {
  return async (fromSeq, limit) => {
    calls.push([fromSeq, limit]);
    const from = Number(fromSeq) - 1;
    return { blocks: blocks.slice(from, from + limit), headSeq: BigInt(blocks.length), nodeId };
  };
}

/** Answers these pages in turn, whatever is asked. */
function scripted(pages: ChainPage[]): FetchChainPage {
  let i = 0;
  return async () => pages[Math.min(i++, pages.length - 1)];
}

async function refusalOf(work: Promise<unknown>): Promise<ChainRefusal> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof ChainRefusal) return err;
  throw new Error(`expected a ChainRefusal, got ${String(err)}`);
}

describe('auditChainPages - a chain fetched page by page', () => {
  it('verifies every page from seq 1 to the reported head, asking each from the head before it', async () => {
    const node = chainOf(6);
    const calls: Array<[bigint, number]> = [];
    const audit = await auditChainPages(servedBy(node.blocks, node.signer.nodeId, calls), RULES, { pageLimit: 3, recentEntries: 4 });
    expect(calls).toEqual([
      [1n, 3],
      [4n, 3],
      [7n, 3],
    ]);
    // The same head as one verifyChain over the whole chain, and as the node's own.
    expect(audit.head).toEqual(verifyChain(node.blocks, RULES).head);
    expect(audit.head).toEqual(node.head);
    expect({ blocks: audit.blocksChecked, pages: audit.pages, reported: audit.reportedHeadSeq }).toEqual({ blocks: 7, pages: 3, reported: 7n });
    expect(audit.recent.map((e) => e.seq)).toEqual([4n, 5n, 6n, 7n]);
    expect(audit.owed).toBeUndefined();
  });

  it('asks full pages by default and stops at the reported head without asking past it', async () => {
    const node = chainOf(2);
    const calls: Array<[bigint, number]> = [];
    const audit = await auditChainPages(servedBy(node.blocks, node.signer.nodeId, calls), RULES);
    expect(calls).toEqual([[1n, CHAIN_PAGE_MAX_BLOCKS]]);
    expect(audit.recent).toHaveLength(3);
  });

  it('proves a broken hash link at the start of a later page a fork, naming the seq the node signed twice', async () => {
    const node = chainOf(5);
    const blocks = [...node.blocks];
    blocks[4] = forged(blocks[4], node.signer, (b) => {
      b.prevHash = new Uint8Array(32).fill(7);
    });
    const r = await refusalOf(auditChainPages(servedBy(blocks, node.signer.nodeId), RULES, { pageLimit: 2 }));
    expect({ reason: r.reason, seq: r.seq, code: r.code }).toEqual({ reason: 'fork', seq: 4n, code: ErrorCode.ERROR_CODE_INVALID_CHAIN });
    expect(verifyForkProof(r.forkProof ?? new Uint8Array())).toEqual({ nodeId: node.signer.nodeId, seq: 4n });
  });

  it('refuses a forged signature', async () => {
    const node = chainOf(3);
    const blocks = [...node.blocks];
    // Signed by the other node's key: the signature does not verify under the block's key.
    blocks[2] = forged(blocks[2], testSwarm(2, RULES, AT).nodes[1].signer, (b) => {
      b.amount += 1n;
    });
    const r = await refusalOf(auditChainPages(servedBy(blocks, node.signer.nodeId), RULES, { pageLimit: 2 }));
    expect({ reason: r.reason, seq: r.seq }).toEqual({ reason: 'bad-signature', seq: 3n });
  });

  it('finds a receipt repeated in a later page (the receipt ids of earlier pages are kept)', async () => {
    const swarm = testSwarm(2, RULES, AT);
    const paid = swarm.pay(1, 0, 10n, 'twice', AT + 1_000);
    const node = swarm.nodes[0];
    // The node appends the same receipt again, signing a well-linked block.
    const again = linkedBlock(node.head, node.signer, { kind: BlockKind.BLOCK_KIND_RECEIPT_IN, amount: 10n, receipt: paid, atMs: BigInt(AT + 2_000) });
    const r = await refusalOf(auditChainPages(servedBy([...node.blocks, again], node.signer.nodeId), RULES, { pageLimit: 2 }));
    expect({ reason: r.reason, seq: r.seq }).toEqual({ reason: 'duplicate-receipt', seq: 3n });
  });

  it('finds a fork within one page and carries its proof', async () => {
    const node = chainOf(3);
    const other = forged(node.blocks[2], node.signer, (b) => {
      b.atMs += 1n;
    });
    const blocks = [...node.blocks.slice(0, 3), other, node.blocks[3]];
    const r = await refusalOf(auditChainPages(scripted([{ blocks, headSeq: 4n, nodeId: node.signer.nodeId }]), RULES));
    expect({ reason: r.reason, seq: r.seq }).toEqual({ reason: 'fork', seq: 3n });
    expect(verifyForkProof(r.forkProof ?? new Uint8Array())).toEqual({ nodeId: node.signer.nodeId, seq: 3n });
  });

  it('finds a fork across two pages: the next page starts with another block of the last seq', async () => {
    const node = chainOf(3);
    const other = forged(node.blocks[2], node.signer, (b) => {
      b.amount += 1n;
    });
    const r = await refusalOf(
      auditChainPages(
        scripted([
          { blocks: node.blocks.slice(0, 3), headSeq: 4n, nodeId: node.signer.nodeId },
          { blocks: [other, node.blocks[3]], headSeq: 4n, nodeId: node.signer.nodeId },
        ]),
        RULES,
      ),
    );
    expect({ reason: r.reason, seq: r.seq }).toEqual({ reason: 'fork', seq: 3n });
    expect(verifyForkProof(r.forkProof ?? new Uint8Array())).toEqual({ nodeId: node.signer.nodeId, seq: 3n });
  });

  it('refuses the same block sent again at a page boundary as a gap, not a fork', async () => {
    const node = chainOf(3);
    const r = await refusalOf(
      auditChainPages(
        scripted([
          { blocks: node.blocks.slice(0, 3), headSeq: 4n, nodeId: node.signer.nodeId },
          { blocks: node.blocks.slice(2), headSeq: 4n, nodeId: node.signer.nodeId },
        ]),
        RULES,
      ),
    );
    expect({ reason: r.reason, forkProof: r.forkProof }).toEqual({ reason: 'gap', forkProof: undefined });
  });

  it("refuses another node's chain where the peer's was asked", async () => {
    const node = chainOf(1);
    const r = await refusalOf(auditChainPages(servedBy(node.blocks, node.signer.nodeId), RULES, { expectedNodeId: 'ab'.repeat(32) }));
    expect({ reason: r.reason, seq: r.seq }).toEqual({ reason: 'wrong-node', seq: 1n });
  });

  it('refuses a node that stops before the head it reported, and an empty chain', async () => {
    const node = chainOf(3);
    const early = await refusalOf(
      auditChainPages(
        scripted([
          { blocks: node.blocks.slice(0, 2), headSeq: 4n, nodeId: node.signer.nodeId },
          { blocks: [], headSeq: 4n, nodeId: node.signer.nodeId },
        ]),
        RULES,
      ),
    );
    expect({ reason: early.reason, seq: early.seq }).toEqual({ reason: 'gap', seq: 3n });
    const empty = await refusalOf(auditChainPages(scripted([{ blocks: [], headSeq: 0n, nodeId: '' }]), RULES));
    expect(empty.reason).toBe('bad-genesis');
  });

  it('refuses a chain longer than the bound before fetching its blocks, and a node that sends more than it reported', async () => {
    const node = chainOf(4);
    const calls: Array<[bigint, number]> = [];
    const long = await auditChainPages(servedBy(node.blocks, node.signer.nodeId, calls), RULES, { maxBlocks: 4 }).catch((e: unknown) => e);
    expect(long).toBeInstanceOf(SwarmError);
    expect((long as SwarmError).code).toBe(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE);
    expect((long as SwarmError).message).toBe(`the chain of ${node.signer.nodeId.slice(0, 12)} holds 5 blocks; an audit reads at most 4 blocks`);
    expect(calls).toHaveLength(1);
    const liar = await auditChainPages(scripted([{ blocks: node.blocks, headSeq: 2n, nodeId: 'not a node id' }]), RULES, { maxBlocks: 4 }).catch((e: unknown) => e);
    expect((liar as SwarmError).code).toBe(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE);
    expect((liar as SwarmError).message).toBe("the node's chain sent more blocks than it reported; an audit reads at most 4 blocks");
  });

  it("counts the idle burns owed by the auditor's clock without refusing the chain", async () => {
    const rules = chainRules();
    const node = chainOf(0, rules);
    // Genesis at AT; the first idle boundary is the first epoch at or after AT + the idle window.
    const firstDue = Math.ceil((AT + DEFAULT_IDLE_WINDOW_MS) / DEFAULT_EPOCH_MS) * DEFAULT_EPOCH_MS;
    const audit = await auditChainPages(servedBy(node.blocks, node.signer.nodeId), rules, { nowMs: firstDue + 2 * DEFAULT_EPOCH_MS });
    // 1% of 1,000, then of 990, then of 981 (floored).
    expect({ count: audit.owed?.count, amount: audit.owed?.amount }).toEqual({ count: 3, amount: 10n + 9n + 9n });
    expect(audit.owed?.head.balances).toMatchObject({ burned: 28n, locked: 900n - 28n, available: 100n });
    expect(audit.head.balances.burned).toBe(0n);
  });
});

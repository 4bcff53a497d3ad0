import { BlockKind } from '@swarm/contracts';
import { appendDueBurns } from './append';
import { ChainRefusal } from './chain-refusal';
import type { ChainRefusalReason } from './chain-refusal';
import { chainRules, DEFAULT_CHAIN_RULES } from './chain-rules';
import { dueBurn } from './chain-state';
import { blockOf, linkedBlock } from './test-fixtures/forge-block';
import { testSwarm } from './test-fixtures/test-swarm';
import { owedBurns, verifyChain } from './verify-chain';

const DAY = 86_400_000;
const utc = (month: number, day: number, hour = 0) => Date.UTC(2025, month - 1, day, hour);

/** 10 s epochs, idle after 30 s without a RECEIPT_IN, 10% per idle epoch. */
const RULES = chainRules({ genesisGrant: 1_000n, starterAllowance: 100n, epochMs: 10_000, idleWindowMs: 30_000, drainPpm: 100_000 });
const T0 = 1_700_000_000_000; // a multiple of the epoch

function refused(blocks: readonly Uint8Array[], reason: ChainRefusalReason): ChainRefusal {
  try {
    verifyChain(blocks, RULES);
  } catch (err) {
    if (err instanceof ChainRefusal) {
      expect(err.reason).toBe(reason);
      return err;
    }
    throw err;
  }
  throw new Error('expected a ChainRefusal');
}

describe('idle drain - when burns fall due', () => {
  it('burns nothing within the grace window after genesis, then 10% at each idle boundary, locked first', () => {
    const swarm = testSwarm(1, RULES, T0 + 1);
    const node = swarm.nodes[0];
    swarm.burn(0, T0 + 30_000);
    expect(node.blocks).toHaveLength(1);
    // First boundary at or after genesis + window (T0 + 30 001) is T0 + 40 000.
    expect(dueBurn(node.head, RULES)).toEqual({ atMs: BigInt(T0 + 40_000), amount: 100n });
    swarm.burn(0, T0 + 60_000);
    expect(node.blocks.slice(1).map((b) => [blockOf(b).atMs, blockOf(b).amount])).toEqual([
      [BigInt(T0 + 40_000), 100n],
      [BigInt(T0 + 50_000), 90n],
      [BigInt(T0 + 60_000), 81n],
    ]);
    expect(node.head.balances).toEqual({ available: 100n, locked: 629n, burned: 271n, received: 0n, paid: 0n, pledged: 0n });
    expect(verifyChain(node.blocks, RULES).head).toEqual(node.head);
  });

  it('takes from available once nothing is locked, and stops when 10% rounds to zero', () => {
    const swarm = testSwarm(2, RULES, T0);
    swarm.pay(1, 0, 5n, 'serve', T0 + 1_000); // node 0 unlocks: 1 005 available
    swarm.burn(0, T0 + 1_000_000);
    const burns = swarm.nodes[0].blocks.filter((b) => blockOf(b).kind === BlockKind.BLOCK_KIND_BURN).map((b) => blockOf(b).amount);
    expect(burns.slice(0, 3)).toEqual([100n, 90n, 81n]);
    expect(swarm.nodes[0].head.balances.locked).toBe(0n);
    expect(swarm.nodes[0].head.balances.available).toBe(9n);
    expect(dueBurn(swarm.nodes[0].head, RULES)).toBeUndefined();
    expect(verifyChain(swarm.nodes[0].blocks, RULES).head.balances.burned).toBe(996n);
  });

  it('burns nothing while the node serves at least once per window', () => {
    const swarm = testSwarm(2, RULES, T0);
    for (let t = 10_000; t <= 200_000; t += 25_000) swarm.pay(1, 0, 1n, `s${t}`, T0 + t);
    expect(swarm.nodes[0].head.balances.burned).toBe(0n);
    expect(swarm.nodes[1].head.balances.burned).toBeGreaterThan(0n);
    for (const n of swarm.nodes) expect(verifyChain(n.blocks, RULES).head).toEqual(n.head);
  });

  it('counts the burns a node owes by the auditor’s clock without refusing its chain', () => {
    const swarm = testSwarm(1, RULES, T0);
    const audit = verifyChain(swarm.nodes[0].blocks, RULES, { nowMs: T0 + 50_000 });
    expect(audit.owed).toMatchObject({ count: 3, amount: 271n });
    expect(owedBurns(audit.head, RULES, T0 + 29_999).count).toBe(0);
  });
});

describe('idle drain - an audit catches a skipped or wrong burn', () => {
  it('refuses a block past a due boundary without the BURN before it', () => {
    const swarm = testSwarm(2, RULES, T0);
    const node = swarm.nodes[0];
    const signed = swarm.receipt(1, 0, 5n, 'late', T0 + 45_000);
    const skipping = linkedBlock(node.head, node.signer, { kind: BlockKind.BLOCK_KIND_RECEIPT_IN, amount: 5n, receipt: signed, atMs: BigInt(T0 + 45_000) });
    expect(refused([...node.blocks, skipping], 'missing-burn').message).toContain(`100 due at ${T0 + 30_000}`);
  });

  it('refuses a BURN of the wrong amount, at the wrong time, or when none is due', () => {
    const swarm = testSwarm(1, RULES, T0);
    const node = swarm.nodes[0];
    const burn = (amount: bigint, atMs: number) => linkedBlock(node.head, node.signer, { kind: BlockKind.BLOCK_KIND_BURN, amount, atMs: BigInt(atMs) });
    refused([...node.blocks, burn(99n, T0 + 30_000)], 'wrong-burn');
    refused([...node.blocks, burn(100n, T0 + 35_000)], 'wrong-burn');
    refused([...node.blocks, burn(100n, T0 + 20_000)], 'wrong-burn');
    expect(verifyChain([...node.blocks, burn(100n, T0 + 30_000)], RULES).head.balances.burned).toBe(100n);
  });

  it('appends the burns due before a receipt block on its own', () => {
    const swarm = testSwarm(2, RULES, T0);
    swarm.pay(1, 0, 5n, 'after-idle', T0 + 45_000);
    const kinds = swarm.nodes[0].blocks.map((b) => blockOf(b).kind);
    expect(kinds).toEqual([BlockKind.BLOCK_KIND_GENESIS, BlockKind.BLOCK_KIND_BURN, BlockKind.BLOCK_KIND_BURN, BlockKind.BLOCK_KIND_RECEIPT_IN]);
    expect(verifyChain(swarm.nodes[0].blocks, RULES).head).toEqual(swarm.nodes[0].head);
  });
});

describe('idle drain - the worked example of docs/chain.md (default rules)', () => {
  it('burns 9 a day from 9 Jan until the node serves, then from 19 Jan', () => {
    expect(DEFAULT_CHAIN_RULES).toMatchObject({ genesisGrant: 1_000n, starterAllowance: 100n, epochMs: DAY, idleWindowMs: 7 * DAY, drainPpm: 10_000 });
    const swarm = testSwarm(2, DEFAULT_CHAIN_RULES, utc(1, 1, 10));
    const a = swarm.nodes[0];
    swarm.pay(0, 1, 34n, 'matmul-256', utc(1, 2, 12));
    expect(a.head.balances).toMatchObject({ available: 66n, locked: 900n });
    expect(dueBurn(a.head, DEFAULT_CHAIN_RULES)).toEqual({ atMs: BigInt(utc(1, 9)), amount: 9n });
    swarm.pay(1, 0, 50n, 'served', utc(1, 11, 15));
    const burns = a.blocks.filter((b) => blockOf(b).kind === BlockKind.BLOCK_KIND_BURN).map((b) => [Number(blockOf(b).atMs), blockOf(b).amount]);
    expect(burns).toEqual([
      [utc(1, 9), 9n],
      [utc(1, 10), 9n],
      [utc(1, 11), 9n],
    ]);
    expect(a.head.balances).toEqual({ available: 989n, locked: 0n, burned: 27n, received: 50n, paid: 34n, pledged: 0n });
    expect(dueBurn(a.head, DEFAULT_CHAIN_RULES)).toEqual({ atMs: BigInt(utc(1, 19)), amount: 9n });
    const later = appendDueBurns(a.head, a.signer, DEFAULT_CHAIN_RULES, utc(1, 21));
    expect(later.blocks.map((b) => blockOf(b).amount)).toEqual([9n, 9n, 9n]);
    expect(later.head.balances.available).toBe(989n - 27n);
    expect(verifyChain([...a.blocks, ...later.blocks], DEFAULT_CHAIN_RULES).head).toEqual(later.head);
  });
});

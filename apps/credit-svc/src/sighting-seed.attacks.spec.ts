/**
 * helper-156's attack on the first publish after a start (sighting-watch.ts ownInDht / publishNow):
 * the find it makes to go no lower than what the DHT holds read the answer's sightings only, so an
 * answer that left some out (truncated) was taken as "none held" and the node published from what
 * its file kept, lower, into its one slot. It reads the answer's `own` now.
 */
import { makeChainSighting } from '@swarm/chain';
import { ChainBlock, ChainSighting, ErrorCode, SignedBlock, SignedChainSighting, SwarmError } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { Anchor } from './payer-views';
import { startPayerViews } from './payer-views';
import { SIGHTING_TTL_MS } from './sighting-publisher';
import { startSightingWatch } from './sighting-watch';
import { node, rules, spender, START_MS } from './test-fixtures/chains';

const MINUTE = 60_000;
const seqOfSighting = (s: SignedChainSighting) => ChainBlock.decode(ChainSighting.decode(s.sighting).payerBlock!.block).seq;

describe('ATTACK (helper-156): the first publish after a start', () => {
  it("H3: own sighting held at the head but left out of a truncated answer: the restarted payee goes no lower than it, not to its file's lower block", async () => {
    const me = node();
    const payer = spender(node(), 3);
    const h = payer.head.seq;
    // The file kept an older anchor (seq h-2); the DHT holds this node's sighting of the head h, signed 30 min before the restart.
    const kept = payer.blocks.length - 3;
    const anchor: Anchor = { seq: ChainBlock.decode(SignedBlock.decode(payer.blocks[kept]).block).seq, block: payer.blocks[kept] };
    const vt = virtualTime(START_MS + 10_000 + 2 * 60 * MINUTE);
    const mine = SignedChainSighting.decode(makeChainSighting(me.signer, payer.blocks[payer.blocks.length - 1], { atMs: vt.clock.now() - 30 * MINUTE, ttlMs: SIGHTING_TTL_MS }));
    // 256 others (made-up payees, of the prefix) fill the answer; the one left out is this node's.
    const others = Array.from({ length: 256 }, () =>
      SignedChainSighting.decode(makeChainSighting(node().signer, payer.blocks[1], { atMs: vt.clock.now() - MINUTE, ttlMs: SIGHTING_TTL_MS })),
    );
    const slot: { mine: SignedChainSighting } = { mine };
    const fetchChain = () => async () => {
      throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no chain reads here (test)', true);
    };
    const views = startPayerViews({ rules, fetchChain, ...vt, anchors: [[payer.id, anchor]], onFork: () => undefined, onAudited: () => undefined });
    const watch = startSightingWatch({
      views,
      fetchChain,
      publish: async (s) => {
        slot.mine = s;
        return { stored: 1, refused: 0 };
      },
      find: async () => ({ sightings: others, ownHeldSeqs: [seqOfSighting(slot.mine)], truncated: true, own: slot.mine }),
      signer: me.signer,
      nodeId: me.id,
      powDifficulty: 0,
      ...vt,
      log: silentLogger(),
    });
    watch.republish([payer.id]);
    await vt.advance(1_000);
    await watch.idle();
    // Defence (helper-154): a restarted payee's sighting goes no lower than the one the DHT holds.
    expect({ slotSeq: seqOfSighting(slot.mine), anchorSeq: anchor.seq }).toEqual({ slotSeq: h, anchorSeq: anchor.seq });
    watch.stop();
  });
});

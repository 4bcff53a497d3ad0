/**
 * For the sighting watch's tests: other payees' sightings put in a DHT map, a second block of a
 * payer's seq (its other branch), and a read of a payer's chain followed by the watch's look.
 */
import { makeChainSighting } from '@swarm/chain';
import { ChainBlock, ChainSighting, SignedChainSighting } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import type { PayerViews } from '../payer-views';
import type { FoundSightings } from '../sighting-publisher';
import type { SightingWatch } from '../sighting-watch';
import { MIN_LOOK_INTERVAL_MS } from '../sighting-watch';
import type { Node } from './chains';
import { resigned } from './chains';
import type { SightingsDht } from './registry-stand-in';

/** `other`'s sighting of `block` (a SignedBlock of payer `payerId`), signed at `atMs`, put in its slot in `dht`. */
export function putSighting(dht: SightingsDht, payerId: string, other: Node, block: Uint8Array, atMs: number, ttlMs: number): void {
  const signed = SignedChainSighting.decode(makeChainSighting(other.signer, block, { atMs, ttlMs }));
  const slots = dht.get(payerId) ?? new Map<string, SignedChainSighting>();
  slots.set(other.id, signed);
  dht.set(payerId, slots);
}

/** What a lookup of `payerId`'s sightings in `dht` finds, as node `nodeId` asks (one other holder, holding every slot). */
export function foundIn(dht: SightingsDht, payerId: string, nodeId: string): FoundSightings {
  const slots = dht.get(payerId);
  const own = slots?.get(nodeId);
  const ownHeldSeq = own ? ChainBlock.decode(ChainSighting.decode(own.sighting).payerBlock?.block ?? new Uint8Array()).seq : 0n;
  return { sightings: [...(slots?.values() ?? [])], ownHeldSeqs: slots ? [ownHeldSeq] : [], truncated: false, ...(own ? { own } : {}) };
}

/** Block `seq` of `payer`'s chain signed again with another time: a second block of that seq, the other branch's. */
export const otherBlockAt = (payer: Node, seq: number): Uint8Array => resigned(payer.blocks[seq - 1], payer.signer, (b) => void (b.atMs += 1n));

/** Reads the payer's chain (as a receipt would have it read), then lets the watch look. */
export async function readAndLook(
  s: { readonly vt: VirtualTime; readonly views: Pick<PayerViews, 'readOn' | 'idle'>; readonly watch: Pick<SightingWatch, 'idle'> },
  payer: Node,
): Promise<void> {
  await s.views.readOn(payer.id);
  await s.views.idle();
  await s.vt.advance(MIN_LOOK_INTERVAL_MS);
  await s.watch.idle();
}

/**
 * For the sighting watch's tests: other payees' sightings put in a DHT map, a second block of a
 * payer's seq (its other branch), and a read of a payer's chain followed by the watch's look.
 */
import { makeChainSighting } from '@swarm/chain';
import { ChainBlock, ChainSighting, SignedChainSighting } from '@swarm/contracts';
import type { VirtualTime } from '@swarm/determinism';
import { silentLogger } from '@swarm/telemetry';
import type { PayerViews, PayerViewsDeps } from '../payer-views';
import { startPayerViews } from '../payer-views';
import type { FoundSightings } from '../sighting-publisher';
import type { SightingWatch, SightingWatchDeps } from '../sighting-watch';
import { MIN_LOOK_INTERVAL_MS, startSightingWatch } from '../sighting-watch';
import type { Node } from './chains';
import { resigned, rules } from './chains';
import type { SightingsDht } from './registry-stand-in';

/** `signed` put in its payee's slot under its payer in `dht` (replacing that payee's last), as a registry stores it. */
export function storeIn(dht: SightingsDht, signed: SignedChainSighting): void {
  const { payerId, payeeId } = ChainSighting.decode(signed.sighting);
  const slots = dht.get(payerId) ?? new Map<string, SignedChainSighting>();
  slots.set(payeeId, signed);
  dht.set(payerId, slots);
}

/** `other`'s sighting of `block` (a SignedBlock of payer `payerId`), signed at `atMs`, put in its slot in `dht`. */
export function putSighting(dht: SightingsDht, payerId: string, other: Node, block: Uint8Array, atMs: number, ttlMs: number): void {
  const signed = SignedChainSighting.decode(makeChainSighting(other.signer, block, { atMs, ttlMs }));
  if (ChainSighting.decode(signed.sighting).payerId !== payerId) throw new RangeError(`the block is not payer ${payerId.slice(0, 12)}'s`);
  storeIn(dht, signed);
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

/**
 * Node `me`'s payer views and sighting watch over them, wired as service.ts wires them: one read of
 * payers' chains (`fetchChain`) for both, the views telling the watch of pages audited and, with
 * `hold`, asking it before a receipt's turn.
 */
export function startViewsAndWatch(
  me: Node,
  vt: VirtualTime,
  deps: Pick<SightingWatchDeps, 'fetchChain' | 'publish' | 'find' | 'readBacksPerLook'> &
    Pick<PayerViewsDeps, 'restored' | 'anchors' | 'limits' | 'onFork'> & { readonly hold?: boolean },
): { readonly views: PayerViews; readonly watch: SightingWatch } {
  const { fetchChain, publish, find, readBacksPerLook, restored, anchors, limits, onFork, hold } = deps;
  // Set once the watch starts; the views tell it of pages audited.
  const late: { watch?: SightingWatch } = {};
  const views = startPayerViews({
    rules,
    fetchChain,
    ...vt,
    ...(restored ? { restored } : {}),
    ...(anchors ? { anchors } : {}),
    ...(limits ? { limits } : {}),
    ...(onFork ? { onFork } : {}),
    onAudited: (p) => late.watch?.touched(p),
    ...(hold
      ? {
          sightings: {
            clear: async (p: string, atLeast: bigint, budgetMs: number) => (await late.watch?.clear(p, atLeast, budgetMs)) ?? false,
            cleared: (p: string) => late.watch?.cleared(p) ?? 0n,
          },
        }
      : {}),
  });
  const watch = startSightingWatch({
    views,
    fetchChain,
    publish,
    find,
    signer: me.signer,
    nodeId: me.id,
    powDifficulty: 0,
    ...(readBacksPerLook === undefined ? {} : { readBacksPerLook }),
    ...vt,
    log: silentLogger(),
  });
  late.watch = watch;
  return { views, watch };
}

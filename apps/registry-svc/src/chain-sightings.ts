/**
 * Payees' sightings of payers' chains in the DHT (docs/chain.md "Sightings"): credit-svc signs this
 * node's (it holds the node key in every deployment; registry-svc may not), registry-svc adds the
 * node's proof-of-work nonce and stores it once under `sighting/<payer id>` on the k closest nodes
 * (credit-svc signs it again before it expires), and finds the others' there. Each payee has one
 * slot per payer (the provider store's per-provider record, a newer one replacing it); a sighting is
 * checked on every store and every read (libs/chain verifyChainSighting), so nothing a peer sent is
 * handed over unchecked. Pure but for the DHT, which is injected.
 */
import type { VerifiedSighting } from '@swarm/chain';
import { ChainRefusal, verifyChainSighting, withPowNonce } from '@swarm/chain';
import type { FindChainSightingsRequest, FindChainSightingsResponse, PublishChainSightingRequest, PublishChainSightingResponse } from '@swarm/contracts';
import { ChainSighting, ErrorCode, SignedChainSighting, SwarmError } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import type { DhtNode, RecordVerdict } from '@swarm/dht';
import { DEFAULT_PROVIDER_STORE_LIMITS } from '@swarm/dht';
import { NODE_ID_PATTERN } from '@swarm/gateway';

/** Sighting keys hold a '/', as node keys do, with a prefix of their own: neither collides with a skill name. */
export const SIGHTING_KEY_PREFIX = 'sighting/';
/** Holders a lookup of sightings hears before it stops (this node, when it holds some, and three more; all there are in a smaller swarm). */
export const SIGHTING_HOLDERS = 4;
/**
 * The most sightings one answer carries: a key's slots (256, one per payee) at each list a lookup
 * merges, this node's own store, SIGHTING_HOLDERS others and those answering at once with the last
 * (up to DEFAULT_CONCURRENCY − 1): 7 lists, rounded up to 8 (helper-156: fillers spread over the
 * holders froze an honest payer when an answer carried 256).
 */
export const MAX_SIGHTINGS_FOUND = 8 * DEFAULT_PROVIDER_STORE_LIMITS.maxProvidersPerKey;
/** And their bytes, under the bus's 8 MiB: sightings of an honest payer's blocks are a few hundred bytes each. */
export const MAX_SIGHTINGS_FOUND_BYTES = 6 * 1024 * 1024;

export function sightingKey(payerId: string): string {
  return `${SIGHTING_KEY_PREFIX}${payerId}`;
}

/** The DHT's verdict on a value stored or read under a sighting key: the payee is the provider. */
export function checkSightingRecord(key: string, value: Uint8Array, nowMs: number, powDifficulty: number): RecordVerdict {
  try {
    const s = verifyChainSighting(value, { nowMs, powDifficulty, expectedPayer: payerOfKey(key) });
    return { ok: true, provider: s.payee, issuedAtMs: s.issuedAtMs, expiresAtMs: s.expiresAtMs, rank: s.seq };
  } catch (err) {
    if (err instanceof ChainRefusal) return { ok: false, reason: err.message };
    throw err;
  }
}

function payerOfKey(key: string): string {
  const payer = key.slice(SIGHTING_KEY_PREFIX.length);
  if (!NODE_ID_PATTERN.test(payer)) throw new ChainRefusal('bad-sighting', `'${key.slice(0, 80)}' is not ${SIGHTING_KEY_PREFIX}<64 hex node id>`);
  return payer;
}

/**
 * This node's own sighting of `payer` in `values` (a holder's list, or every holder's newest), its
 * seq and bytes; undefined when none there is valid. Only this node's is opened: the others' are
 * checked in find.
 */
function ownIn(values: readonly Uint8Array[], payer: string, nodeId: string, nowMs: number, powDifficulty: number): { seq: bigint; value: Uint8Array } | undefined {
  let best: { seq: bigint; value: Uint8Array } | undefined;
  for (const value of values) {
    try {
      if (payeeOf(SignedChainSighting.decode(value)) !== nodeId) continue;
      const seq = verifyChainSighting(value, { nowMs, powDifficulty, expectedPayer: payer }).seq;
      if (best === undefined || seq > best.seq) best = { seq, value };
    } catch {
      // Not a valid sighting: not this node's either.
    }
  }
  return best;
}

/** The payee a sighting names, unverified ('' when it names none). */
function payeeOf(signed: SignedChainSighting): string {
  try {
    return ChainSighting.decode(signed.sighting).payeeId;
  } catch {
    return '';
  }
}

export interface ChainSightingsDeps {
  /** The running DHT node, undefined until it runs. */
  readonly dht: () => { readonly node: DhtNode; readonly nodeId: string; readonly powNonce: bigint } | undefined;
  readonly powDifficulty: number;
  readonly clock: WallClock;
}

export interface ChainSightings {
  publish(request: PublishChainSightingRequest): Promise<PublishChainSightingResponse>;
  find(request: FindChainSightingsRequest): Promise<FindChainSightingsResponse>;
}

export function createChainSightings(deps: ChainSightingsDeps): ChainSightings {
  const running = () => {
    const dht = deps.dht();
    if (!dht) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the DHT has not started yet (waiting for the gateway)', true);
    return dht;
  };
  const refused = (err: unknown): never => {
    if (err instanceof ChainRefusal) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `not a valid sighting: ${err.message.slice(0, 300)}`);
    throw err;
  };

  return {
    async publish(request) {
      if (request.sighting === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'sighting is required');
      const { node, nodeId, powNonce } = running();
      // This node's nonce vouches for this node's sightings only.
      const payee = payeeOf(request.sighting);
      if (payee !== nodeId) throw new SwarmError(ErrorCode.ERROR_CODE_PERMISSION_DENIED, `a sighting of ${payee.slice(0, 12) || 'no payee'}, not of this node`);
      let bytes: Uint8Array;
      let sighting: VerifiedSighting;
      try {
        bytes = withPowNonce(SignedChainSighting.encode(request.sighting).finish(), powNonce);
        sighting = verifyChainSighting(bytes, { nowMs: deps.clock.now(), powDifficulty: deps.powDifficulty });
      } catch (err) {
        return refused(err);
      }
      const report = await node.store(sightingKey(sighting.payer), bytes);
      // Other nodes only: this node's own copy is no witness to another payee.
      return { stored: report.storedRemotely, refused: report.refused, unreachable: report.unreachable };
    },

    async find(request) {
      if (!NODE_ID_PATTERN.test(request.payerId)) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'payer_id must be 64 lowercase hex characters');
      const { node, nodeId } = running();
      // More holders than a skill's lookup hears, and every sighting each holds, page by page (a
      // reply carries 64 KiB, a random selection past that): a payee's sighting missed lets a fork through.
      const found = await node.findProviders(sightingKey(request.payerId), { holders: SIGHTING_HOLDERS, complete: true });
      // Nothing but this node's own store: no other payee's sighting could have been heard, and "none" would pass for "none there".
      if (found.answered < 1) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'no other DHT node answered the lookup of sightings', true);
      const nowMs = deps.clock.now();
      const sightings: SignedChainSighting[] = [];
      let bytes = 0;
      // A holder whose read broke off past its first page (cut off) misses from the answer: so may another payee's sighting.
      let truncated = found.cutOff > 0;
      for (const value of found.values) {
        // Each was checked as the DHT took it from its holder (its validator is checkSightingRecord):
        // not again here, where 2,048 of them took a second of one thread (helper-158).
        // Past the caps (every holder heard full of others' sightings, each large), whichever came
        // first is kept: the answer says so, and its reader does not clear on it (helper-155).
        if (sightings.length >= MAX_SIGHTINGS_FOUND || bytes + value.byteLength > MAX_SIGHTINGS_FOUND_BYTES) {
          truncated = true;
          break;
        }
        bytes += value.byteLength;
        sightings.push(SignedChainSighting.decode(value));
      }
      const own = ownIn(found.values, request.payerId, nodeId, nowMs, deps.powDifficulty);
      const ownHeldSeqs = found.remoteHolders.map((held) => ownIn(held, request.payerId, nodeId, nowMs, deps.powDifficulty)?.seq ?? 0n);
      return { sightings, ownHeldSeqs, truncated, ...(own ? { own: SignedChainSighting.decode(own.value) } : {}) };
    },
  };
}

/**
 * For credit-svc's integration tests: a registry-svc stand-in on a node's bus that stores and finds
 * payees' sightings of payers' chains in `dht` (one map shared by every node of a test, as the DHT
 * would be), checking each as registry-svc does (difficulty 0: no proof of work needed).
 */
import type { BusService } from '@swarm/bus';
import { startBusService } from '@swarm/bus';
import { verifyChainSighting } from '@swarm/chain';
import type { SignedChainSighting } from '@swarm/contracts';
import { ErrorCode, RegistryFindChainSightings, RegistryPublishChainSighting, SignedChainSighting as SignedChainSightingCodec, SwarmError } from '@swarm/contracts';
import { silentLogger } from '@swarm/telemetry';
import type { NatsConnection } from 'nats';
import { foundIn, storeIn } from './sightings';

/** payer id -> payee id -> its latest sighting. */
export type SightingsDht = Map<string, Map<string, SignedChainSighting>>;

/** registry-svc's sighting calls over `dht`; finds fail while `findsFail()` (a node on the payer's key stalling them). */
export async function serveSightings(nc: NatsConnection, nodeId: string, dht: SightingsDht, findsFail: () => boolean = () => false): Promise<BusService> {
  const registry = await startBusService({ nc, log: silentLogger(), name: 'registry-svc', version: '0.0.0', description: 'registry stand-in', nodeId });
  registry.serve(RegistryPublishChainSighting, (req) => {
    if (req.sighting === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'sighting is required (test)');
    verifyChainSighting(SignedChainSightingCodec.encode(req.sighting).finish(), { nowMs: Date.now(), powDifficulty: 0 });
    storeIn(dht, req.sighting);
    return { stored: 3, refused: 0, unreachable: 0 };
  });
  registry.serve(RegistryFindChainSightings, (req) => {
    if (findsFail()) throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the lookup heard no holder in time (test)', true);
    return foundIn(dht, req.payerId, nodeId);
  });
  return registry;
}

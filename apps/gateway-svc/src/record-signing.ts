/**
 * `swarm.v1.gateway.sign-record`: the gateway alone holds the node key, so registry-svc (the only
 * role the bus lets ask, libs/contracts bus-roles) sends what it advertises and gets this node's
 * SignedNodeRecord: the node id and key, this gateway's advertised address and the proof-of-work
 * nonce filled in here. The last record is kept so issued-at strictly increases even within one
 * millisecond or after the clock steps back (peers refuse a record not newer than the one they hold).
 */
import type { NodeRecord, SignRecordRequest } from '@swarm/contracts';
import { ErrorCode, isSwarmError, SignedNodeRecord, SwarmError } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import type { RecordSigner } from '@swarm/records';
import { createRecord, DEFAULT_MAX_TTL_MS } from '@swarm/records';

/** A sign request holds at most MAX_SKILLS short skills (a signed record is under 8 KiB). */
export const MAX_SIGN_REQUEST_BYTES = 16 * 1024;

export interface RecordSigningDeps {
  readonly signer: RecordSigner;
  /** From loadOrCreatePowNonce for this node's id at the configured difficulty. */
  readonly powNonce: bigint;
  /** This gateway's advertised host:port. */
  readonly gatewayAddress: string;
  readonly clock: WallClock;
}

export interface RecordSigning {
  sign(request: SignRecordRequest): SignedNodeRecord;
}

export function createRecordSigning(deps: RecordSigningDeps): RecordSigning {
  let previous: NodeRecord | undefined;
  return {
    sign(request) {
      const { ttlMs, resources } = request;
      if (ttlMs < 1n || ttlMs > BigInt(DEFAULT_MAX_TTL_MS)) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `ttl_ms must be 1..${DEFAULT_MAX_TTL_MS}, got ${ttlMs}`);
      if (resources === undefined) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'resources must be present');
      const fields = {
        gatewayAddress: deps.gatewayAddress,
        skills: request.skills,
        capacity: request.capacity,
        load: request.load,
        resources,
        powNonce: deps.powNonce,
        ttlMs: Number(ttlMs),
      };
      let made;
      try {
        made = createRecord(fields, deps.signer, deps.clock, { previous });
      } catch (err) {
        // The field rules' messages name the rule and only checked values, never the raw input.
        if (isSwarmError(err)) throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `cannot sign this record: ${err.message}`, false, { cause: err });
        throw err;
      }
      previous = made.record;
      return SignedNodeRecord.decode(made.bytes);
    },
  };
}

/**
 * Why a record was refused: a stable `reason` for logs, metrics and tests, and the SwarmError code a
 * peer sees. Messages name the rule and only values already checked (ids, times), never raw peer text.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';

export type RefusalReason =
  /** More bytes than the limit; refused before decoding. */
  | 'oversized'
  /** Not a SignedNodeRecord / NodeRecord in protobuf, or the envelope carries extra bytes. */
  | 'malformed'
  /** The signature does not verify under the record's own public key (tampered, or signed by another key). */
  | 'bad-signature'
  /** node_id is not sha256(public_key). */
  | 'id-mismatch'
  /** A valid record, but of another node than the one asked for or stored under. */
  | 'unexpected-id'
  /** pow_nonce does not meet the difficulty for this node id. */
  | 'bad-pow'
  /** A field is empty, malformed or out of range. */
  | 'invalid-field'
  /** expires_at_ms has passed. */
  | 'expired'
  /** issued_at_ms is later than now plus the allowed clock skew. */
  | 'from-future'
  /** Not newer than the record already held for that node. */
  | 'stale';

const CODE_OF: Readonly<Record<RefusalReason, ErrorCode>> = {
  oversized: ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
  malformed: ErrorCode.ERROR_CODE_MALFORMED_MESSAGE,
  'bad-signature': ErrorCode.ERROR_CODE_INVALID_RECORD,
  'id-mismatch': ErrorCode.ERROR_CODE_INVALID_RECORD,
  'unexpected-id': ErrorCode.ERROR_CODE_INVALID_RECORD,
  'bad-pow': ErrorCode.ERROR_CODE_INVALID_RECORD,
  'invalid-field': ErrorCode.ERROR_CODE_INVALID_RECORD,
  expired: ErrorCode.ERROR_CODE_INVALID_RECORD,
  'from-future': ErrorCode.ERROR_CODE_INVALID_RECORD,
  stale: ErrorCode.ERROR_CODE_STALE_RECORD,
};

export class RecordRefusal extends SwarmError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(CODE_OF[reason], `node record refused (${reason}): ${message}`);
    this.name = 'RecordRefusal';
  }
}

export function refuse(reason: RefusalReason, message: string): RecordRefusal {
  return new RecordRefusal(reason, message);
}

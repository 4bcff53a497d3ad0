/**
 * A provider's signed answer to a task another node sent it (proto SignedExecuteResponse). The
 * signature covers a domain tag, the sha256 of the exact encoded request and the exact encoded
 * response, under the provider's node key: a result cannot be passed off as another node's, nor
 * replayed as the answer to another request, nor altered on the way. Verifying needs no key store
 * (the node id is the hash of the key the envelope carries), so it belongs in the pure core; signing
 * stays with whoever holds the key (a RecordSigner, e.g. libs/identity's NodeIdentity).
 */
import type { SignedExecuteResponse } from '@swarm/contracts';
import { ErrorCode, EXECUTE_RESPONSE_LIMITS, ExecuteRequest, ExecuteResponse, refuseOverfullMessage, SwarmError } from '@swarm/contracts';
import { createHash } from 'node:crypto';
import type { RecordSigner } from './create-record';
import { nodeIdOfKey, SIGNATURE_BYTES, verifyEd25519 } from './node-key';
import { PUBLIC_KEY_BYTES } from './record-rules';
import { SERVE_TICKET_BYTES } from './serve-ticket';

/** Separates result signatures from every other use of the node key (records, TLS). */
export const RESULT_DOMAIN = 'swarm-result-v1';
const DOMAIN_BYTES = Buffer.from(RESULT_DOMAIN, 'utf8');
/** Enough of an id or a value to recognise it in a message; a peer's text is never quoted whole. */
const SHOWN_CHARS = 64;

export type ResultRefusalReason =
  /** The public key is not 32 bytes, or does not hash to the node id the task was sent to. */
  | 'wrong-key'
  /** The signature does not verify: altered bytes, another key, or a result for another request. */
  | 'bad-signature'
  /** Signed, but the response bytes are not an ExecuteResponse. */
  | 'malformed'
  /** Signed, but the response answers another task id than the request's. */
  | 'task-mismatch'
  /** No 32-byte serve ticket beside it: the receipt that pays the provider could never be countersigned. */
  | 'no-ticket';

/**
 * Why a signed result was refused. VERIFICATION_FAILED (retryable): the task itself may still
 * succeed on another provider, so the router re-dispatches rather than failing it.
 */
export class ResultRefusal extends SwarmError {
  constructor(
    readonly reason: ResultRefusalReason,
    message: string,
  ) {
    super(ErrorCode.ERROR_CODE_VERIFICATION_FAILED, `signed result refused (${reason}): ${message}`);
    this.name = 'ResultRefusal';
  }
}

export type ResultCheck = { readonly ok: true; readonly response: ExecuteResponse } | { readonly ok: false; readonly refusal: ResultRefusal };

/** What a result signature covers: "swarm-result-v1" ‖ sha256(request bytes) ‖ response bytes. */
export function resultSigningBytes(requestBytes: Uint8Array, responseBytes: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(requestBytes).digest();
  return Buffer.concat([DOMAIN_BYTES, digest, responseBytes]);
}

/** The one encoding of a task both ends hash: what the submitter sent, as the provider decoded it. */
export function encodeTask(task: ExecuteRequest): Uint8Array {
  return ExecuteRequest.encode(task).finish();
}

/** Signs `response` as the answer to the task whose encoding is `requestBytes`; `serveTicket` (serve-ticket.ts) rides beside it, unsigned. */
export function signResult(requestBytes: Uint8Array, response: ExecuteResponse, signer: RecordSigner, serveTicket: Uint8Array = new Uint8Array(0)): SignedExecuteResponse {
  const responseBytes = ExecuteResponse.encode(response).finish();
  return { response: responseBytes, signature: signer.sign(resultSigningBytes(requestBytes, responseBytes)), publicKey: Uint8Array.from(signer.publicKey), serveTicket };
}

/**
 * Checks that `signed` is `expectedNodeId`'s answer to exactly the task `requestBytes` encodes, and
 * decodes it. Cheap checks first: the key's hash before the signature, the signature before decoding.
 * Throws INVALID_ARGUMENT only for the caller's own mistakes (bytes that are no ExecuteRequest).
 */
export function verifySignedResult(signed: SignedExecuteResponse, expectedNodeId: string, requestBytes: Uint8Array): ResultCheck {
  let request: ExecuteRequest;
  try {
    request = ExecuteRequest.decode(requestBytes);
  } catch (err) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'verifySignedResult: the request bytes are not an ExecuteRequest', false, { cause: err });
  }
  const expected = short(expectedNodeId);
  if (signed.publicKey.length !== PUBLIC_KEY_BYTES) return refused('wrong-key', `public_key must be ${PUBLIC_KEY_BYTES} bytes, got ${signed.publicKey.length}`);
  const signer = nodeIdOfKey(signed.publicKey);
  if (signer !== expectedNodeId) return refused('wrong-key', `signed by node ${short(signer)}, but the task was sent to ${expected}`);
  if (signed.signature.length !== SIGNATURE_BYTES) return refused('bad-signature', `signature must be ${SIGNATURE_BYTES} bytes, got ${signed.signature.length}`);
  if (!verifyEd25519(signed.publicKey, resultSigningBytes(requestBytes, signed.response), signed.signature)) {
    return refused('bad-signature', `the signature of ${expected} does not cover this response to this request (altered, or an answer to another request)`);
  }
  let response: ExecuteResponse;
  try {
    // Counted before it is decoded: a provider could sign millions of empty outputs (contracts wire-counts.ts).
    refuseOverfullMessage(signed.response, EXECUTE_RESPONSE_LIMITS, 'swarm.v1.ExecuteResponse');
    response = ExecuteResponse.decode(signed.response);
  } catch {
    return refused('malformed', `${expected} signed ${signed.response.length} bytes that are not an ExecuteResponse a task may have`);
  }
  if (response.taskId !== request.taskId) {
    return refused('task-mismatch', `${expected} answered task '${response.taskId.slice(0, SHOWN_CHARS)}', not '${request.taskId.slice(0, SHOWN_CHARS)}'`);
  }
  if (signed.serveTicket.length !== SERVE_TICKET_BYTES) {
    return refused('no-ticket', `${expected} gave a ${signed.serveTicket.length}-byte serve ticket, not ${SERVE_TICKET_BYTES}: it could never be paid for this result`);
  }
  return { ok: true, response };
}

/** verifySignedResult for callers that fail on a refusal: the decoded response, or the refusal thrown. */
export function openSignedResult(signed: SignedExecuteResponse, expectedNodeId: string, requestBytes: Uint8Array): ExecuteResponse {
  const check = verifySignedResult(signed, expectedNodeId, requestBytes);
  if (!check.ok) throw check.refusal;
  return check.response;
}

function refused(reason: ResultRefusalReason, message: string): ResultCheck {
  return { ok: false, refusal: new ResultRefusal(reason, message) };
}

/** Enough of an id to recognise it in a log line; ids here may come from a peer. */
function short(nodeId: string): string {
  return nodeId.slice(0, 12);
}

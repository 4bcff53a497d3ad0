/**
 * Errors across a peer call. The server answers a gRPC status whose details start with the stable
 * `SWARM_*` name (`RESOURCE_EXHAUSTED` + `SWARM_OVERLOADED: peer has 8 calls in flight …`); the
 * client turns it back into a SwarmError. Statuses grpc-js makes itself (message too large,
 * deadline, connection lost) map by status code. Peers never see stacks or internal text.
 * The error this node passes on (to a task's requester: a terminal, or an agent reading JSON) is in
 * this node's words only: who answered and the code (docs/errors.md says what each means). The
 * peer's own text is words it chose, for readers that may act on words ("ignore previous
 * instructions…"); escaped and bounded (peerText), it stays on the error as `peerWords`, which
 * gateway-svc logs (debug) for this node's operator.
 */
import type { ServiceError, StatusObject } from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import { ErrorCode, errorCodeName, SwarmError } from '@swarm/contracts';
import { PeerIdentityError } from './peer-identity';

const STATUS_OF: Partial<Record<ErrorCode, status>> = {
  [ErrorCode.ERROR_CODE_MALFORMED_MESSAGE]: status.INVALID_ARGUMENT,
  [ErrorCode.ERROR_CODE_INVALID_ARGUMENT]: status.INVALID_ARGUMENT,
  [ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.ERROR_CODE_OVERLOADED]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED]: status.DEADLINE_EXCEEDED,
  [ErrorCode.ERROR_CODE_UNAVAILABLE]: status.UNAVAILABLE,
  [ErrorCode.ERROR_CODE_NO_PROVIDER]: status.UNAVAILABLE,
  [ErrorCode.ERROR_CODE_PERMISSION_DENIED]: status.PERMISSION_DENIED,
  [ErrorCode.ERROR_CODE_INTERNAL]: status.INTERNAL,
  [ErrorCode.ERROR_CODE_UNIMPLEMENTED]: status.UNIMPLEMENTED,
};

/** Trailer naming how long to wait before sending again (ms), beside RESOURCE_EXHAUSTED. */
export const RETRY_AFTER_TRAILER = 'swarm-retry-after-ms';

export function statusOf(err: SwarmError): Partial<StatusObject> {
  const metadata = new Metadata();
  if (err.retryAfterMs > 0) metadata.set(RETRY_AFTER_TRAILER, String(err.retryAfterMs));
  return { code: STATUS_OF[err.code] ?? status.FAILED_PRECONDITION, details: `${err.codeName}: ${err.message}`, metadata };
}

const NAMED = /^(SWARM_[A-Z_]+): ([\s\S]*)$/;

/** Whether a failed call's status is the peer's own answer (a `SWARM_*` name), not one grpc-js made (a connection lost). */
export function isPeerNamedStatus(err: ServiceError): boolean {
  return NAMED.test(err.details);
}

/** The most of a peer's own words an error keeps (peerWords). */
export const MAX_PEER_TEXT_CHARS = 300;

/**
 * A peer's words as this node keeps them (peerWords, for its logs): on one line, control
 * characters and direction marks shown escaped, at most MAX_PEER_TEXT_CHARS, so a peer cannot move
 * a cursor, reorder text or flood a log. The same
 * characters as the CLI's escapeControls (apps/cli cli-error.ts), which keeps its own copy to stay
 * free of imports on every start.
 */
export function peerText(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is replaced
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
  return line.length > MAX_PEER_TEXT_CHARS ? `${line.slice(0, MAX_PEER_TEXT_CHARS - 1)}…` : line;
}

/** A peer call's error in this node's words, with the peer's own (escaped, bounded) beside them for logs. */
export type PeerCallError = (SwarmError | PeerIdentityError) & {
  readonly peerWords: string;
  /** The peer named its code itself (`SWARM_…: …`): its own answer, over a connection that works, not a status grpc-js made (a deadline with no answer, a cut). */
  readonly peerNamed: boolean;
};

/** The SwarmError (or PeerIdentityError) a failed peer call stands for, in this node's words. */
export function errorOfStatus(err: ServiceError, peer: string): PeerCallError {
  const named = NAMED.exec(err.details);
  const retryAfterMs = Number(err.metadata?.get(RETRY_AFTER_TRAILER)[0] ?? 0);
  // Not the gRPC error itself: its message is the peer's words, and a logger prints an error's causes.
  const cause = new Error(`the peer call ended with gRPC status ${status[err.code] ?? err.code}`);
  let failure: SwarmError | PeerIdentityError | undefined;
  if (named) {
    const code = ErrorCode[`ERROR_CODE_${named[1].replace(/^SWARM_/, '')}` as keyof typeof ErrorCode] as ErrorCode | undefined;
    if (code !== undefined && errorCodeName(code) === named[1]) failure = new SwarmError(code, answered(peer, code), undefined, { cause, retryAfterMs });
  }
  const peerNamed = failure !== undefined;
  failure ??= (BY_STATUS[err.code] ?? otherStatus)(err, peer, retryAfterMs, cause);
  return Object.assign(failure, { peerWords: peerText(named ? named[2] : (err.details ?? '')), peerNamed });
}

/** `peer ab12… at 127.0.0.1:7000 answered SWARM_OVERLOADED`. */
function answered(peer: string, code: ErrorCode): string {
  return `${peer} answered ${errorCodeName(code)}`;
}

/** Whether `err` came from errorOfStatus (a failed peer call), with the peer's own words kept. */
/**
 * Whether `err` is the peer's own answer over a connection that works (a code it named, a refusal, its
 * limits), not a failure to reach it as itself: no connection or a cut (UNAVAILABLE), no answer
 * before the deadline (grpc-js's own DEADLINE_EXCEEDED: an address that swallows connections),
 * another node there (PeerIdentityError), or an error of this node's making. Pooled clients are
 * dropped on the latter, so the next call dials (and, for a name, resolves) again.
 */
export function answeredByPeer(err: unknown): boolean {
  if (isPeerCallError(err) && err.peerNamed) return true;
  return err instanceof SwarmError && err.code !== ErrorCode.ERROR_CODE_UNAVAILABLE && err.code !== ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED;
}

export function isPeerCallError(err: unknown): err is PeerCallError {
  return (err instanceof SwarmError || err instanceof PeerIdentityError) && typeof (err as Partial<PeerCallError>).peerWords === 'string';
}

type Translate = (err: ServiceError, peer: string, retryAfterMs: number, cause: Error) => SwarmError | PeerIdentityError;

const unavailable: Translate = (err, peer, _retryAfterMs, cause) =>
  new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `${peer}: unreachable (${status[err.code]})`, undefined, { cause });
const otherStatus: Translate = (err, peer, _retryAfterMs, cause) =>
  new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `${peer}: call failed (${status[err.code] ?? err.code})`, undefined, { cause });

const BY_STATUS: Partial<Record<status, Translate>> = {
  // grpc-js's own words for a message over its limit; a peer's RESOURCE_EXHAUSTED without a SWARM name is "full".
  [status.RESOURCE_EXHAUSTED]: (err, peer, retryAfterMs, cause) =>
    /larger than max/i.test(err.details)
      ? new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `${peer}: a message was larger than the gRPC size limit`, undefined, { cause })
      : new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, answered(peer, ErrorCode.ERROR_CODE_OVERLOADED), undefined, { cause, retryAfterMs }),
  [status.DEADLINE_EXCEEDED]: (_err, peer, _retryAfterMs, cause) =>
    new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `${peer}: the call did not finish in time`, undefined, { cause }),
  [status.UNAVAILABLE]: unavailable,
  [status.CANCELLED]: unavailable,
  [status.UNAUTHENTICATED]: (_err, peer, _retryAfterMs, cause) => new PeerIdentityError(`${peer} refused this node's identity`, { cause }),
  [status.INVALID_ARGUMENT]: (_err, peer, _retryAfterMs, cause) =>
    new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, answered(peer, ErrorCode.ERROR_CODE_INVALID_ARGUMENT), undefined, { cause }),
  // A method its build does not have (gRPC's own answer; the details are grpc-js's, not the peer's words).
  [status.UNIMPLEMENTED]: (_err, peer, _retryAfterMs, cause) =>
    new SwarmError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, `${peer}: does not implement this call (a node from an older build)`, undefined, { cause }),
};

/**
 * The requesting side of the bus: typed request/reply and events over one shared connection
 * (never a connection per message). Trace context is the caller's `trace` option (a handler passes
 * its HandlerContext.trace) and rides in the `traceparent` header when this process traces
 * (libs/telemetry): on every request, sampled or not, so the services it calls follow the first
 * span's decision and a task is one whole trace or none; on an event only when sampled (nobody
 * continues a trace from an event, and an event needs no headers otherwise).
 */
import { SpanKind, trace } from '@opentelemetry/api';
import type { EventTopic, Rpc } from '@swarm/contracts';
import { ErrorCode, SwarmError, SwarmErrorMessage } from '@swarm/contracts';
import type { Logger, TraceContext } from '@swarm/telemetry';
import { inChildSpan, injectTraceContext, isSampled, isTracing, NO_TRACE } from '@swarm/telemetry';
import type { Msg, MsgHdrs, NatsConnection, NatsError, Subscription } from 'nats';
import { ErrorCode as NatsErrorCode, headers as natsHeaders } from 'nats';
import type { Outbox } from './outbox';
import { createOutbox } from './outbox';
import type { MuxFailure } from './reply-mux';
import { MuxError, replyMuxOf } from './reply-mux';
import { fromWire } from './wire-error';

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Header marking an error reply whose body is a SwarmError message. */
export const SWARM_ERROR_HEADER = 'swarm-error';
/**
 * The requester's absolute deadline (ms since epoch) on every request: a responder that finds it
 * passed (the request waited in a queue) need not start work nobody waits for.
 */
export const DEADLINE_HEADER = 'swarm-deadline';

/**
 * Set by a requester that wants an accept acknowledgement; a responder serving with `ack` then
 * sends an empty reply carrying it as soon as the request reached a live process, before the work.
 */
export const ACK_HEADER = 'swarm-ack';
/**
 * Beside ACK_HEADER ('1', what every responder version answers): the requester's ack limit in ms, so
 * a responder may hold the acknowledgement back (ackDelayMs). A separate header, so a responder
 * that predates it still acknowledges at once.
 */
export const ACK_LIMIT_HEADER = 'swarm-ack-limit';
/** The longest a responder holds an acknowledgement back, hoping to send the answer instead. */
export const MAX_ACK_DELAY_MS = 100;
/** Below this ack limit nothing is held back: the window is left whole for the hops and event loops. */
export const MIN_ACK_LIMIT_TO_HOLD_MS = 400;

/**
 * How long a responder may hold back the acknowledgement of a request whose ACK_LIMIT_HEADER is
 * `limit`: a tenth of the requester's ack limit, at most MAX_ACK_DELAY_MS, so an answer ready by then
 * goes alone (one message fewer per quick request) and a live responder still acknowledges well
 * within the limit. No header, anything unreadable, or a limit under MIN_ACK_LIMIT_TO_HOLD_MS: at once.
 */
export function ackDelayMs(limit: string | undefined): number {
  if (limit === undefined || !/^[0-9]{1,9}$/.test(limit) || Number(limit) < MIN_ACK_LIMIT_TO_HOLD_MS) return 0;
  return Math.min(MAX_ACK_DELAY_MS, Math.floor(Number(limit) / 10));
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The trace the request belongs to (a handler's HandlerContext.trace); default: a new one. */
  trace?: TraceContext;
}

export interface AckedRequestOptions extends RequestOptions {
  /** How long the responder has to acknowledge; past it the request counts as lost. */
  ackTimeoutMs: number;
}

/** The responder never acknowledged: nobody alive took the request (retryable). */
export class AckTimeoutError extends SwarmError {}

export interface BusClient {
  request<Req, Res>(rpc: Rpc<Req, Res>, req: Req, opts?: RequestOptions): Promise<Res>;
  /**
   * A request whose responder first acknowledges it (ACK_HEADER), then answers: a dead or stuck
   * responder costs `ackTimeoutMs`, not the whole `timeoutMs` of the work.
   */
  requestAcked<Req, Res>(rpc: Rpc<Req, Res>, req: Req, opts: AckedRequestOptions): Promise<Res>;
  /** `trace`: the work the event reports on; its context rides along only when that trace is sampled. */
  publish<T>(topic: EventTopic<T>, msg: T, trace?: TraceContext): void;
  /** Calls `onMessage` for each well-formed event; malformed ones are logged and dropped. */
  subscribe<T>(topic: EventTopic<T>, onMessage: (msg: T) => void): Subscription;
}

const tracer = () => trace.getTracer('@swarm/bus');

export function createBusClient(nc: NatsConnection, log: Logger): BusClient {
  return createBusClientWith(nc, log, createOutbox());
}

/**
 * A client whose events leave through `outbox`: a service passes the outbox of its replies, so a
 * handler's events and its reply share one socket write.
 */
export function createBusClientWith(nc: NatsConnection, log: Logger, outbox: Outbox): BusClient {
  return {
    request: (rpc, req, opts) => request(nc, outbox, rpc, req, opts),
    requestAcked: (rpc, req, opts) => requestAcked(nc, outbox, rpc, req, opts),
    publish(topic, msg, trace) {
      const data = topic.codec.encode(msg).finish();
      let opts: { headers: MsgHdrs } | undefined;
      if (trace !== undefined && isSampled(trace)) {
        opts = { headers: natsHeaders() };
        injectTraceContext(opts.headers, trace);
      }
      outbox.send(
        () => nc.publish(topic.subject, data, opts),
        (err) => log.warn({ err, subject: topic.subject }, 'could not publish an event'),
      );
    },
    subscribe(topic, onMessage) {
      return nc.subscribe(topic.subject, {
        callback: (err, m) => {
          if (err) return log.warn({ err, subject: topic.subject }, 'subscription error');
          let decoded;
          try {
            decoded = topic.codec.decode(m.data);
          } catch (e) {
            return log.warn({ err: e, subject: topic.subject }, 'dropped malformed event');
          }
          onMessage(decoded);
        },
      });
    },
  };
}

async function request<Req, Res>(nc: NatsConnection, outbox: Outbox, rpc: Rpc<Req, Res>, req: Req, opts: RequestOptions = {}): Promise<Res> {
  return traced(nc, rpc, req, opts, {}, async (data, headers, timeout) => {
    const reply = await replyMuxOf(nc)
      .request(rpc.subject, data, { headers, timeoutMs: timeout, send: (publish, onError) => outbox.send(publish, onError), ...(opts.signal ? { signal: opts.signal } : {}) })
      .catch((err: unknown) => {
        throw translateRequestError(err, rpc, timeout);
      });
    return decodeReply(rpc, reply);
  });
}

async function requestAcked<Req, Res>(nc: NatsConnection, outbox: Outbox, rpc: Rpc<Req, Res>, req: Req, opts: AckedRequestOptions): Promise<Res> {
  // With the ack's limit: the responder may hold the ack back a little (ackDelayMs).
  const asks = { [ACK_HEADER]: '1', [ACK_LIMIT_HEADER]: String(Math.max(1, Math.floor(opts.ackTimeoutMs))) };
  return traced(nc, rpc, req, opts, asks, async (data, headers, timeout) => {
    // The acknowledgement, then the answer (or only the answer).
    const ack = { header: ACK_HEADER, timeoutMs: opts.ackTimeoutMs };
    const reply = await replyMuxOf(nc)
      .request(rpc.subject, data, { headers, timeoutMs: timeout, ack, send: (publish, onError) => outbox.send(publish, onError), ...(opts.signal ? { signal: opts.signal } : {}) })
      .catch((err: unknown) => {
        if (err instanceof MuxError && err.failure === 'ack-timeout') {
          throw marked(
            new AckTimeoutError(ErrorCode.ERROR_CODE_UNAVAILABLE, `${rpc.service}-svc did not acknowledge ${rpc.subject} within ${opts.ackTimeoutMs} ms`, true, { cause: err }),
            'ack-timeout',
          );
        }
        throw translateRequestError(err, rpc, timeout);
      });
    return decodeReply(rpc, reply);
  });
}

/**
 * What every request shares: a client span (when this process traces), the headers (trace context, the requester's
 * deadline, `extraHeaders`), and the encoded payload refused before sending when the bus could
 * not carry it. `send` does the exchange itself.
 */
function traced<Req, Res>(
  nc: NatsConnection,
  rpc: Rpc<Req, Res>,
  req: Req,
  opts: RequestOptions,
  extraHeaders: Readonly<Record<string, string>>,
  send: (data: Uint8Array, headers: MsgHdrs, timeoutMs: number) => Promise<Res>,
): Promise<Res> {
  const timeout = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const exchange = async (traceContext: TraceContext | undefined): Promise<Res> => {
    opts.signal?.throwIfAborted();
    const h = natsHeaders();
    if (traceContext) injectTraceContext(h, traceContext);
    h.set(DEADLINE_HEADER, String(Date.now() + timeout));
    for (const [name, value] of Object.entries(extraHeaders)) h.set(name, value);
    const data = rpc.request.encode(req).finish();
    const limit = nc.info?.max_payload;
    if (limit !== undefined && data.byteLength > limit) {
      throw new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `request on ${rpc.subject} is ${data.byteLength} bytes; the node's bus takes at most ${limit}`);
    }
    return send(data, h, timeout);
  };
  if (!isTracing()) return exchange(undefined);
  return inChildSpan(tracer(), `request ${rpc.subject}`, { kind: SpanKind.CLIENT }, opts.trace ?? NO_TRACE, exchange);
}

function decodeReply<Req, Res>(rpc: Rpc<Req, Res>, reply: Msg): Res {
  if (reply.headers?.has(SWARM_ERROR_HEADER)) {
    throw fromWire(decodeOr(SwarmErrorMessage, reply.data, rpc));
  }
  if (hasServiceError(reply.headers)) {
    throw new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, `${rpc.subject} failed: ${reply.headers?.get('Nats-Service-Error') ?? 'unknown error'}`);
  }
  return decodeOr(rpc.response, reply.data, rpc);
}

function decodeOr<T>(codec: { decode(b: Uint8Array): T }, data: Uint8Array, rpc: Rpc<unknown, unknown>): T {
  try {
    return codec.decode(data);
  } catch (err) {
    throw new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, `malformed reply on ${rpc.subject}`, false, { cause: err });
  }
}

function hasServiceError(h: MsgHdrs | undefined): boolean {
  return h?.has('Nats-Service-Error-Code') ?? false;
}

/** The errors requests rejected with because of the bus, by how it failed (transportFailureOf). */
const transportFailures = new WeakMap<object, MuxFailure | 'too-large'>();

function marked<E>(err: E, failure: MuxFailure | 'too-large' | undefined): E {
  if (failure !== undefined && typeof err === 'object' && err !== null) transportFailures.set(err, failure);
  return err;
}

function translateRequestError(err: unknown, rpc: Rpc<unknown, unknown>, timeoutMs: number): unknown {
  if (err instanceof SwarmError) return err;
  const failure = failureOf(err);
  return marked(translatedError(err, failure, rpc, timeoutMs), failure);
}

function translatedError(err: unknown, failure: MuxFailure | 'too-large' | undefined, rpc: Rpc<unknown, unknown>, timeoutMs: number): unknown {
  switch (failure) {
    case 'aborted': {
      // The caller's own SwarmError (a deadline, a shutdown) as it is; any other reason is a deadline.
      const reason = (err as MuxError).cause;
      return reason instanceof SwarmError ? reason : new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'request aborted: deadline passed', true, { cause: reason });
    }
    case 'no-responders':
      return new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `no ${rpc.service}-svc is serving ${rpc.subject}`, true, { cause: err });
    case 'permission':
      return new SwarmError(ErrorCode.ERROR_CODE_PERMISSION_DENIED, `this bus identity may not use ${rpc.subject}`, false, { cause: err });
    case 'too-large':
      return new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `request on ${rpc.subject} exceeds the NATS server's max payload`, false, { cause: err });
    case 'timeout':
    case 'ack-timeout':
      return new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `${rpc.subject} did not answer within ${timeoutMs} ms`, true, { cause: err });
    case 'closed':
      return new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `NATS connection unavailable for ${rpc.subject}`, true, { cause: err });
    case undefined:
      return err;
  }
}

/**
 * How the bus failed a request, for an error a BusClient request rejected with: 'no-responders'
 * when the request was delivered to nobody (no subscriber had its subject when it was published,
 * so no service acted on it), 'timeout', 'closed' and so on; undefined for a responder's own
 * error (it got the request and answered) or an error of the caller's making.
 */
export function transportFailureOf(err: unknown): MuxFailure | 'too-large' | undefined {
  return typeof err === 'object' && err !== null ? transportFailures.get(err) : undefined;
}

/** The mux's failures, and the same ones as nats.js throws them from a publish. */
function failureOf(err: unknown): MuxFailure | 'too-large' | undefined {
  if (err instanceof MuxError) return err.failure;
  switch ((err as NatsError | undefined)?.code) {
    case NatsErrorCode.NoResponders:
      return 'no-responders';
    case NatsErrorCode.PermissionsViolation:
      return 'permission';
    case NatsErrorCode.MaxPayloadExceeded:
      return 'too-large';
    case NatsErrorCode.Timeout:
      return 'timeout';
    case NatsErrorCode.ConnectionClosed:
    case NatsErrorCode.Disconnect:
    case NatsErrorCode.ConnectionDraining:
      return 'closed';
    case undefined:
    default:
      return undefined;
  }
}

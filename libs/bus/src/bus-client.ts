/**
 * The requesting side of the bus: typed request/reply and events over one shared connection
 * (never a connection per message). Trace context rides in the `traceparent` header.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ErrorCode, EventTopic, Rpc, SwarmError, SwarmErrorMessage } from '@swarm/contracts';
import { injectTraceContext, Logger } from '@swarm/telemetry';
import { ErrorCode as NatsErrorCode, headers as natsHeaders, Msg, MsgHdrs, NatsConnection, NatsError, Subscription } from 'nats';
import { fromWire } from './wire-error';

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Header marking an error reply whose body is a SwarmError message. */
export const SWARM_ERROR_HEADER = 'swarm-error';
/**
 * The requester's absolute deadline (ms since epoch) on every request: a responder that finds it
 * passed (the request waited in a queue) need not start work nobody waits for.
 */
export const DEADLINE_HEADER = 'swarm-deadline';

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface BusClient {
  request<Req, Res>(rpc: Rpc<Req, Res>, req: Req, opts?: RequestOptions): Promise<Res>;
  publish<T>(topic: EventTopic<T>, msg: T): void;
  /** Calls `onMessage` for each well-formed event; malformed ones are logged and dropped. */
  subscribe<T>(topic: EventTopic<T>, onMessage: (msg: T) => void): Subscription;
}

const tracer = () => trace.getTracer('@swarm/bus');

export function createBusClient(nc: NatsConnection, log: Logger): BusClient {
  return {
    request: (rpc, req, opts) => request(nc, rpc, req, opts),
    publish(topic, msg) {
      const h = natsHeaders();
      injectTraceContext(h);
      nc.publish(topic.subject, topic.codec.encode(msg).finish(), { headers: h });
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

async function request<Req, Res>(nc: NatsConnection, rpc: Rpc<Req, Res>, req: Req, opts: RequestOptions = {}): Promise<Res> {
  const timeout = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return tracer().startActiveSpan(`request ${rpc.subject}`, { kind: SpanKind.CLIENT }, async (span) => {
    try {
      opts.signal?.throwIfAborted();
      const h = natsHeaders();
      injectTraceContext(h, context.active());
      h.set(DEADLINE_HEADER, String(Date.now() + timeout));
      const data = rpc.request.encode(req).finish();
      const limit = nc.info?.max_payload;
      if (limit !== undefined && data.byteLength > limit) {
        throw new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `request on ${rpc.subject} is ${data.byteLength} bytes; the node's bus takes at most ${limit}`);
      }
      // nats.js throws some errors synchronously and others through the promise.
      const reply = await abortable(
        Promise.resolve().then(() => nc.request(rpc.subject, data, { timeout, headers: h })),
        opts.signal,
      ).catch((err: unknown) => {
        throw translateNatsError(err, rpc, timeout);
      });
      return decodeReply(rpc, reply);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
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

function translateNatsError(err: unknown, rpc: Rpc<unknown, unknown>, timeoutMs: number): unknown {
  if (err instanceof SwarmError) return err;
  const code = (err as NatsError | undefined)?.code;
  if (code === NatsErrorCode.NoResponders) {
    return new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `no ${rpc.service}-svc is serving ${rpc.subject}`, true, { cause: err });
  }
  if (code === NatsErrorCode.PermissionsViolation) {
    return new SwarmError(ErrorCode.ERROR_CODE_PERMISSION_DENIED, `this bus identity may not use ${rpc.subject}`, false, { cause: err });
  }
  if (code === NatsErrorCode.MaxPayloadExceeded) {
    return new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `request on ${rpc.subject} exceeds the NATS server's max payload`, false, { cause: err });
  }
  if (code === NatsErrorCode.Timeout) {
    return new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `${rpc.subject} did not answer within ${timeoutMs} ms`, true, { cause: err });
  }
  if (code === NatsErrorCode.ConnectionClosed || code === NatsErrorCode.Disconnect || code === NatsErrorCode.ConnectionDraining) {
    return new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `NATS connection unavailable for ${rpc.subject}`, true, { cause: err });
  }
  return err;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(
        signal.reason instanceof SwarmError
          ? signal.reason
          : new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'request aborted: deadline passed', true, { cause: signal.reason }),
      );
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The serving side of the bus, on the NATS services framework (`nc.services.add`): ping, info and
 * per-endpoint stats come from the standard `$SRV.*` subjects. Each handler gets a decoded,
 * size-checked request; whatever it throws becomes a typed error reply (with the framework's
 * Nats-Service-Error headers beside our `swarm-error` header), and the service keeps serving.
 */
import type { Span } from '@opentelemetry/api';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { HealthRequest, HealthResponse, Rpc } from '@swarm/contracts';
import { BUS_PERMISSIONS, BUS_ROLES, ErrorCode, INBOX_ROOT, inboxPrefixOf, serviceStatusOf, SwarmError, SwarmErrorMessage } from '@swarm/contracts';
import type { Logger, TraceContext } from '@swarm/telemetry';
import { extractTraceContext, isTracing, NO_TRACE, NOT_RECORDED, startChildSpan } from '@swarm/telemetry';
import type { MsgHdrs, NatsConnection, Service, ServiceMsg } from 'nats';
import { headers as natsHeaders } from 'nats';
import type { BusClient } from './bus-client';
import { ACK_HEADER, ACK_LIMIT_HEADER, ackDelayMs, createBusClientWith, SWARM_ERROR_HEADER } from './bus-client';
import type { Outbox } from './outbox';
import { createOutbox } from './outbox';
import { connectionInboxPrefix } from './reply-mux';
import { toWire } from './wire-error';

/** NATS' own default max_payload; a service may lower it per endpoint. */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

export interface HandlerContext {
  readonly log: Logger;
  readonly headers: MsgHdrs | undefined;
  /**
   * This request's trace (its server span), to pass as the `trace` option of the requests and
   * events the handler makes so they join it; NO_TRACE when this process does not trace.
   */
  readonly trace: TraceContext;
}

export type Handler<Req, Res> = (req: Req, ctx: HandlerContext) => Promise<Res> | Res;

export interface ServeOptions {
  /** Queue group; replicas in one group share requests. Default: the framework's "q". */
  queue?: string;
  maxRequestBytes?: number;
  /**
   * Acknowledge a request that asks for it (ACK_HEADER) when it arrives, before decoding or work
   * (held back at most ackDelayMs, and not sent at all when the answer goes first): the requester
   * then knows a live replica took it. The role's replies are publish rights on its askers'
   * inboxes (libs/contracts bus-roles), so two per request pass.
   */
  ack?: boolean;
  /**
   * Checks the request's bytes before they are decoded (a throw answers the request with its
   * error): for a message whose decoding costs far more than its size, such as repeated empty
   * submessages (contracts task-wire.ts).
   */
  precheck?: (data: Uint8Array) => void;
}

/** Most bytes of an empty request (a health check, a skill or peer list): room for fields a newer caller adds, not for a megabyte to decode. */
export const EMPTY_REQUEST_MAX_BYTES = 4 * 1024;

/** At most one warning about dropped requests a second (see noteDropped). */
export const DROPPED_LOG_INTERVAL_MS = 1_000;

export interface BusServiceOptions {
  nc: NatsConnection;
  /** Connection for `client` (the service's own requests and events); default `nc`. */
  clientNc?: NatsConnection;
  log: Logger;
  /** Service name for $SRV discovery, e.g. "credit-svc". */
  name: string;
  version: string;
  description: string;
  nodeId: string;
}

export interface BusService {
  /** For the service's own requests and events, on `clientNc` where given. */
  readonly client: BusClient;
  /**
   * Publishes an event on the connection the replies leave by, in the same socket write as the
   * replies of this turn: an event that follows a reply (a task's end) then costs no write of its own.
   */
  readonly publish: BusClient['publish'];
  serve<Req, Res>(rpc: Rpc<Req, Res>, handler: Handler<Req, Res>, opts?: ServeOptions): void;
  /** Answers `rpc` with this service's health; `details` is read at each request. */
  serveHealth(rpc: Rpc<HealthRequest, HealthResponse>, details?: () => Record<string, string>, opts?: ServeOptions): void;
  /** Stops taking requests, then waits (at most `graceMs`) for in-flight handlers. */
  stop(graceMs: number): Promise<void>;
}

export async function startBusService(opts: BusServiceOptions): Promise<BusService> {
  const { nc, log } = opts;
  const service: Service = await nc.services.add({
    name: opts.name,
    version: opts.version,
    description: opts.description,
    metadata: { nodeId: opts.nodeId },
  });
  const inFlight = new Set<Promise<void>>();
  /** Acknowledgements being held back (ackDelayMs); cleared at stop, when none may leave any more. */
  const heldAcks = new Set<ReturnType<typeof setTimeout>>();
  let stopping = false;
  const startedAt = Date.now();
  // Replies, acknowledgements and (on the same connection) events leave together, see outbox.ts.
  const outbox = createOutbox();
  const clientOutbox = opts.clientNc && opts.clientNc !== nc ? createOutbox() : outbox;
  const client = createBusClientWith(opts.clientNc ?? nc, log, clientOutbox);
  const replyConnection = clientOutbox === outbox ? client : createBusClientWith(nc, log, outbox);
  const tracer = trace.getTracer('@swarm/bus');
  const answerable = answerableReplies(nc);
  // Requests dropped for their reply subject, told at most once a DROPPED_LOG_INTERVAL_MS with how
  // many since: a flood of them (a client's key is enough) must not fill the service's log.
  let dropped = 0;
  let droppedToldAt = -Infinity;
  const noteDropped = (endpointLog: Logger, reply: string | undefined) => {
    dropped += 1;
    const now = performance.now();
    if (now - droppedToldAt < DROPPED_LOG_INTERVAL_MS) return;
    endpointLog.warn({ reply: capSubject(reply), dropped }, 'dropped requests whose reply subject is not an inbox (the last one named here; how many since the last warning)');
    droppedToldAt = now;
    dropped = 0;
  };

  function serve<Req, Res>(rpc: Rpc<Req, Res>, handler: Handler<Req, Res>, serveOpts: ServeOptions = {}): void {
    const maxBytes = serveOpts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    const endpointLog = log.child({ subject: rpc.subject });
    service.addEndpoint(rpc.endpoint, {
      subject: rpc.subject,
      ...(serveOpts.queue ? { queue: serveOpts.queue } : {}),
      handler: (err, msg) => {
        if (err) return endpointLog.error({ err }, 'endpoint stopped with an error');
        if (!answerable(msg.reply)) {
          // A requester picks the reply subject; a service may publish its reply only into the
          // inboxes of the roles that may ask it (libs/contracts bus-roles), so nats-server would
          // refuse an answer anywhere else (another subject, another role's inbox, a made-up one),
          // and nobody waits for one there: the request is not run.
          noteDropped(endpointLog, msg.reply);
          return;
        }
        const asked = serveOpts.ack && msg.headers?.get(ACK_HEADER) === '1';
        // The acknowledgement, held back a little (ackDelayMs): an answer sent first makes it moot.
        let answered = false;
        let ackTimer: ReturnType<typeof setTimeout> | undefined;
        const acknowledge = () => {
          if (ackTimer !== undefined) heldAcks.delete(ackTimer);
          ackTimer = undefined;
          if (answered || stopping) return;
          const h = natsHeaders();
          h.set(ACK_HEADER, '1');
          outbox.send(
            () => msg.respond(new Uint8Array(), { headers: h }),
            (e) => endpointLog.warn({ err: e }, 'could not acknowledge a request'),
          );
        };
        if (asked) {
          const delay = ackDelayMs(msg.headers?.get(ACK_LIMIT_HEADER) || undefined);
          if (delay > 0) {
            ackTimer = setTimeout(acknowledge, delay);
            heldAcks.add(ackTimer);
          } else acknowledge();
        }
        const beforeAnswer = () => {
          answered = true;
          if (ackTimer !== undefined) {
            clearTimeout(ackTimer);
            heldAcks.delete(ackTimer);
          }
        };
        // handle() answers every request itself; this catch only guards the process against a bug.
        const work = handle(msg, beforeAnswer)
          .catch((e: unknown) => endpointLog.error({ err: e }, 'request handling failed'))
          .finally(() => inFlight.delete(work));
        inFlight.add(work);
      },
    });

    function handle(msg: ServiceMsg, beforeAnswer: () => void): Promise<void> {
      // Untraced, a request costs no span and no look at its headers.
      if (!isTracing()) return answer(msg, undefined, NO_TRACE, beforeAnswer);
      const server = startChildSpan(tracer, rpc.subject, { kind: SpanKind.SERVER }, extractTraceContext(msg.headers));
      // Most requests are not recorded: no span to end, so no promise more to wait on.
      if (server.trace === NOT_RECORDED) return answer(msg, undefined, server.trace, beforeAnswer);
      return answer(msg, server.span, server.trace, beforeAnswer).finally(() => server.span.end());
    }

    async function answer(msg: ServiceMsg, span: Span | undefined, traceContext: TraceContext, beforeAnswer: () => void): Promise<void> {
      try {
        const req = decodeRequest(rpc, msg.data, maxBytes, serveOpts.precheck);
        const res = await handler(req, { log: endpointLog, headers: msg.headers, trace: traceContext });
        const data = rpc.response.encode(res).finish();
        beforeAnswer();
        outbox.send(
          () => msg.respond(data),
          (e) => endpointLog.error({ err: e }, 'could not send the reply'),
        );
      } catch (e) {
        span?.setStatus({ code: SpanStatusCode.ERROR });
        beforeAnswer();
        respondError(msg, e, endpointLog, outbox);
      }
    }
  }

  return {
    client,
    publish: (topic, msg, trace) => replyConnection.publish(topic, msg, trace),
    serve,
    serveHealth(rpc, details, serveOpts) {
      serve(
        rpc,
        () => ({
          service: opts.name,
          nodeId: opts.nodeId,
          version: opts.version,
          uptimeMs: BigInt(Date.now() - startedAt),
          status: 'ok',
          details: details?.() ?? {},
        }),
        { maxRequestBytes: EMPTY_REQUEST_MAX_BYTES, ...serveOpts },
      );
    },
    async stop(graceMs) {
      stopping = true;
      for (const t of heldAcks) clearTimeout(t);
      heldAcks.clear();
      await service.stop();
      const drained = Promise.allSettled([...inFlight]);
      const timedOut = await raceTimeout(drained, graceMs);
      // Replies and events still queued leave before the caller drains the connection.
      outbox.flush();
      clientOutbox.flush();
      if (timedOut) log.warn({ inFlight: inFlight.size, graceMs }, 'stopped with requests still in flight');
    },
  };
}

/** `_INBOX.…` (nats.js default) or a role's `_INBOX_<role>.…` (see libs/contracts bus-roles). */
const INBOX_SUBJECT = new RegExp(`^${INBOX_ROOT}(_[a-z]+)?\\.`);

/**
 * Which reply subjects a service on `nc` can answer. On a closed bus its connection carries its
 * role's inbox prefix, and nats-server lets it publish answers only into the inboxes of the roles
 * that may ask it (BUS_PERMISSIONS' `replies`): exactly those. On an open bus (no identity: tests, a
 * bare nats-server) any inbox.
 */
function answerableReplies(nc: NatsConnection): (reply: string | undefined) => boolean {
  const prefix = connectionInboxPrefix(nc);
  const role = BUS_ROLES.find((r) => inboxPrefixOf(r) === prefix);
  if (!role) return (reply) => reply !== undefined && INBOX_SUBJECT.test(reply);
  // `_INBOX_router.>` → `_INBOX_router.`: a reply must have at least one token after it.
  const inboxes = BUS_PERMISSIONS[role].replies.map((pattern) => pattern.slice(0, -1));
  return (reply) => reply !== undefined && inboxes.some((inbox) => reply.startsWith(inbox) && reply.length > inbox.length);
}

function capSubject(subject: string | undefined): string {
  return subject === undefined ? '' : subject.slice(0, 64);
}

function decodeRequest<Req>(rpc: Rpc<Req, unknown>, data: Uint8Array, maxBytes: number, precheck?: (data: Uint8Array) => void): Req {
  if (data.byteLength > maxBytes) {
    throw new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `request of ${data.byteLength} bytes exceeds the ${maxBytes}-byte limit of ${rpc.subject}`);
  }
  precheck?.(data);
  try {
    return rpc.request.decode(data);
  } catch (err) {
    throw new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, `request on ${rpc.subject} is not a valid ${rpc.endpoint} protobuf message`, false, { cause: err });
  }
}

function respondError(msg: ServiceMsg, err: unknown, log: Logger, outbox: Outbox): void {
  const wire = toWire(err);
  if (wire.code === ErrorCode.ERROR_CODE_INTERNAL) log.error({ err }, 'handler failed');
  else log.debug({ code: wire.code, message: wire.message }, 'request refused');
  const h = natsHeaders();
  h.set(SWARM_ERROR_HEADER, String(wire.code));
  const body = SwarmErrorMessage.encode(wire).finish();
  // Header values are one line: a peer-quoted newline must not split the header block.
  const description = wire.message.replace(/[\r\n]+/g, ' ');
  outbox.send(
    () => msg.respondError(serviceStatusOf(wire.code), description, body, { headers: h }),
    (e) => log.error({ err: e }, 'could not send the error reply'),
  );
}

function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(true), ms);
    void p.then(() => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

/**
 * The gateway's gRPC server for peers, behind a TLS listener of our own: grpc-js only exposes a
 * peer certificate for sockets OpenSSL authorized against a CA list, and peers are not known in
 * advance (a seed learns of a new node when it dials). So the TLS server asks every client for a
 * certificate, accepts any, and checks the identity binding (peer-identity.ts) as soon as the
 * handshake ends; only sockets that pass are handed to grpc-js (its connection injector). Every
 * call then passes an interceptor that finds the peer id of its connection and applies per-peer
 * limits before any handler runs. Handlers get the peer id, an AbortSignal for the server's
 * deadline cap, and the caller's trace context.
 */
import type { handleUnaryCall, Metadata, ServerInterceptor, ServerUnaryCall, StatusObject } from '@grpc/grpc-js';
import { Server, ServerCredentials, ServerInterceptingCall, status } from '@grpc/grpc-js';
import { SpanKind, trace } from '@opentelemetry/api';
import { ErrorCode, isSwarmError, RECEIPTS_PER_DELIVERY, SwarmError } from '@swarm/contracts';
import type { Time } from '@swarm/determinism';
import type { NodeCertificate } from '@swarm/identity';
import { createRateLimiter } from '@swarm/rate-limit';
import type { Logger, TraceContext } from '@swarm/telemetry';
import { extractTraceContext, inChildSpan, isSampled, isTracing, NO_TRACE, NOT_RECORDED } from '@swarm/telemetry';
import { setMaxListeners } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createServer } from 'node:tls';
import { metadataCarrier } from './metadata-carrier';
import type { HostPort } from './peer-address';
import type { SharedLimits } from './host-admission';
import { createHostAdmission, hostKey, networkOf } from './host-admission';
import type { CallLane, PeerLimits } from './peer-admission';
import { createPeerAdmission } from './peer-admission';
import { createConnectionCap } from '@swarm/connection-cap';
import { shortId, verifyPeerCertificate } from './peer-identity';
import type { DecodedRequest, PeerMethod, PeerRequest, PeerResponse } from './peer-service';
import { PEER_METHODS, peerMethodPath, serverServiceDefinition } from './peer-service';
import { statusOf } from './peer-status';

export interface GatewayLimits {
  /** Largest request or response message, bytes; larger ones get RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** The longest any call may run here, whatever deadline its caller set (or none). */
  readonly maxDeadlineMs: number;
  /** A client that has not finished its TLS handshake by then is dropped. */
  readonly handshakeTimeoutMs: number;
  /**
   * An admitted call whose request message has not all arrived by then is ended
   * (DEFAULT_REQUEST_RECEIVE_TIMEOUT_MS): it holds one of its peer's and host's call slots, and the
   * bytes of its message so far, until it does.
   */
  readonly requestReceiveTimeoutMs?: number;
  /** Connections open at once from all hosts together (DEFAULT_MAX_CONNECTIONS); past it a new one replaces the longest idle (connection-cap.ts). */
  readonly maxConnections?: number;
  readonly peer: PeerLimits;
  /** Per remote host and across peers, whatever node ids they use; default: sharedLimitsFor(peer). */
  readonly shared?: SharedLimits;
}

/**
 * How long an admitted call may take to send its whole request (and half-close): an 8 MiB message
 * at 0.27 MiB/s, what one connection's default 64 KiB HTTP/2 window allows at about 250 ms round
 * trip. Without it a caller sending headers only, or most of a message, or all of it without
 * half-closing, held its slots for ever: 16 connections of 20 such streams locked every honest
 * peer out, and partial messages held gigabytes.
 */
export const DEFAULT_REQUEST_RECEIVE_TIMEOUT_MS = 30_000;

/** Connections the gateway holds at once by default, from all hosts together (connection-cap.ts). */
export const DEFAULT_MAX_CONNECTIONS = 2_048;

/** Connections one host may hold open by default (several nodes may share one address). */
const DEFAULT_HOST_MAX_CONNECTIONS = 32;

/** A host gets twice one peer's allowance (room for a few nodes behind one address), the gateway eight peers' calls in flight. */
export function sharedLimitsFor(peer: PeerLimits): SharedLimits {
  return {
    host: { maxInflight: 2 * peer.maxInflight, ratePerSecond: 2 * peer.ratePerSecond, burst: 2 * peer.burst, maxConnections: DEFAULT_HOST_MAX_CONNECTIONS },
    maxInflightTotal: 8 * peer.maxInflight,
  };
}

export interface PeerCall<Req> {
  /** The caller, as its certificate proved. */
  readonly peerId: string;
  /** The network the caller's connection comes from (host-admission.ts networkOf: an IPv4 /24, 127.0.0.0/8, an IPv6 /48), read off the socket, not from the caller. */
  readonly network: string;
  readonly request: Req;
  /** Aborts when the call is cancelled or its deadline (capped by the server) passes. */
  readonly signal: AbortSignal;
  /** The call's trace (its server span), for the requests the handler makes; NO_TRACE untraced. */
  readonly trace: TraceContext;
}

export type PeerHandler<M extends PeerMethod> = (call: PeerCall<PeerRequest<M>>) => PeerResponse<M> | Promise<PeerResponse<M>>;
/** Every gateway answers who it is; the DHT methods are served once a DHT is attached (libs/dht-gateway). */
export type CorePeerMethod = 'nodeInfo' | 'ping';
/** A method with no handler answers UNAVAILABLE ("this node does not serve …"). */
export type PeerHandlers = { readonly [M in CorePeerMethod]: PeerHandler<M> } & { readonly [M in Exclude<PeerMethod, CorePeerMethod>]?: PeerHandler<M> };

export interface GatewayServerOptions {
  readonly certificate: NodeCertificate;
  readonly listen: HostPort;
  readonly limits: GatewayLimits;
  readonly handlers: PeerHandlers;
  readonly log: Logger;
  readonly time: Time;
}

export interface GatewayServer {
  /** Where it listens (the real port when `listen.port` was 0). */
  readonly address: HostPort;
  /** Peers with an authenticated connection now. */
  peerCount(): number;
  /** Stops accepting, lets calls in flight finish within `graceMs`, then drops what is left. */
  stop(graceMs: number): Promise<void>;
}

/** Metadata key the interceptor sets to the authenticated peer id (any value a caller sent is replaced). */
const PEER_ID_METADATA = 'swarm-authenticated-peer';
/** Metadata key the interceptor sets to the network of the caller's connection (any value a caller sent is replaced). */
const PEER_NETWORK_METADATA = 'swarm-peer-network';
/** HTTP/2 streams one connection may hold open: a transport cap well above the per-peer call limit. */
const STREAMS_PER_INFLIGHT_CALL = 4;
/** Handler errors that mean the peer sent something wrong: logged as refusals (capped), not failures. */
const PEER_FAULTS: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.ERROR_CODE_MALFORMED_MESSAGE,
  ErrorCode.ERROR_CODE_INVALID_ARGUMENT,
  ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
  ErrorCode.ERROR_CODE_PERMISSION_DENIED,
]);
/** The calls that pay this node, admitted in their own lane (peer-admission.ts CallLane). */
const LEDGER_CALL_PATHS: ReadonlySet<string> = new Set([peerMethodPath('deliverReceipts'), peerMethodPath('voidReceipts')]);
/** Refusals logged at most this often (per second, with a burst): a flood must not flood the log. */
const REFUSAL_LOG_PER_SECOND = 1;
const REFUSAL_LOG_BURST = 20;

export async function startGatewayServer(opts: GatewayServerOptions): Promise<GatewayServer> {
  const { certificate, limits, log, time } = opts;
  const admission = createPeerAdmission(limits.peer, time.stopwatch);
  const hostAdmission = createHostAdmission(limits.shared ?? sharedLimitsFor(limits.peer), time.stopwatch);
  const refusals = cappedWarn(log, time);
  /** Peer id of each authenticated connection, by its remote address and port. */
  const connections = new Map<string, string>();
  const sockets = new Set<TLSSocket>();

  const receiveTimeoutMs = limits.requestReceiveTimeoutMs ?? DEFAULT_REQUEST_RECEIVE_TIMEOUT_MS;
  const connectionCap = createConnectionCap(limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS, time.stopwatch);
  const authenticateAndAdmit: ServerInterceptor = (method, call) => {
    const lane: CallLane = LEDGER_CALL_PATHS.has(method.path) ? 'ledger' : 'calls';
    let release: (() => void) | undefined;
    let stopWaiting: (() => void) | undefined;
    const ended = () => {
      stopWaiting?.();
      release?.();
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, forward) => {
            const info = call.getConnectionInfo();
            const key = connectionKey(info.remoteAddress, info.remotePort);
            const peerId = key === undefined ? undefined : connections.get(key);
            if (peerId === undefined) {
              // Unreachable while only verified sockets are injected; fail closed all the same.
              call.sendStatus({ code: status.UNAUTHENTICATED, details: 'SWARM_PEER_IDENTITY: connection is not authenticated' });
              return;
            }
            // The peer's own limits first: a peer past them spends none of its host's allowance.
            const byPeer = admission.admit(peerId, lane);
            const admitted = byPeer.admitted ? hostAdmission.admit(hostKey(info.remoteAddress), lane) : byPeer;
            if (!admitted.admitted) {
              if (byPeer.admitted) byPeer.release();
              refusals({ peer: peerId, reason: admitted.reason }, 'peer call refused by its limits');
              call.sendStatus(statusOf(new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, admitted.reason, undefined, { retryAfterMs: admitted.retryAfterMs })) as StatusObject);
              return;
            }
            let released = false;
            connectionCap.callStarted(key);
            release = () => {
              if (released) return;
              released = true;
              admitted.release();
              if (byPeer.admitted) byPeer.release();
              connectionCap.callEnded(key);
            };
            stopWaiting = time.scheduler.setTimer(receiveTimeoutMs, () => {
              refusals({ peer: peerId, method: method.path, reason: `no whole request within ${receiveTimeoutMs} ms` }, 'peer connection closed: a request did not arrive');
              call.sendStatus(
                statusOf(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `the request did not arrive within ${receiveTimeoutMs} ms of the call's start`)) as StatusObject,
              );
              ended();
              // The status ends the call, not its stream: the part of the message sent so far stays
              // held until the stream ends. A sender that does not end it in time loses the connection
              // (the status goes out first), and every stream and buffer on it.
              setImmediate(() => connectionCap.close(key));
            });
            metadata.set(PEER_ID_METADATA, peerId);
            metadata.set(PEER_NETWORK_METADATA, networkOf(info.remoteAddress));
            forward(metadata);
          },
          // The whole request is in at half-close, when grpc-js runs the handler (and its deadline
          // starts): a caller that sends its message but never half-closes is still waited for.
          onReceiveHalfClose: (forward) => {
            stopWaiting?.();
            forward();
          },
          onCancel: ended,
        }),
      sendStatus: (st, next) => {
        ended();
        next(st);
      },
    });
  };

  const grpcServer = new Server({
    'grpc.max_receive_message_length': limits.maxMessageBytes,
    'grpc.max_send_message_length': limits.maxMessageBytes,
    'grpc.max_concurrent_streams': limits.peer.maxInflight * STREAMS_PER_INFLIGHT_CALL,
    interceptors: [authenticateAndAdmit],
  });
  const tracer = trace.getTracer('@swarm/gateway');
  const implementation = Object.fromEntries(PEER_METHODS.map((method) => [method, unaryHandler(method)]));
  grpcServer.addService(serverServiceDefinition(), implementation);
  // TLS is ours (below), so grpc-js serves plain HTTP/2 on the sockets it is given.
  const injector = grpcServer.createConnectionInjector(ServerCredentials.createInsecure());

  function unaryHandler(method: PeerMethod): handleUnaryCall<DecodedRequest<unknown>, unknown> {
    const handler = opts.handlers[method] as ((call: PeerCall<unknown>) => unknown) | undefined;
    const path = peerMethodPath(method);
    return (call, callback) => {
      const peerId = String(call.metadata.get(PEER_ID_METADATA)[0]);
      const network = String(call.metadata.get(PEER_NETWORK_METADATA)[0]);
      if (handler === undefined) {
        callback(statusOf(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `this node does not serve ${path}`)));
        return;
      }
      const decoded = call.request;
      if (!decoded.ok) {
        refusals({ peer: peerId, method: path, reason: decoded.problem }, 'malformed peer request refused');
        callback(statusOf(new SwarmError(decoded.tooMany ? ErrorCode.ERROR_CODE_INVALID_ARGUMENT : ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, decoded.problem)));
        return;
      }
      const controller = new AbortController();
      // A call may fan out into many local requests at once, each listening for its abort (a receipt
      // delivery or a void call: up to RECEIPTS_PER_DELIVERY); they remove their listeners as they
      // end, and the signal dies with the call, so Node's leak warning at 10 listeners would be noise.
      setMaxListeners(RECEIPTS_PER_DELIVERY + 8, controller.signal);
      let done = false;
      const budgetMs = Math.min(limits.maxDeadlineMs, deadlineMs(call) - time.clock.now());
      const cancelTimer = time.scheduler.setTimer(Math.max(0, budgetMs), () => {
        controller.abort(new DOMException('deadline', 'TimeoutError'));
        finish(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `the call did not finish within its deadline (this gateway allows at most ${limits.maxDeadlineMs} ms)`));
      });
      call.on('cancelled', () => {
        done = true;
        cancelTimer();
        controller.abort(new DOMException('cancelled', 'AbortError'));
      });
      function finish(err: unknown, value?: unknown): void {
        if (done) return;
        done = true;
        cancelTimer();
        if (err === undefined) return callback(null, value);
        if (isSwarmError(err)) {
          if (PEER_FAULTS.has(err.code)) refusals({ peer: peerId, method: path, code: err.codeName, reason: err.message }, 'peer request refused');
          return callback(statusOf(err));
        }
        log.error({ err, peer: peerId, method: path }, 'peer call handler failed');
        callback(statusOf(new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'internal error')));
      }
      const run = (traceContext: TraceContext) =>
        Promise.resolve().then(() => handler({ peerId, network, request: decoded.message, signal: controller.signal, trace: traceContext }));
      const settled = isTracing()
        ? inChildSpan(tracer, path, { kind: SpanKind.SERVER, attributes: { 'swarm.peer_id': peerId } }, peerTrace(peerId, call.metadata), run)
        : run(NO_TRACE);
      settled.then(
        (value) => finish(undefined, value),
        (err: unknown) => finish(err),
      );
    };
  }

  /** The caller's trace; its request to be recorded is honoured within the peer's recording budget. */
  const peerTrace = (peerId: string, metadata: Metadata): TraceContext => {
    const parent = extractTraceContext(metadataCarrier(metadata));
    return isSampled(parent) && !admission.mayRecord(peerId) ? NOT_RECORDED : parent;
  };

  const onSecureConnection = (socket: TLSSocket): void => {
    // A reset or a garbled record ends the connection; 'close' below cleans up.
    socket.on('error', () => undefined);
    let peerId: string;
    try {
      peerId = verifyPeerCertificate(socket.getPeerCertificate().raw, time.clock.now());
    } catch (err) {
      refusals({ remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: (err as Error).message }, 'peer connection refused: identity');
      socket.destroy();
      return;
    }
    const key = connectionKey(socket.remoteAddress, socket.remotePort);
    if (socket.destroyed || key === undefined) return;
    connections.set(key, peerId);
    sockets.add(socket);
    connectionCap.authenticated(key, socket);
    admission.connected(peerId);
    socket.once('close', () => {
      connections.delete(key);
      sockets.delete(socket);
      admission.disconnected(peerId);
    });
    log.debug({ peer: peerId, remote: key }, `peer ${shortId(peerId)} connected`);
    injector.injectConnection(socket);
  };

  const tlsServer = createServer(
    {
      key: certificate.keyPem,
      cert: certificate.certPem,
      requestCert: true,
      // Any certificate passes OpenSSL; onSecureConnection decides by the identity binding.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.3',
      handshakeTimeout: limits.handshakeTimeoutMs,
    },
    onSecureConnection,
  );
  // Counted from the TCP connection, before the handshake costs anything: its host's first, then all.
  tlsServer.on('connection', (socket: Socket) => {
    const host = hostKey(socket.remoteAddress);
    if (!hostAdmission.connectionOpened(host)) {
      refusals({ remote: host, reason: 'too many connections from this host' }, 'peer connection refused: host limit');
      socket.destroy();
      return;
    }
    socket.once('close', () => hostAdmission.connectionClosed(host));
    const key = connectionKey(socket.remoteAddress, socket.remotePort);
    if (key === undefined || !connectionCap.opened(key, socket)) {
      refusals(
        { remote: host, reason: 'no connection the gateway holds may close to make room (each has a call in flight, or had one within a second)' },
        'peer connection refused: gateway limit',
      );
      socket.destroy();
    }
  });
  tlsServer.on('tlsClientError', (err, socket) => {
    // With a listener here node closes nothing itself: a handshake that timed out or failed would
    // keep its connection (and its place under the caps) for ever.
    if (!socket.destroyed) refusals({ remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.message }, 'peer connection refused: TLS handshake failed');
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    tlsServer.once('error', reject);
    tlsServer.listen(opts.listen.port, opts.listen.host, () => {
      tlsServer.off('error', reject);
      resolve();
    });
  });
  tlsServer.on('error', (err) => log.error({ err }, 'gateway listener failed'));
  const bound = tlsServer.address() as AddressInfo;
  const address = Object.freeze({ host: opts.listen.host, port: bound.port });

  return {
    address,
    peerCount: () => admission.peerCount(),
    async stop(graceMs) {
      const closed = new Promise<void>((resolve) => tlsServer.close(() => resolve()));
      const drained = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      const graceOver = new AbortController();
      await Promise.race([drained, time.scheduler.sleep(graceMs, graceOver.signal)]);
      graceOver.abort();
      grpcServer.forceShutdown();
      injector.destroy();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function connectionKey(address: string | undefined, port: number | undefined): string | undefined {
  return address === undefined || port === undefined ? undefined : `${address}|${port}`;
}

/** The caller's deadline as epoch ms (Infinity when it set none). */
function deadlineMs(call: ServerUnaryCall<unknown, unknown>): number {
  const d = call.getDeadline();
  return d instanceof Date ? d.getTime() : d;
}

function cappedWarn(log: Logger, time: Time): (fields: Record<string, unknown>, message: string) => void {
  const limiter = createRateLimiter({ perSecond: REFUSAL_LOG_PER_SECOND, burst: REFUSAL_LOG_BURST }, time.stopwatch);
  let suppressed = 0;
  return (fields, message) => {
    if (!limiter.take()) {
      suppressed += 1;
      return;
    }
    log.warn({ ...fields, suppressedSinceLast: suppressed }, message);
    suppressed = 0;
  };
}

/**
 * Dials a peer gateway by (node id, address) with mutual TLS, for the registry and the router.
 *
 * How the client pins a server it has never seen (a seed known only as `<node id>@host:port`):
 * it first fetches the server's certificate with a short TLS handshake and checks that its key
 * hashes to the expected node id (peer-identity.ts); then grpc-js connects with exactly that
 * certificate as its only trust root, so OpenSSL refuses any other, and checkServerIdentity checks
 * the key hash once more on every connection. (grpc-js skips checkServerIdentity when
 * `rejectUnauthorized` is false, so "accept any, check later" is not available on this side.) A
 * certificate known in advance (`pinnedCertPem`, e.g. from a signed record) skips the fetch. When
 * the peer becomes unreachable the pin is dropped and fetched again, which follows a peer that
 * renewed its certificate and still accepts only its key.
 */
import type { Client, ServiceError } from '@grpc/grpc-js';
import { credentials, makeGenericClientConstructor, Metadata, status } from '@grpc/grpc-js';
import { SpanKind, trace } from '@opentelemetry/api';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import type { NodeCertificate } from '@swarm/identity';
import type { TraceContext } from '@swarm/telemetry';
import { inChildSpan, injectTraceContext, isTracing, NO_TRACE } from '@swarm/telemetry';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { metadataCarrier } from './metadata-carrier';
import type { PeerAddress } from './peer-address';
import { formatHostPort } from './peer-address';
import { PeerIdentityError, shortId, verifyPeerCertificate } from './peer-identity';
import type { PeerMethod, PeerRequest, PeerResponse } from './peer-service';
import { clientServiceDefinition, peerMethodPath } from './peer-service';
import { MIN_IDLE_MS } from '@swarm/connection-cap';
import { errorOfStatus, isPeerNamedStatus } from './peer-status';

/** Deadline of a call that names none: every peer call has one. */
export const DEFAULT_PEER_CALL_TIMEOUT_MS = 10_000;
/** How long fetching a peer's certificate may take. */
export const CERT_FETCH_TIMEOUT_MS = 5_000;
/**
 * TLS server name sent to peers. SNI must be a DNS name (an IP is deprecated, DEP0123); the
 * server ignores it, and the node-id check replaces hostname verification.
 */
export const PEER_TLS_SERVERNAME = 'swarm-peer';
/**
 * A peer behind a cut link answers nothing, not even a TCP reset: without HTTP/2 pings a call to it
 * waits out its whole deadline (for a large task, all the task's time), leaving none to re-dispatch.
 * While calls are in flight the client pings every PEER_KEEPALIVE_TIME_MS; a ping unanswered for
 * PEER_KEEPALIVE_TIMEOUT_MS drops the connection and fails its calls UNAVAILABLE (retryable). A
 * provider busy with a task still answers: its gateway only waits, the executors compute elsewhere.
 * grpc-js servers (every peer's) do not limit client pings.
 */
export const PEER_KEEPALIVE_TIME_MS = 2_000;
export const PEER_KEEPALIVE_TIMEOUT_MS = 5_000;

export interface PeerClientOptions {
  /** This node's certificate and key (its client identity). */
  readonly certificate: NodeCertificate;
  readonly peer: PeerAddress;
  readonly clock: WallClock;
  readonly callTimeoutMs?: number;
  /** Largest response accepted, bytes (grpc-js' default is 4 MiB). */
  readonly maxMessageBytes?: number;
  /** The peer's certificate (PEM) when already known: pinned without fetching it. */
  readonly pinnedCertPem?: string;
}

export interface PeerCallOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** The trace the call belongs to (a handler's trace); default: a new one. */
  readonly trace?: TraceContext;
}

export interface PeerClient {
  readonly peerId: string;
  /** One call; fails with a SwarmError (the peer's code), or PeerIdentityError when the peer is not who it should be. */
  call<M extends PeerMethod>(method: M, request: PeerRequest<M>, opts?: PeerCallOptions): Promise<PeerResponse<M>>;
  close(): void;
  /**
   * Whether a connection's TLS handshake at this client's address met the peer itself (its key and
   * node id checked): the address reaches the peer, whatever became of a call since.
   */
  readonly reachedPeer?: () => boolean;
}

/** A call cut this soon after it started is made again (exchange): sooner than the first keepalive ping. */
const RETRY_CUT_WITHIN_MS = PEER_KEEPALIVE_TIME_MS;
/**
 * The calls made again when cut: those that change nothing on the peer, or the same thing twice
 * (a DHT store of the same record). From this side a cut cannot tell a request that never reached
 * the handler from an answer lost on its way back: a task (`execute`) would run twice, and the
 * ledger calls are answered from the payer's outbox, which retries them itself.
 */
const REPEATABLE: ReadonlySet<PeerMethod> = new Set<PeerMethod>(['nodeInfo', 'ping', 'dhtPing', 'dhtStore', 'dhtFindNode', 'dhtFindValue', 'chainBlocks']);
/** Failures that were the connection's, not the peer's answer. */
const connectionCuts = new WeakSet<object>();
const isConnectionCut = (err: unknown): boolean => typeof err === 'object' && err !== null && connectionCuts.has(err);

const PeerServiceClient = makeGenericClientConstructor(clientServiceDefinition(), 'PeerService');
type UnaryMethod = (request: unknown, metadata: Metadata, options: { deadline: number }, callback: (err: ServiceError | null, value?: unknown) => void) => { cancel(): void };

export function dialPeer(opts: PeerClientOptions): PeerClient {
  const { certificate, peer, clock } = opts;
  const target = formatHostPort(peer.address);
  const label = `peer ${shortId(peer.nodeId)} at ${target}`;
  const callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_PEER_CALL_TIMEOUT_MS;
  const tracer = trace.getTracer('@swarm/gateway');
  let connecting: Promise<Client> | undefined;
  let identityFailure: PeerIdentityError | undefined;
  let closed = false;
  let metPeer = false;

  const expectPeer = (der: Uint8Array | undefined, where: string): PeerIdentityError | undefined => {
    try {
      const id = verifyPeerCertificate(der, clock.now());
      if (id === peer.nodeId) return undefined;
      return new PeerIdentityError(`${target} is node ${shortId(id)}, expected ${shortId(peer.nodeId)} (${where})`);
    } catch (err) {
      return new PeerIdentityError(`${label}: ${(err as Error).message} (${where})`, { cause: err });
    }
  };

  async function connectClient(): Promise<Client> {
    const pem = opts.pinnedCertPem ?? (await fetchPeerCertificate(peer, certificate, target)).toString();
    let der: Uint8Array;
    try {
      der = new X509Certificate(pem).raw;
    } catch (err) {
      throw new PeerIdentityError(`${label}: the pinned certificate is not X.509`, { cause: err });
    }
    const wrong = expectPeer(der, opts.pinnedCertPem ? 'pinned certificate' : 'fetched certificate');
    if (wrong) throw wrong;
    const creds = credentials.createSsl(Buffer.from(pem), Buffer.from(certificate.keyPem), Buffer.from(certificate.certPem), {
      checkServerIdentity: (_host, cert) => {
        identityFailure = expectPeer(cert.raw, 'TLS connection');
        if (identityFailure === undefined) metPeer = true;
        return identityFailure;
      },
    });
    return new PeerServiceClient(target, creds, {
      'grpc.ssl_target_name_override': PEER_TLS_SERVERNAME,
      'grpc.default_authority': PEER_TLS_SERVERNAME,
      'grpc.keepalive_time_ms': PEER_KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': PEER_KEEPALIVE_TIMEOUT_MS,
      // Idle pooled connections are not pinged: a call on a dead one is caught by its own pings.
      'grpc.keepalive_permit_without_calls': 0,
      ...(opts.maxMessageBytes === undefined ? {} : { 'grpc.max_receive_message_length': opts.maxMessageBytes }),
    });
  }

  function grpcClient(): Promise<Client> {
    if (closed) return Promise.reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `${label}: client closed`));
    if (!connecting) {
      const attempt = connectClient();
      connecting = attempt;
      attempt.catch(() => {
        if (connecting === attempt) connecting = undefined;
      });
    }
    return connecting;
  }

  function forgetConnection(): void {
    const current = connecting;
    connecting = undefined;
    void current?.then((c) => c.close()).catch(() => undefined);
  }

  /** Calls going on now, and when the last one ended: whether the connection stood idle (retried below). */
  let inFlight = 0;
  let lastActiveMs = -Infinity;

  /**
   * One call; a REPEATABLE one is made once more on a new connection when it was cut as it started
   * on one that had stood idle MIN_IDLE_MS: the peer's gateway closes such connections to make room
   * for new ones (connection-cap.ts), and a call sent just then never reached a handler. Only a cut
   * the connection made (UNAVAILABLE, not in the peer's words) within RETRY_CUT_WITHIN_MS, before
   * any keepalive could judge the link, and within the call's own deadline.
   */
  async function exchange(method: PeerMethod, request: unknown, callOpts: PeerCallOptions, traceContext: TraceContext | undefined): Promise<unknown> {
    const startedMs = clock.now();
    const idle = inFlight === 0 && connecting !== undefined && startedMs - lastActiveMs >= MIN_IDLE_MS;
    const timeoutMs = callOpts.timeoutMs ?? callTimeoutMs;
    inFlight += 1;
    try {
      return await exchangeOnce(method, request, { ...callOpts, timeoutMs }, traceContext);
    } catch (err) {
      const elapsedMs = clock.now() - startedMs;
      const repeat = idle && REPEATABLE.has(method) && isConnectionCut(err) && elapsedMs < RETRY_CUT_WITHIN_MS && elapsedMs < timeoutMs && !callOpts.signal?.aborted;
      if (!repeat) throw err;
      return await exchangeOnce(method, request, { ...callOpts, timeoutMs: timeoutMs - elapsedMs }, traceContext);
    } finally {
      inFlight -= 1;
      lastActiveMs = clock.now();
    }
  }

  async function exchangeOnce(method: PeerMethod, request: unknown, callOpts: PeerCallOptions, traceContext: TraceContext | undefined): Promise<unknown> {
    const client = await grpcClient();
    const metadata = new Metadata();
    if (traceContext) injectTraceContext(metadataCarrier(metadata), traceContext);
    const unary = (client as unknown as Record<string, UnaryMethod>)[method];
    return new Promise((resolve, reject) => {
      if (callOpts.signal?.aborted) return reject(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `${label}: aborted before the call`));
      const call = unary.call(client, request, metadata, { deadline: clock.now() + (callOpts.timeoutMs ?? callTimeoutMs) }, (err, value) => {
        callOpts.signal?.removeEventListener('abort', cancel);
        if (!err) return resolve(value);
        if (identityFailure) return reject(identityFailure);
        const failure = errorOfStatus(err, label);
        if (err.code === status.UNAVAILABLE && !isPeerNamedStatus(err)) connectionCuts.add(failure);
        if (failure instanceof SwarmError && failure.code === ErrorCode.ERROR_CODE_UNAVAILABLE && !opts.pinnedCertPem) forgetConnection();
        reject(failure);
      });
      const cancel = () => call.cancel();
      callOpts.signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  return {
    peerId: peer.nodeId,
    async call(method, request, callOpts = {}) {
      if (!isTracing()) return exchange(method, request, callOpts, undefined) as Promise<never>;
      const attributes = { 'swarm.peer_id': peer.nodeId };
      return inChildSpan(tracer, `request ${peerMethodPath(method)}`, { kind: SpanKind.CLIENT, attributes }, callOpts.trace ?? NO_TRACE, (traceContext) =>
        exchange(method, request, callOpts, traceContext),
      ) as Promise<never>;
    },
    close() {
      closed = true;
      forgetConnection();
    },
    reachedPeer: () => metPeer,
  };
}

/** The certificate the peer presents (DER), from one TLS handshake with this node's own certificate. */
function fetchPeerCertificate(peer: PeerAddress, certificate: NodeCertificate, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: peer.address.host,
      port: peer.address.port,
      key: certificate.keyPem,
      cert: certificate.certPem,
      // Only the certificate is wanted here; the caller checks its key against the node id.
      rejectUnauthorized: false,
      servername: PEER_TLS_SERVERNAME,
      ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.3',
    });
    socket.setTimeout(CERT_FETCH_TIMEOUT_MS, () => socket.destroy(new Error(`no TLS handshake within ${CERT_FETCH_TIMEOUT_MS} ms`)));
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      socket.end();
      if (!raw) return reject(new PeerIdentityError(`${target} presented no certificate`));
      resolve(new X509Certificate(raw).toString());
    });
    socket.once('error', (err: Error) => reject(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `${target}: ${err.message}`, undefined, { cause: err })));
  });
}

/**
 * The agents' HTTP API server (fastify): bearer-token authentication and a per-token rate limit
 * before anything else (so an unknown caller's body is never read), one error shape for every
 * refusal (http-errors.ts), fastify's router and node's HTTP parser included, schemas declared
 * once and served as OpenAPI at /openapi.json, and the routes of http-routes.ts. Loopback by
 * default (config.ts).
 *
 * The rate limit counts what an agent asks for once: an MCP tool call over HTTP is counted as the
 * /mcp request, and the API calls the MCP server makes for it on loopback carry this process's
 * inner-call secret (INNER_CALL_HEADER) and are authenticated but not counted again by the rate
 * limit (their request bytes are: a task holds its own copy of its inputs).
 *
 * Request bytes are bounded across requests and per agent (body-budget.ts, request-bytes.ts),
 * counted before a body is read; a path no route has is answered 404 or 405 before then too.
 *
 * Which requests need a token is decided by the route the router matched, never by the raw URL:
 * the router decodes the path (`/%761/tasks` is `/v1/tasks`), so a test of the raw text would let
 * an encoded path reach a route unauthenticated. Every route needs one except PUBLIC_ROUTES, and
 * so does an unknown path (404 only for an agent).
 */
import { formatHostPort } from '@swarm/config';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Stopwatch, WallClock } from '@swarm/determinism';
import { createConnectionCap } from '@swarm/connection-cap';
import type { Logger } from '@swarm/telemetry';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify from 'fastify';
import type { AgentRecord } from './agent-rules';
import { tokenProblem } from './agent-rules';
import type { AgentStore } from './agent-store';
import { createBodyBudget, DEFAULT_BODY_BUDGET_BYTES } from './body-budget';
import { watchStalledAnswers } from './stalled-answers';
import { authorizationHeaders, bearerToken, hashToken } from './agent-token';
import type { ApiHttpConfig } from './config';
import { DEFAULT_MAX_HTTP_CONNECTIONS } from './config';

import type { HttpErrorReply } from './http-errors';
import { clientErrorOf, httpErrorOf, HttpOnlyError, MAX_PATH_PARAM_CHARS } from './http-errors';
import { NoQuery, SHARED_SCHEMAS } from './http-schemas';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth';
import { markArrival, takeRequestBytes } from './request-bytes';
import { routeMethods } from './route-methods';
import type { AgentRateLimiter } from './token-bucket';
import { rateLimited } from './token-bucket';

/** The whole request (headers and body) must arrive within this; a slow sender is cut off. */
export const REQUEST_RECEIVE_TIMEOUT_MS = 30_000;
/** How often node looks for requests past that limit: a slow sender is cut within this of it. */
const RECEIVE_TIMEOUT_CHECK_MS = 1_000;
export const API_VERSION = '0.1.0';
export const PROTOBUF_MEDIA_TYPE = 'application/x-protobuf';
const JSON_UTF8 = 'application/json; charset=utf-8';
/** Routes anyone may call (matched route patterns); every other request needs an agent token. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/openapi.json']);
/** Marks an API call made by this process's own MCP endpoint for a request it already counted. */
export const INNER_CALL_HEADER = 'x-swarm-inner-call';

export type ApiServer = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface HttpServerDeps {
  config: ApiHttpConfig;
  store: AgentStore;
  limiter: AgentRateLimiter;
  /** The value of INNER_CALL_HEADER on this process's own calls: random, never leaves the process. */
  innerCallSecret: string;
  clock: WallClock;
  /** Ages of connections, for the connection cap. */
  stopwatch: Stopwatch;
  log: Logger;
}

const agents = new WeakMap<FastifyRequest, AgentRecord>();
/** Requests the MCP endpoint made for an agent (INNER_CALL_HEADER): their results are built as JSON three times there. */
const innerCalls = new WeakSet<FastifyRequest>();

/** Whether `request` is one the MCP endpoint made on an agent's behalf. */
export function isMcpInnerCall(request: FastifyRequest): boolean {
  return innerCalls.has(request);
}
/** The authenticated agent of a /v1 request (the onRequest hook set it). */
export function agentOf(request: FastifyRequest): AgentRecord {
  const agent = agents.get(request);
  if (!agent) throw new SwarmError(ErrorCode.ERROR_CODE_UNAUTHENTICATED, 'not authenticated');
  return agent;
}

function unauthenticated(message: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_UNAUTHENTICATED, message);
}

/** A fastify instance with authentication, limits, errors and OpenAPI set up; routes are added by the caller. */
export async function createHttpServer(deps: HttpServerDeps): Promise<ApiServer> {
  const { config, store, limiter, clock, log } = deps;
  const largestBody = Math.max(config.jsonBodyBytes, config.protobufBodyBytes);
  const budget = createBodyBudget(config.bodyBudgetBytes ?? DEFAULT_BODY_BUDGET_BYTES, largestBody);
  const innerSecret = Buffer.from(deps.innerCallSecret);
  const isInnerCall = (value: string | string[] | undefined): boolean =>
    typeof value === 'string' && value.length === innerSecret.length && timingSafeEqual(Buffer.from(value), innerSecret);
  const app = Fastify({
    logger: false,
    bodyLimit: config.jsonBodyBytes,
    requestTimeout: REQUEST_RECEIVE_TIMEOUT_MS,
    // Node checks its timeouts every connectionsCheckingInterval (30 s by default), so a slow sender
    // would get up to twice the limit; headersTimeout is node's own, 60 s unless set.
    // requireHostHeader: node's own refusal of an HTTP/1.1 request without Host is a bare 400; the
    // onRequest hook refuses it instead, in the API's error shape.
    http: {
      connectionsCheckingInterval: RECEIVE_TIMEOUT_CHECK_MS,
      headersTimeout: REQUEST_RECEIVE_TIMEOUT_MS,
      requestTimeout: REQUEST_RECEIVE_TIMEOUT_MS,
      requireHostHeader: false,
    },
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PATH_PARAM_CHARS },
    // The router's refusals (bad percent-encoding, a parameter too long) and malformed HTTP get the
    // API's error shape, not fastify's (which quotes the whole URL).
    frameworkErrors: (err, _request, reply) => sendFrameworkError(httpErrorOf(err, config), reply),
    // Bytes after a request that asked to close the connection: node answers that request and
    // closes; answering them would cut its answer off.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => (err.code === 'HPE_CLOSED_CONNECTION' ? undefined : answerClientError(clientErrorOf(err.code), socket)),
    // Strict schemas: a field too many or of the wrong type is refused, never dropped or coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'SwarmHarness agent API', version: API_VERSION, description: "Hire the node's compute: skills, quotes, verified tasks, balance, peers." },
      components: { securitySchemes: { agentToken: { type: 'http', scheme: 'bearer', description: 'an agent token (swt_…) from `swarm agent add`' } } },
      security: [{ agentToken: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  // JSON and protobuf only: a text body would reach the routes unchecked by any schema.
  app.removeContentTypeParser('text/plain');
  // JSON as fastify parses it, once its nesting is known to be shallow (json-depth.ts).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (nestsDeeperThan(body as string, MAX_JSON_DEPTH)) {
      done(new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, `the JSON body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    void parseJson(request, body as string, (err, parsed) => {
      // Fastify's parser refuses `__proto__` (and `constructor.prototype`) keys with the words it
      // uses for text that is no JSON: valid JSON is told what is wrong with it.
      if (err && isJson(body as string)) {
        done(new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'the JSON body holds a "__proto__" key (or "constructor" with "prototype"), which no request takes'), undefined);
        return;
      }
      done(err, parsed);
    });
  });
  app.addContentTypeParser(PROTOBUF_MEDIA_TYPE, { parseAs: 'buffer', bodyLimit: config.protobufBodyBytes }, (_req, body, done) => done(null, body));

  // Connections from every client together (on loopback every local process is one host): a silent
  // connection was held 30 s, and enough of them took every file descriptor (helper-178). Past the
  // cap a new connection takes the place of the one that proved nothing longest, then of the one
  // idle longest. A connection proves itself only by an agent's request that passed the token check
  // (countAgentRequest, from onRequest), and only those are in flight until their answer is handed
  // to the system: 401s and public routes on every connection, or answers left unread, held every
  // slot (helper-179).
  const cap = createConnectionCap(config.maxConnections ?? DEFAULT_MAX_HTTP_CONNECTIONS, deps.stopwatch);
  const connectionKeys = new WeakMap<Socket, string>();
  let connections = 0;
  app.server.on('connection', (socket: Socket) => {
    const key = String((connections += 1));
    connectionKeys.set(socket, key);
    if (!cap.opened(key, socket)) socket.destroy();
  });
  const countAgentRequest = (request: FastifyRequest, reply: FastifyReply) => {
    const socket = request.raw.socket;
    const key = connectionKeys.get(socket);
    if (key === undefined) return;
    cap.authenticated(key, socket);
    cap.callStarted(key);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      cap.callEnded(key);
    };
    reply.raw.once('finish', end);
    reply.raw.once('close', end);
  };

  // Every response is watched: one whose client stopped reading a large answer is closed (stalled-answers.ts).
  const stalled = watchStalledAnswers();
  app.addHook('onClose', async () => stalled.stop());
  app.addHook('onRequest', async (request, reply) => {
    markArrival(request);
    stalled.watch(reply.raw);
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined)
      throw new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, 'an HTTP/1.1 request must carry a Host header (RFC 9112 §3.2)');
    const route = request.routeOptions.url;
    if (route !== undefined && PUBLIC_ROUTES.has(route)) return;
    const bearer = bearerToken(authorizationHeaders(request.raw.rawHeaders));
    if ('problem' in bearer) throw unauthenticated(bearer.problem);
    const agent = store.byTokenHash(hashToken(bearer.token));
    if (!agent) throw unauthenticated('unknown agent token');
    const problem = tokenProblem(agent, clock.now());
    if (problem) throw unauthenticated(problem);
    const inner = isInnerCall(request.headers[INNER_CALL_HEADER]);
    if (inner) innerCalls.add(request);
    const waitMs = inner ? 0 : limiter.take(agent.name);
    if (waitMs > 0) throw rateLimited(config, waitMs);
    agents.set(request, agent);
    countAgentRequest(request, reply);
    // No route: answered now, before any body is read or counted.
    if (request.is404) throw noRoute(request, reply);
    // A compressed body would be read as it is and fail as JSON that is not: said for what it is.
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `a body with Content-Encoding ${JSON.stringify(encoding.slice(0, 32))} is not taken: send it uncompressed`);
    }
    // Counted after authentication, before a byte of the body is read (an inner MCP call's too: its
    // task holds its own copy of the inputs).
    if (request.method !== 'GET' && request.method !== 'HEAD') takeRequestBytes(budget, agent.name, request, reply, largestBody);
  });

  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  // A path some route has, asked with another method: 405 and what it takes (`Allow`), not 404.
  const methods = routeMethods();
  app.addHook('onRoute', (route) => {
    methods.add(route.url, route.method);
    // A route without a query schema takes no query: `?x=1` is refused as on the others, not ignored.
    if (!route.schema?.querystring) route.schema = { ...route.schema, querystring: NoQuery };
  });
  function noRoute(request: FastifyRequest, reply: FastifyReply): HttpOnlyError {
    const allowed = methods.allowed(pathOf(request.url));
    if (allowed.length === 0) return new HttpOnlyError(404, 'SWARM_NOT_FOUND', 'no such route; GET /openapi.json lists them');
    void reply.header('allow', allowed.join(', '));
    return new HttpOnlyError(405, 'SWARM_METHOD_NOT_ALLOWED', `${request.method.slice(0, 16)} is not allowed here; this path takes ${allowed.join(', ')}`);
  }
  // Reached only by what onRequest lets through unanswered (nothing today): the same answer.
  app.setNotFoundHandler((request, reply) => sendError(noRoute(request, reply), request, reply));

  function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const e = httpErrorOf(err, config);
    if (e.internal) log.error({ err, method: request.method, route: request.routeOptions.url }, 'HTTP request failed');
    void reply.code(e.status).headers(e.headers).type(JSON_UTF8).send(e.body);
  }

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The path of a request URL without its query, each segment decoded (an encoded `/` stays inside its segment). */
function pathOf(url: string): string {
  return url
    .split('?', 1)[0]
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment).replace(/\//g, '%2F');
      } catch {
        return segment;
      }
    })
    .join('/');
}

/** An error found before any route matched: no route context, so only the reply itself. */
function sendFrameworkError(e: HttpErrorReply, reply: FastifyReply): void {
  void reply.code(e.status).headers(e.headers).type(JSON_UTF8).send(JSON.stringify(e.body));
}

/** Writes the error on the raw socket (no request was parsed), then closes it, as node's own default does. */
function answerClientError(e: HttpErrorReply | undefined, socket: Socket): void {
  // Nothing into the middle of a response already under way.
  if (e && !socket.destroyed && socket.writable && socket.bytesWritten === 0) {
    const body = JSON.stringify(e.body);
    const headers = Object.entries({ ...e.headers, 'content-type': JSON_UTF8, 'content-length': String(Buffer.byteLength(body)), connection: 'close' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\n${headers}\r\n${body}`);
  }
  socket.destroy();
}

/** Starts listening; the address actually bound (port 0 picks one). */
export async function listen(app: ApiServer, config: ApiHttpConfig): Promise<string> {
  await app.listen({ host: config.listen.host, port: config.listen.port });
  const bound = app.server.address() as AddressInfo;
  return formatHostPort({ host: bound.address, port: bound.port });
}

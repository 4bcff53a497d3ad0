/**
 * The agents' HTTP API server (fastify): bearer-token authentication and a per-token rate limit
 * before anything else (so an unknown caller's body is never read), one error shape for every
 * refusal (http-errors.ts), schemas declared once and served as OpenAPI at /openapi.json, and the
 * routes of http-routes.ts. Loopback by default (config.ts).
 */
import { formatHostPort } from '@swarm/config';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { WallClock } from '@swarm/determinism';
import type { Logger } from '@swarm/telemetry';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify from 'fastify';
import type { AgentRecord } from './agent-rules';
import { tokenProblem } from './agent-rules';
import type { AgentStore } from './agent-store';
import { bearerToken, hashToken } from './agent-token';
import type { ApiHttpConfig } from './config';

import { httpErrorOf, HttpOnlyError } from './http-errors';
import { SHARED_SCHEMAS } from './http-schemas';
import type { RateLimiter } from './token-bucket';

/** The whole request (headers and body) must arrive within this; a slow sender is cut off. */
export const REQUEST_RECEIVE_TIMEOUT_MS = 30_000;
export const API_VERSION = '0.1.0';
export const PROTOBUF_MEDIA_TYPE = 'application/x-protobuf';
/** Paths only an agent may call: the API, and its MCP endpoint (mcp-http.ts). */
const AUTHENTICATED_PATH = /^\/(?:v1\/|mcp(?:$|\?))/;

export type ApiServer = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface HttpServerDeps {
  config: ApiHttpConfig;
  store: AgentStore;
  limiter: RateLimiter;
  clock: WallClock;
  log: Logger;
}

const agents = new WeakMap<FastifyRequest, AgentRecord>();

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
  const app = Fastify({
    logger: false,
    bodyLimit: config.jsonBodyBytes,
    requestTimeout: REQUEST_RECEIVE_TIMEOUT_MS,
    return503OnClosing: true,
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
  app.addContentTypeParser(PROTOBUF_MEDIA_TYPE, { parseAs: 'buffer', bodyLimit: config.protobufBodyBytes }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (request) => {
    if (!AUTHENTICATED_PATH.test(request.url)) return;
    const bearer = bearerToken(request.headers.authorization);
    if ('problem' in bearer) throw unauthenticated(bearer.problem);
    const agent = store.byTokenHash(hashToken(bearer.token));
    if (!agent) throw unauthenticated('unknown agent token');
    const problem = tokenProblem(agent, clock.now());
    if (problem) throw unauthenticated(problem);
    const waitMs = limiter.take(agent.name);
    if (waitMs > 0) {
      throw new SwarmError(ErrorCode.ERROR_CODE_RATE_LIMITED, `too many requests from this agent token: at most ${config.ratePerSecond}/s (bursts of ${config.burst})`, true, {
        retryAfterMs: waitMs,
      });
    }
    agents.set(request, agent);
  });

  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(new HttpOnlyError(404, 'SWARM_NOT_FOUND', 'no such route; GET /openapi.json lists them'), request, reply));

  function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const e = httpErrorOf(err, config);
    if (e.internal) log.error({ err, method: request.method, route: request.routeOptions.url }, 'HTTP request failed');
    void reply.code(e.status).headers(e.headers).type('application/json; charset=utf-8').send(e.body);
  }

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}

/** Starts listening; the address actually bound (port 0 picks one). */
export async function listen(app: ApiServer, config: ApiHttpConfig): Promise<string> {
  await app.listen({ host: config.listen.host, port: config.listen.port });
  const bound = app.server.address() as AddressInfo;
  return formatHostPort({ host: bound.address, port: bound.port });
}

/**
 * Every HTTP error has one shape: the status ERROR_CODES gives the code, and a body
 * `{error: {code: "SWARM_…", message, retryable, retryAfterMs?}}` (with Retry-After when there is
 * a hint). Fastify's own refusals (bad JSON, schema, size, media type) get the same codes as on
 * the bus; anything unexpected is INTERNAL with a fixed message, its detail only in the log. A
 * message is capped, so no error echoes a large input.
 */
import {
  ErrorCode,
  errorCodeName,
  IDEMPOTENCY_KEY_PATTERN,
  IDEMPOTENCY_KEY_TEXT,
  isSwarmError,
  serviceStatusOf,
  SKILL_NAME_PATTERN,
  SKILL_NAME_TEXT,
  SwarmError,
  TASK_ID_PATTERN,
  TASK_ID_TEXT,
} from '@swarm/contracts';
import { UINT64_PATTERN } from './http-schemas';

export const MAX_ERROR_MESSAGE_CHARS = 300;
export const INTERNAL_MESSAGE = 'internal error; details are in the node log';
/** fastify's maxParamLength: a longer path parameter (a task id) is refused before any route runs. */
export const MAX_PATH_PARAM_CHARS = 100;

export interface ErrorBody {
  error: { code: string; message: string; retryable: boolean; retryAfterMs?: number };
}

export interface HttpErrorReply {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
  /** True when the cause was unexpected (worth an error log line). */
  internal: boolean;
}

/** An answer of the HTTP API only, with no bus code: an unknown route, or a task this agent does not have. */
export class HttpOnlyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  validation?: unknown;
  /** Which part of the request failed its schema: body, querystring, params, headers. */
  validationContext?: unknown;
  message?: unknown;
}

/** One of ajv's errors, as fastify hands them over. */
interface SchemaError {
  keyword?: unknown;
  instancePath?: unknown;
  params?: { allowedValue?: unknown; additionalProperty?: unknown; pattern?: unknown };
  message?: unknown;
}

/** What a value of each pattern the schemas use looks like, in words: ajv's own message quotes the regular expression. */
const PATTERN_WORDS: ReadonlyMap<unknown, string> = new Map([
  [TASK_ID_PATTERN, `a task id: ${TASK_ID_TEXT}`],
  [SKILL_NAME_PATTERN, `a skill name: ${SKILL_NAME_TEXT}`],
  [IDEMPOTENCY_KEY_PATTERN, `an idempotency key: ${IDEMPOTENCY_KEY_TEXT}`],
  [UINT64_PATTERN, 'a whole number of at most 20 digits'],
]);

/** Longest client-sent property name a schema error quotes. */
const MAX_QUOTED_NAME_CHARS = 32;

/**
 * ajv's errors read as one line: a union of constants as the values it allows (ajv wrote one "must be
 * equal to constant" per value, then "must match a schema in anyOf"), an unknown property by its
 * name (capped), each problem once. Never a value sent.
 */
function schemaProblems(errors: readonly SchemaError[], context: string, fallback: string): string {
  const placed = errors.map((e) => ({ e, at: `${context}${typeof e.instancePath === 'string' ? e.instancePath : ''}` }));
  const allowed = new Map<string, string[]>();
  for (const { e, at } of placed) if (e.keyword === 'const') allowed.set(at, [...(allowed.get(at) ?? []), String(e.params?.allowedValue)]);
  const problems: string[] = [];
  for (const { e, at } of placed) {
    const values = allowed.get(at);
    if (values && (e.keyword === 'const' || e.keyword === 'anyOf')) problems.push(`${at} must be one of ${values.join(', ')}`);
    else if (e.keyword === 'pattern') problems.push(`${at} must be ${PATTERN_WORDS.get(e.params?.pattern) ?? 'of the form the field takes'}`);
    else if (e.keyword === 'additionalProperties') problems.push(`${at} has no property ${JSON.stringify(String(e.params?.additionalProperty).slice(0, MAX_QUOTED_NAME_CHARS))}`);
    else if (typeof e.message === 'string') problems.push(`${at} ${e.message}`);
  }
  return problems.length > 0 ? [...new Set(problems)].join('; ') : fallback;
}

function cap(message: string): string {
  return message.length > MAX_ERROR_MESSAGE_CHARS ? `${message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : message;
}

/** Fastify's errors as bus codes; undefined for anything that is not one of them. */
function fromFastify(err: FastifyLikeError, limits: { jsonBodyBytes: number; protobufBodyBytes: number }): SwarmError | undefined {
  const message = typeof err.message === 'string' ? err.message : '';
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SwarmError(
        ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE,
        `request body too large: JSON bodies take at most ${limits.jsonBodyBytes} bytes, protobuf bodies ${limits.protobufBodyBytes} (send large tensors as application/x-protobuf)`,
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, 'the request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'unsupported Content-Type: send application/json (or application/x-protobuf for POST /v1/tasks)');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, 'the body length does not match Content-Length');
    // The router's own refusals (frameworkErrors): their fastify messages quote the whole URL.
    case 'FST_ERR_BAD_URL':
      return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'the URL path is not valid percent-encoding');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `a path parameter is too long: at most ${MAX_PATH_PARAM_CHARS} characters`);
    // The client went away mid-body (the body reader's 'aborted'): nothing to answer, nothing to log
    // as ours. Any other reset (a route's own call) stays an internal error.
    case 'ECONNRESET':
      if (message === 'aborted') return new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, 'the request was cut off before its body arrived');
      break;
    default:
      break;
  }
  // Schema failures: ajv's messages name the field and the rule, never the value sent.
  if (Array.isArray(err.validation)) {
    const context = typeof err.validationContext === 'string' ? err.validationContext : '';
    return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `request does not match the schema: ${schemaProblems(err.validation as SchemaError[], context, message)}`);
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : 0;
  if (status >= 400 && status < 500 && typeof err.code === 'string' && err.code.startsWith('FST_')) {
    return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `bad request (${err.code})`);
  }
  return undefined;
}

/** A task's error as a status shows it: the code's name, the message capped, an internal one's detail left to the log. */
export function shownTaskError(code: ErrorCode, message: string, retryable: boolean): { code: string; message: string; retryable: boolean } {
  return { code: errorCodeName(code), message: code === ErrorCode.ERROR_CODE_INTERNAL ? INTERNAL_MESSAGE : cap(message), retryable };
}

export function httpErrorOf(err: unknown, limits: { jsonBodyBytes: number; protobufBodyBytes: number }): HttpErrorReply {
  if (err instanceof HttpOnlyError) {
    return { status: err.status, headers: {}, body: { error: { code: err.code, message: cap(err.message), retryable: false } }, internal: false };
  }
  const swarm = isSwarmError(err) ? err : fromFastify(err ?? {}, limits);
  if (!swarm) {
    return { status: 500, headers: {}, body: { error: { code: errorCodeName(ErrorCode.ERROR_CODE_INTERNAL), message: INTERNAL_MESSAGE, retryable: false } }, internal: true };
  }
  const internal = swarm.code === ErrorCode.ERROR_CODE_INTERNAL;
  const error: ErrorBody['error'] = {
    code: errorCodeName(swarm.code),
    message: internal ? INTERNAL_MESSAGE : cap(swarm.message),
    retryable: swarm.retryable,
  };
  const headers: Record<string, string> = {};
  if (swarm.retryAfterMs > 0) {
    error.retryAfterMs = swarm.retryAfterMs;
    // Retry-After is whole seconds (RFC 9110 §10.2.3); the body keeps the ms.
    headers['retry-after'] = String(Math.max(1, Math.ceil(swarm.retryAfterMs / 1000)));
  }
  return { status: serviceStatusOf(swarm.code), headers, body: { error }, internal };
}

/**
 * What the HTTP server answers a request it could not even parse (node's clientError: bad HTTP,
 * headers too large, a sender too slow), in the same shape; undefined when no answer can go out.
 */
export function clientErrorOf(nodeCode: unknown): HttpErrorReply | undefined {
  if (nodeCode === 'ECONNRESET') return undefined;
  let swarm: SwarmError;
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT') {
    // 408, not the code's 504: the client, not a server behind this one, was too slow (RFC 9110 §15.5.9).
    const reply = httpErrorOf(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'the request did not arrive in time', true), { jsonBodyBytes: 0, protobufBodyBytes: 0 });
    return { ...reply, status: 408 };
  }
  if (nodeCode === 'HPE_HEADER_OVERFLOW') swarm = new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, 'the request headers are too large');
  else swarm = new SwarmError(ErrorCode.ERROR_CODE_MALFORMED_MESSAGE, 'not a valid HTTP/1.1 request');
  return httpErrorOf(swarm, { jsonBodyBytes: 0, protobufBodyBytes: 0 });
}

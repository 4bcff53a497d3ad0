/**
 * The agent API's error replies as SwarmErrors, so code written against the NATS client handles
 * HTTP errors the same way (`isSwarmError(err, ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT)`). Codes
 * the HTTP API has and the bus does not (`SWARM_TASK_UNKNOWN`, `SWARM_NOT_FOUND`, `SWARM_METHOD_NOT_ALLOWED`) keep their name
 * in `codeName`, with the numeric code UNSPECIFIED.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';

/** Anything the server says is shown at most this long: a broken proxy's page is not an error message. */
export const MAX_SERVER_MESSAGE_CHARS = 300;
const SWARM_CODE = /^SWARM_[A-Z0-9_]{1,60}$/;

export class AgentApiError extends SwarmError {
  /**
   * True when what answered was not the agent API (another web server, a proxy's own page): there is
   * no SwarmHarness agent API at that address, as when nothing answers there.
   */
  readonly notAgentApi: boolean;

  constructor(
    /** `SWARM_…` as the server named it. */
    private readonly serverCode: string,
    message: string,
    /** The HTTP status; 0 when no response arrived. */
    readonly status: number,
    retryable?: boolean,
    options?: { cause?: unknown; retryAfterMs?: number; notAgentApi?: boolean },
  ) {
    super(errorCodeOf(serverCode), message, retryable, options);
    this.name = 'AgentApiError';
    this.notAgentApi = options?.notAgentApi ?? false;
  }

  override get codeName(): string {
    return this.serverCode;
  }
}

/** `SWARM_INSUFFICIENT_CREDIT` -> ERROR_CODE_INSUFFICIENT_CREDIT; UNSPECIFIED for a name the bus does not have. */
export function errorCodeOf(name: string): ErrorCode {
  const key = `ERROR_CODE_${name.replace(/^SWARM_/, '')}`;
  const code = (ErrorCode as unknown as Record<string, ErrorCode | undefined>)[key];
  return code === undefined || code === ErrorCode.UNRECOGNIZED ? ErrorCode.ERROR_CODE_UNSPECIFIED : code;
}

export function capText(text: string, max = MAX_SERVER_MESSAGE_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

interface ErrorJson {
  code?: unknown;
  message?: unknown;
  retryable?: unknown;
  retryAfterMs?: unknown;
}

/** An error as the API states it in a body or a task status (`{code, message, retryable}`). */
export function apiErrorOf(error: ErrorJson, status: number): AgentApiError {
  const code = typeof error.code === 'string' && SWARM_CODE.test(error.code) ? error.code : 'SWARM_INTERNAL';
  const message = typeof error.message === 'string' ? capText(error.message) : `HTTP ${status}`;
  const retryAfterMs = typeof error.retryAfterMs === 'number' ? error.retryAfterMs : undefined;
  return new AgentApiError(code, message, status, typeof error.retryable === 'boolean' ? error.retryable : undefined, retryAfterMs ? { retryAfterMs } : undefined);
}

/** Most of an error body read: the API's are a few hundred bytes; a larger one is not the API's. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Most of a foreign status text or content type repeated. */
const MAX_STATUS_LINE_CHARS = 80;

/** Bad gateway, unavailable, gateway timeout: what a proxy answers when the server behind it failed it. */
const PROXY_FAILURES: ReadonlySet<number> = new Set([502, 503, 504]);

/** The API answers JSON (`application/json; charset=utf-8`). */
export function isJsonResponse(res: Response): boolean {
  return /^application\/json\s*(;|$)/i.test(res.headers.get('content-type') ?? '');
}

/**
 * The answer of something that is not the agent API, named by its status line and content type
 * only: its body is another server's words (a page, a proxy's error), not a message for the caller.
 */
export function foreignAnswer(baseUrl: string, what: string, res: Response): AgentApiError {
  void res.body?.cancel().catch(() => undefined);
  const statusLine = capText(`${res.status} ${res.statusText}`.trim(), MAX_STATUS_LINE_CHARS);
  const type = capText(res.headers.get('content-type') ?? 'no content type', MAX_STATUS_LINE_CHARS);
  // A proxy in front of the API saying the API failed it or took too long: the request may well
  // have reached the node (a task may run and be paid), so it is an answer lost, asked again.
  if (PROXY_FAILURES.has(res.status)) {
    return new AgentApiError(
      'SWARM_UNAVAILABLE',
      `${what} at ${baseUrl} was answered HTTP ${statusLine} (${type}) by something in front of the agent API (a proxy?); the request may have reached the node`,
      res.status,
      true,
    );
  }
  return new AgentApiError(
    'SWARM_UNAVAILABLE',
    `no SwarmHarness agent API at ${baseUrl}: ${what} was answered HTTP ${statusLine} (${type}), not the API's JSON; is that the node's agent API address?`,
    res.status,
    false,
    { notAgentApi: true },
  );
}

/** At most `max` bytes of the body as text, or undefined when it holds more. */
async function boundedText(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      void reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The error a non-2xx response carries: the API's own `{"error":{"code":"SWARM_…","message"}}`
 * (JSON), or, for anything else, foreignAnswer's: not the agent API (`what` names the request).
 */
export async function errorFromResponse(res: Response, baseUrl: string, what: string): Promise<AgentApiError> {
  if (!isJsonResponse(res)) return foreignAnswer(baseUrl, what, res);
  const text = await boundedText(res, MAX_ERROR_BODY_BYTES).catch(() => undefined);
  let body: unknown;
  try {
    body = text === undefined ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = (body as { error?: ErrorJson } | undefined)?.error;
  if (typeof error !== 'object' || error === null || typeof error.code !== 'string' || !SWARM_CODE.test(error.code) || typeof error.message !== 'string') {
    return foreignAnswer(baseUrl, what, res);
  }
  return apiErrorOf(error, res.status);
}

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
  constructor(
    /** `SWARM_…` as the server named it. */
    private readonly serverCode: string,
    message: string,
    /** The HTTP status; 0 when no response arrived. */
    readonly status: number,
    retryable?: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(errorCodeOf(serverCode), message, retryable, options);
    this.name = 'AgentApiError';
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

/** The error a non-2xx response carries: its `{error}` body, or one made from the status when it has none. */
export async function errorFromResponse(res: Response): Promise<AgentApiError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = (body as { error?: unknown } | undefined)?.error;
  if (typeof error === 'object' && error !== null) return apiErrorOf(error, res.status);
  const retryAfterS = Number(res.headers.get('retry-after'));
  const code = res.status === 401 ? 'SWARM_UNAUTHENTICATED' : res.status === 429 ? 'SWARM_RATE_LIMITED' : res.status >= 500 ? 'SWARM_UNAVAILABLE' : 'SWARM_INVALID_ARGUMENT';
  return new AgentApiError(code, `HTTP ${res.status} from the agent API${text ? `: ${capText(text, 120)}` : ''}`, res.status, undefined, {
    retryAfterMs: Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : 0,
  });
}

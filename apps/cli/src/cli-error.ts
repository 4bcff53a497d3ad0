/** An error the CLI reports as `error <CODE>: <message>` with a non-zero exit. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit statuses of `swarm`, documented in docs/errors.md. */
export const EXIT_OK = 0;
/** The command ran and failed: the node refused or failed it, or it could not reach the node. */
export const EXIT_FAILURE = 1;
/** Bad command line or input file (SWARM_BAD_ARGS): nothing was sent to the node. */
export const EXIT_USAGE = 2;
/** Ctrl-C (SIGINT) or SIGTERM before the command finished (SWARM_INTERRUPTED), as a shell reports it. */
export const EXIT_INTERRUPTED = 130;

const SWARM_CODE = /^SWARM_[A-Z_]+$/;

/**
 * nats.js error codes (its `ErrorCode` enum values) as the codes a user can look up. The bus
 * client translates those of requests; these reach the CLI from connecting and closing.
 */
const NATS_CODES: Readonly<Record<string, string>> = {
  CONNECTION_REFUSED: 'SWARM_NO_NODE',
  CONNECTION_CLOSED: 'SWARM_NO_NODE',
  CONNECTION_DRAINING: 'SWARM_NO_NODE',
  CONNECTION_TIMEOUT: 'SWARM_NO_NODE',
  DISCONNECT: 'SWARM_NO_NODE',
  TIMEOUT: 'SWARM_DEADLINE_EXCEEDED',
  '503': 'SWARM_UNAVAILABLE',
  MAX_PAYLOAD_EXCEEDED: 'SWARM_PAYLOAD_TOO_LARGE',
  AUTHORIZATION_VIOLATION: 'SWARM_BUS_DENIED',
  AUTHENTICATION_EXPIRED: 'SWARM_BUS_DENIED',
  AUTHENTICATION_TIMEOUT: 'SWARM_BUS_DENIED',
  BAD_AUTHENTICATION: 'SWARM_BUS_DENIED',
  BAD_CREDS: 'SWARM_BUS_DENIED',
  PERMISSIONS_VIOLATION: 'SWARM_PERMISSION_DENIED',
};

/**
 * Connection errors that mean nothing answers at that address (as opposed to a reply lost mid-way).
 * ETIMEDOUT: no answer within the SDK's request timeout (or a TCP connect that timed out), as the
 * bus's connect timeout is; undici's own connect timeout has its own code.
 */
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * What answered at the address is no HTTP server (llhttp's HPE_* parse errors: a NATS port answers
 * `INFO {…}`), or no TLS one fit to talk to (a handshake that failed: nothing was sent): not a
 * node's agent API, whatever it is.
 */
function notHttpAnswer(code: string): boolean {
  return code.startsWith('HPE_') || code.startsWith('ERR_SSL_') || code === 'EPROTO';
}

/**
 * An agent-API request that reached nobody: the SDK says UNAVAILABLE (retryable) and keeps the
 * socket's errno in its cause chain (fetch's TypeError, then the system error); or reached
 * another server, not the agent API (the SDK's `notAgentApi`: a web server's 404 page). For the
 * CLI either is SWARM_NO_NODE, as a bus nobody answers on is.
 */
export function unreachableApi(err: { codeName?: unknown; status?: unknown; cause?: unknown; notAgentApi?: unknown }): boolean {
  if (err.codeName === 'SWARM_UNAVAILABLE' && err.notAgentApi === true) return true;
  if (err.codeName !== 'SWARM_UNAVAILABLE' || err.status !== 0) return false;
  let cause: unknown = err.cause;
  for (let depth = 0; depth < 4 && typeof cause === 'object' && cause !== null; depth++) {
    const { code, syscall } = cause as { code?: unknown; syscall?: unknown };
    // A timeout on a connection that was made (a read) may have cut off an answer: not "nothing there".
    const cutAfterConnecting = code === 'ETIMEDOUT' && syscall !== undefined && syscall !== 'connect';
    if (typeof code === 'string' && UNREACHABLE_ERRNOS.has(code) && !cutAfterConnecting) return true;
    if (typeof code === 'string' && notHttpAnswer(code)) return true;
    // fetch's refusal of a blocked port (6000, 6665-6669…): nothing was sent either.
    if ((cause as { message?: unknown }).message === 'bad port') return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** Node's errno codes (EEXIST, EPERM, EACCES, ENOSPC…): `code` plus the failed system call. */
function isSystemError(err: { code?: unknown; syscall?: unknown }): boolean {
  return typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code) && typeof err.syscall === 'string';
}

/**
 * Every error the CLI prints carries a SWARM_* code. A code from below the CLI (Node's errno,
 * nats.js) is translated; the raw code stays in the message, where it helps diagnose, so
 * `EEXIST` becomes `error SWARM_OS_ERROR: EEXIST: file already exists, mkdir '…'`.
 */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    codeName?: unknown;
    syscall?: unknown;
    message?: unknown;
    status?: unknown;
    cause?: unknown;
    notAgentApi?: unknown;
  };
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  if (unreachableApi(e)) return new CliError('SWARM_NO_NODE', message);
  // SwarmError (a reply from the node) names its code in codeName; its numeric `code` is the proto enum.
  if (typeof e.codeName === 'string' && SWARM_CODE.test(e.codeName)) return new CliError(e.codeName, message);
  const raw = typeof e.code === 'string' ? e.code : undefined;
  if (raw === undefined) return new CliError('SWARM_INTERNAL', message);
  if (SWARM_CODE.test(raw)) return new CliError(raw, message);
  const nats = NATS_CODES[raw];
  if (nats) return new CliError(nats, nats === 'SWARM_NO_NODE' ? `lost the connection to the node's NATS (${raw}: ${message})` : `${raw}: ${message}`);
  if (isSystemError(e)) return new CliError('SWARM_OS_ERROR', message.startsWith(raw) ? message : `${raw}: ${message}`);
  return new CliError('SWARM_INTERNAL', `${raw}: ${message}`);
}

export function exitStatusOf(err: CliError): number {
  if (err.code === 'SWARM_BAD_ARGS') return EXIT_USAGE;
  return err.code === 'SWARM_INTERRUPTED' ? EXIT_INTERRUPTED : EXIT_FAILURE;
}

/** Most characters of an error message shown: messages may quote what a user or a peer sent. */
export const MAX_SHOWN_ERROR_CHARS = 1_000;

// eslint-disable-next-line no-control-regex -- control characters are what is replaced
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Text another party wrote (a node's refusal, a peer's note, a tensor or skill name) as a terminal
 * is shown it: control characters as \xNN, and line separators, bidirectional overrides and other
 * invisible marks that reorder or hide text as \uNNNN, rather than acted on. Newlines stay when
 * `keepNewlines` (table cells use them for lines). Written here rather than shared with
 * @swarm/gateway's peerText: this module loads on every `swarm` start, which @swarm/contracts
 * would slow by about 20 ms.
 */
export function escapeControls(text: string, keepNewlines = false): string {
  return text.replace(CONTROLS, (c) => {
    if (keepNewlines && c === '\n') return c;
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/**
 * An error message as one line for a terminal: line breaks become spaces, other control characters
 * (an escape sequence in a tensor name, a skill, an id) are shown as \xNN, and line separators and
 * bidirectional overrides as \uNNNN, rather than acted on by the terminal; past
 * MAX_SHOWN_ERROR_CHARS it is cut with an ellipsis (never inside a surrogate pair).
 */
export function shownErrorMessage(text: string): string {
  return cappedErrorMessage(escapeControls(text.replace(/\s*[\r\n]+\s*/g, ' ')));
}

/** At most MAX_SHOWN_ERROR_CHARS characters, cut with an ellipsis (the `--json` error document's message). */
export function cappedErrorMessage(text: string): string {
  if (text.length <= MAX_SHOWN_ERROR_CHARS) return text;
  let end = MAX_SHOWN_ERROR_CHARS - 1;
  // Not between the halves of a surrogate pair.
  if (/[\ud800-\udbff]/.test(text.charAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}

import { mkdir, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { AgentApiError } from '@swarm/client';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { cappedErrorMessage, CliError, EXIT_FAILURE, EXIT_USAGE, exitStatusOf, MAX_SHOWN_ERROR_CHARS, shownErrorMessage, toCliError, unreachableApi } from './cli-error';

/** An error as nats.js raises it: a plain Error with its ErrorCode string in `code`. */
function natsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('cli errors - every error has a SWARM_* code', () => {
  it('keeps SWARM codes, from the CLI, a reply or a library', () => {
    expect(toCliError(new CliError('SWARM_BAD_ARGS', 'x'))).toMatchObject({ code: 'SWARM_BAD_ARGS', message: 'x' });
    expect(toCliError(new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'has 12, needs 269'))).toMatchObject({
      code: 'SWARM_INSUFFICIENT_CREDIT',
      message: 'has 12, needs 269',
    });
    expect(toCliError(Object.assign(new Error('no node'), { code: 'SWARM_NO_NODE' })).code).toBe('SWARM_NO_NODE');
  });

  it('takes an agent API that nothing answers at, or a port fetch refuses, for SWARM_NO_NODE: nothing was sent', () => {
    const fetchFailed = (cause: Error) => Object.assign(new TypeError('fetch failed'), { cause });
    const refused = new AgentApiError('SWARM_UNAVAILABLE', 'cannot reach', 0, true, { cause: fetchFailed(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })) });
    const blocked = new AgentApiError('SWARM_UNAVAILABLE', 'cannot reach', 0, false, { cause: fetchFailed(new Error('bad port')) });
    expect([toCliError(refused).code, toCliError(blocked).code]).toEqual(['SWARM_NO_NODE', 'SWARM_NO_NODE']);
    // A reply lost on the way is not that.
    const reset = new AgentApiError('SWARM_UNAVAILABLE', 'cannot reach', 0, true, { cause: fetchFailed(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })) });
    expect(toCliError(reset).code).toBe('SWARM_UNAVAILABLE');
  });

  it.each([
    ['CONNECTION_REFUSED', 'SWARM_NO_NODE'],
    ['CONNECTION_CLOSED', 'SWARM_NO_NODE'],
    ['DISCONNECT', 'SWARM_NO_NODE'],
    ['TIMEOUT', 'SWARM_DEADLINE_EXCEEDED'],
    ['503', 'SWARM_UNAVAILABLE'],
    ['AUTHORIZATION_VIOLATION', 'SWARM_BUS_DENIED'],
    ['PERMISSIONS_VIOLATION', 'SWARM_PERMISSION_DENIED'],
  ])('translates the NATS code %s to %s, keeping the raw code in the message', (raw, code) => {
    const e = toCliError(natsError(raw, 'nats said so'));
    expect(e.code).toBe(code);
    expect(e.message).toContain(raw);
  });

  it('translates Node system errors (EEXIST, EPERM) to SWARM_OS_ERROR with the path', async () => {
    const dir = join(tmpdir(), `swarm-cli-error-${process.pid}`);
    await mkdir(dir, { recursive: true });
    const eexist = await mkdir(dir).catch((e: unknown) => e);
    expect(toCliError(eexist)).toMatchObject({ code: 'SWARM_OS_ERROR', message: expect.stringMatching(/^EEXIST: .*swarm-cli-error/) });
    await rm(dir, { recursive: true, force: true });
    let eperm: unknown;
    try {
      process.kill(1, 0); // pid 1 belongs to root: signalling it is not permitted
    } catch (e) {
      eperm = e;
    }
    if (eperm) expect(toCliError(eperm)).toMatchObject({ code: 'SWARM_OS_ERROR', message: expect.stringMatching(/^EPERM/) });
  });

  it('calls anything else SWARM_INTERNAL and keeps what it said', () => {
    expect(toCliError(new Error('boom'))).toMatchObject({ code: 'SWARM_INTERNAL', message: 'boom' });
    expect(toCliError(natsError('ERR_SOMETHING_NEW', 'odd'))).toMatchObject({ code: 'SWARM_INTERNAL', message: 'ERR_SOMETHING_NEW: odd' });
    expect(toCliError('a string')).toMatchObject({ code: 'SWARM_INTERNAL', message: 'a string' });
  });

  it('exits 2 for bad usage and 1 for everything else', () => {
    expect(exitStatusOf(new CliError('SWARM_BAD_ARGS', ''))).toBe(EXIT_USAGE);
    expect(exitStatusOf(new CliError('SWARM_NO_NODE', ''))).toBe(EXIT_FAILURE);
  });
});

describe('cli errors - docs/errors.md', () => {
  const doc = readFileSync(resolve(__dirname, '../../../docs/errors.md'), 'utf8');

  it('documents every SWARM_* code the CLI can print', () => {
    const files = readdirSync(__dirname, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    const codes = new Set(files.flatMap((f) => [...readFileSync(join(__dirname, f), 'utf8').matchAll(/(?:CliError\(|: )'(SWARM_[A-Z_]+)'/g)].map((m) => m[1])));
    // `new CliError('SWARM_…'` and the translation table's `: 'SWARM_…'`, not environment variables.
    expect(codes.size).toBeGreaterThan(5);
    expect([...codes].filter((c) => !doc.includes(`\`${c}\``))).toEqual([]);
  });

  it('documents the exit statuses', () => {
    // Written `0`: error-codes.spec.ts reads every row that starts with a bare number as a bus code.
    for (const status of [0, 1, 2, 130]) expect(doc).toMatch(new RegExp(`^\\|\\s*\`${status}\`\\s*\\|`, 'm'));
  });
});

describe('an error message as shown', () => {
  it('is one line, escape sequences shown rather than acted on, and bounded', () => {
    expect(shownErrorMessage("tensor name must be a or b, got '<script>\u001b[31mEVIL'\n  at line 2")).toBe("tensor name must be a or b, got '<script>\\x1b[31mEVIL' at line 2");
    expect(shownErrorMessage('bell\u0007 and C1 \u009b2J')).toBe('bell\\x07 and C1 \\x9b2J');
    const long = shownErrorMessage(`got '${'x'.repeat(5_000)}'`);
    expect(long).toHaveLength(MAX_SHOWN_ERROR_CHARS);
    expect(long.endsWith('…')).toBe(true);
    expect(cappedErrorMessage('short')).toBe('short');
    // Bidirectional overrides and line separators are shown, not obeyed; a surrogate pair is never cut.
    expect(shownErrorMessage('id \u202egnp.exe\u2028x')).toBe('id \\u202egnp.exe\\u2028x');
    const emoji = cappedErrorMessage(`${'x'.repeat(MAX_SHOWN_ERROR_CHARS - 2)}😀😀`);
    expect(emoji.endsWith('x…')).toBe(true);
  });
});

describe('unreachableApi - what counts as nothing at the agent API address', () => {
  const unavailable = (cause: object) => ({ codeName: 'SWARM_UNAVAILABLE', status: 0, cause: Object.assign(new TypeError('fetch failed'), { cause }) });
  it('a refused or timed-out connect, or the SDK giving up waiting, but not a connection that timed out once made', () => {
    expect(unreachableApi(unavailable({ code: 'ECONNREFUSED', syscall: 'connect' }))).toBe(true);
    expect(unreachableApi(unavailable({ code: 'ETIMEDOUT', syscall: 'connect' }))).toBe(true);
    expect(unreachableApi(unavailable({ code: 'ETIMEDOUT' }))).toBe(true);
    expect(unreachableApi(unavailable({ code: 'ETIMEDOUT', syscall: 'read' }))).toBe(false);
    expect(unreachableApi(unavailable({ code: 'ECONNRESET', syscall: 'read' }))).toBe(false);
  });

  it('an answer that is not HTTP (a NATS port given as --api-url) or a TLS handshake that failed: no agent API there', () => {
    expect(unreachableApi(unavailable({ code: 'HPE_INVALID_CONSTANT' }))).toBe(true);
    expect(unreachableApi(unavailable({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' }))).toBe(true);
    expect(unreachableApi(unavailable({ code: 'EPROTO', syscall: 'write' }))).toBe(true);
    // A socket closed by the other side may have cut off a real answer: not "nothing there".
    expect(unreachableApi(unavailable({ code: 'UND_ERR_SOCKET' }))).toBe(false);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, SKILL_NAME_PATTERN, SKILL_NAME_TEXT, SwarmError, TASK_ID_PATTERN, TASK_ID_TEXT } from '@swarm/contracts';
import { clientErrorOf, httpErrorOf, HttpOnlyError, INTERNAL_MESSAGE, MAX_ERROR_MESSAGE_CHARS, shownTaskError } from './http-errors';

const LIMITS = { jsonBodyBytes: 1024, protobufBodyBytes: 2048 };

describe('http errors - one shape, the bus codes', () => {
  it('answers a SwarmError with the status of ERROR_CODES and its code name', () => {
    expect(httpErrorOf(new SwarmError(ErrorCode.ERROR_CODE_UNAUTHENTICATED, 'this agent token was revoked'), LIMITS)).toEqual({
      status: 401,
      headers: {},
      body: { error: { code: 'SWARM_UNAUTHENTICATED', message: 'this agent token was revoked', retryable: false } },
      internal: false,
    });
    expect(httpErrorOf(new SwarmError(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT, 'no'), LIMITS).status).toBe(400);
  });

  it('gives a retry hint in the body (ms) and in Retry-After (whole seconds)', () => {
    const e = httpErrorOf(new SwarmError(ErrorCode.ERROR_CODE_RATE_LIMITED, 'slow down', true, { retryAfterMs: 1_200 }), LIMITS);
    expect(e).toMatchObject({ status: 429, headers: { 'retry-after': '2' }, body: { error: { code: 'SWARM_RATE_LIMITED', retryable: true, retryAfterMs: 1_200 } } });
  });

  it('caps messages', () => {
    const e = httpErrorOf(new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'x'.repeat(10_000)), LIMITS);
    expect(e.body.error.message.length).toBe(MAX_ERROR_MESSAGE_CHARS);
  });

  it("shows a task's error capped, and an internal one's detail nowhere", () => {
    expect(shownTaskError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'x'.repeat(10_000), false).message).toHaveLength(MAX_ERROR_MESSAGE_CHARS);
    expect(shownTaskError(ErrorCode.ERROR_CODE_INTERNAL, 'ENOENT /home/op/.swarm/secret', false)).toEqual({ code: 'SWARM_INTERNAL', message: INTERNAL_MESSAGE, retryable: false });
  });

  it('takes a client that went away mid-body for a bad request, not an internal error', () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    expect(httpErrorOf(aborted, LIMITS)).toMatchObject({ status: 400, internal: false, body: { error: { code: 'SWARM_MALFORMED_MESSAGE' } } });
    // A reset of a route's own connection is this node's trouble.
    expect(httpErrorOf(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), LIMITS)).toMatchObject({ status: 500, internal: true });
  });

  it("maps fastify's refusals", () => {
    expect(httpErrorOf({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, LIMITS)).toMatchObject({ status: 413, body: { error: { code: 'SWARM_PAYLOAD_TOO_LARGE' } } });
    expect(httpErrorOf({ code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }, LIMITS)).toMatchObject({ status: 400, body: { error: { code: 'SWARM_MALFORMED_MESSAGE' } } });
    const schemaError = (validationContext: string, validation: object[]) =>
      httpErrorOf({ code: 'FST_ERR_VALIDATION', statusCode: 400, validation, validationContext, message: 'x' }, LIMITS);
    // A pattern is said in words, never as the regular expression ajv quotes.
    expect(
      schemaError('body', [{ keyword: 'pattern', instancePath: '/skill', params: { pattern: SKILL_NAME_PATTERN }, message: `must match pattern "${SKILL_NAME_PATTERN}"` }]),
    ).toMatchObject({
      status: 400,
      body: { error: { code: 'SWARM_INVALID_ARGUMENT', message: `request does not match the schema: body/skill must be a skill name: ${SKILL_NAME_TEXT}` } },
    });
    const taskId = schemaError('params', [{ keyword: 'pattern', instancePath: '/id', params: { pattern: TASK_ID_PATTERN }, message: `must match pattern "${TASK_ID_PATTERN}"` }]);
    expect(taskId.body.error.message).toBe(`request does not match the schema: params/id must be a task id: ${TASK_ID_TEXT}`);
    const unknown = schemaError('body', [{ keyword: 'pattern', instancePath: '/x', params: { pattern: '^a+$' }, message: 'must match pattern "^a+$"' }]);
    expect(unknown.body.error.message).toBe('request does not match the schema: body/x must be of the form the field takes');
    // A union of constants reads as the values allowed, once; an unknown property by its name, capped.
    const encoding = schemaError('querystring', [
      { keyword: 'const', instancePath: '/encoding', params: { allowedValue: 'json' }, message: 'must be equal to constant' },
      { keyword: 'const', instancePath: '/encoding', params: { allowedValue: 'base64' }, message: 'must be equal to constant' },
      { keyword: 'anyOf', instancePath: '/encoding', params: {}, message: 'must match a schema in anyOf' },
    ]);
    expect(encoding.body.error.message).toBe('request does not match the schema: querystring/encoding must be one of json, base64');
    const extra = schemaError('querystring', [
      { keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: `cache${'x'.repeat(100)}` }, message: 'must NOT have additional properties' },
    ]);
    expect(extra.body.error.message).toBe(`request does not match the schema: querystring has no property "cache${'x'.repeat(27)}"`);
    expect(httpErrorOf({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }, LIMITS).body.error.code).toBe('SWARM_INVALID_ARGUMENT');
  });

  it("maps the router's refusals without their message (which quotes the URL)", () => {
    const long = { code: 'FST_ERR_MAX_PARAM_LENGTH', statusCode: 414, message: `'/v1/tasks/${'x'.repeat(200)}' is exceeding the max param length` };
    expect(httpErrorOf(long, LIMITS)).toMatchObject({ status: 400, body: { error: { code: 'SWARM_INVALID_ARGUMENT', message: expect.stringMatching(/at most 100/) as string } } });
    expect(JSON.stringify(httpErrorOf(long, LIMITS))).not.toContain('xxxx');
    const bad = httpErrorOf({ code: 'FST_ERR_BAD_URL', statusCode: 400, message: "'/v1/tasks/%zz' is not a valid url component" }, LIMITS);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'SWARM_INVALID_ARGUMENT' } } });
    expect(JSON.stringify(bad)).not.toContain('%zz');
  });

  it("answers node's HTTP parser errors in the same shape, and nothing to a reset connection", () => {
    expect(clientErrorOf('HPE_INVALID_METHOD')).toMatchObject({ status: 400, body: { error: { code: 'SWARM_MALFORMED_MESSAGE' } } });
    expect(clientErrorOf('HPE_HEADER_OVERFLOW')).toMatchObject({ status: 413, body: { error: { code: 'SWARM_PAYLOAD_TOO_LARGE' } } });
    expect(clientErrorOf('ERR_HTTP_REQUEST_TIMEOUT')).toMatchObject({ status: 408, body: { error: { code: 'SWARM_DEADLINE_EXCEEDED', retryable: true } } });
    expect(clientErrorOf('ECONNRESET')).toBeUndefined();
  });

  it('hides anything unexpected behind INTERNAL', () => {
    const e = httpErrorOf(new Error('secret path /home/x at line 3'), LIMITS);
    expect(e).toEqual({ status: 500, headers: {}, body: { error: { code: 'SWARM_INTERNAL', message: INTERNAL_MESSAGE, retryable: false } }, internal: true });
    expect(httpErrorOf(new SwarmError(ErrorCode.ERROR_CODE_INTERNAL, 'detail'), LIMITS).body.error.message).toBe(INTERNAL_MESSAGE);
  });

  it('answers HTTP-only errors as they are', () => {
    expect(httpErrorOf(new HttpOnlyError(404, 'SWARM_TASK_UNKNOWN', 'no task'), LIMITS)).toMatchObject({
      status: 404,
      body: { error: { code: 'SWARM_TASK_UNKNOWN', retryable: false } },
    });
  });
});

describe('http errors - docs/errors.md', () => {
  it('documents every code only the HTTP API answers, with its status', () => {
    const doc = readFileSync(resolve(__dirname, '../../../docs/errors.md'), 'utf8');
    const sources = readdirSync(__dirname).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    const answers = sources.flatMap((f) =>
      [...readFileSync(join(__dirname, f), 'utf8').matchAll(/HttpOnlyError\((\d{3}), '(SWARM_[A-Z_]+)'/g)].map((m) => ({ status: m[1], code: m[2] })),
    );
    expect(answers.map((a) => a.code).sort()).toEqual(['SWARM_METHOD_NOT_ALLOWED', 'SWARM_NOT_FOUND', 'SWARM_TASK_UNKNOWN']);
    // Each one's row names it and its status.
    const rowOf = (code: string): string => doc.split('\n').find((l) => l.startsWith(`| \`${code}\``)) ?? '';
    for (const { status, code } of answers) expect({ code, statusInRow: new RegExp(`\\b${status}\\b`).test(rowOf(code)) }).toEqual({ code, statusInRow: true });
  });
});

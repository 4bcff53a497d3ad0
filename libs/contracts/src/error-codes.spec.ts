import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ALL_ERROR_CODES, ERROR_CODES, errorCodeInfo, errorCodeName, ErrorCode, isRetryableByDefault, serviceStatusOf, SwarmError } from './index';

/** The rows of docs/errors.md's code table: | code | `name` | status | retryable | meaning |. */
function documentedRows(doc: string) {
  return [...doc.matchAll(/^\|\s*(\d+)\s*\|\s*`([A-Z_]+)`\s*\|\s*(\d+)\s*\|\s*(yes|no)\s*\|\s*(.+?)\s*\|$/gm)].map((m) => ({
    code: Number(m[1]),
    name: m[2],
    status: Number(m[3]),
    retryable: m[4] === 'yes',
    meaning: m[5] ?? '',
  }));
}

describe('error codes - docs/errors.md', () => {
  const doc = readFileSync(resolve(__dirname, '../../../docs/errors.md'), 'utf8');
  const rows = documentedRows(doc);

  it("documents every code with the table's name, status, retryable and meaning", () => {
    const want = ALL_ERROR_CODES.map((code) => ({
      code,
      name: errorCodeName(code),
      status: ERROR_CODES[code].status,
      retryable: ERROR_CODES[code].retryable,
      meaning: ERROR_CODES[code].meaning,
    }));
    // The doc may say more after the table's one line: compare only as much of it.
    const got = rows.map((r) => ({ ...r, meaning: r.meaning.slice(0, errorCodeInfo(r.code)?.meaning.length) }));
    expect(got).toEqual(want);
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/^\|\s*(\d+)\s*\|/gm)].map((m) => Number(m[1]));
    expect(documented.sort((a, b) => a - b)).toEqual([...ALL_ERROR_CODES]);
  });
});

describe('error codes - table', () => {
  it('holds every proto code but the placeholders', () => {
    const protoCodes = Object.values(ErrorCode).filter((v): v is ErrorCode => typeof v === 'number' && v !== ErrorCode.ERROR_CODE_UNSPECIFIED && v !== ErrorCode.UNRECOGNIZED);
    expect([...ALL_ERROR_CODES]).toEqual(protoCodes.sort((a, b) => a - b));
    expect(errorCodeInfo(ErrorCode.ERROR_CODE_UNSPECIFIED)).toBeUndefined();
  });

  it('answers status and retryable, and safe defaults for a code this build does not know', () => {
    expect(serviceStatusOf(ErrorCode.ERROR_CODE_OVERLOADED)).toBe(503);
    expect(isRetryableByDefault(ErrorCode.ERROR_CODE_OVERLOADED)).toBe(true);
    expect(isRetryableByDefault(ErrorCode.ERROR_CODE_INVALID_ARGUMENT)).toBe(false);
    expect(serviceStatusOf(999 as ErrorCode)).toBe(500);
    expect(isRetryableByDefault(999 as ErrorCode)).toBe(false);
  });
});

describe('error codes - names', () => {
  it('shortens proto names and maps unknown numbers safely', () => {
    expect(errorCodeName(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT)).toBe('SWARM_INSUFFICIENT_CREDIT');
    expect(errorCodeName(999 as ErrorCode)).toBe('SWARM_UNKNOWN_ERROR');
  });
});

describe('SwarmError - retryable', () => {
  it("takes the table's value unless the caller says otherwise", () => {
    expect(new SwarmError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'late').retryable).toBe(true);
    expect(new SwarmError(ErrorCode.ERROR_CODE_ESCROW_CLOSED, 'closed').retryable).toBe(false);
    expect(new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'never here', false).retryable).toBe(false);
    expect(new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 'odd', true).retryable).toBe(true);
  });
});

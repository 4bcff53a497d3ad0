import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ALL_ERROR_CODES, errorCodeName, ErrorCode, serviceStatusOf } from './index';

describe('error codes - docs/errors.md', () => {
  const doc = readFileSync(resolve(__dirname, '../../../docs/errors.md'), 'utf8');

  it('documents every code with its number, name and status', () => {
    const missing = ALL_ERROR_CODES.filter((code) => {
      const row = new RegExp(`^\\|\\s*${code}\\s*\\|\\s*\`${errorCodeName(code)}\`\\s*\\|\\s*${serviceStatusOf(code)}\\s*\\|`, 'm');
      return !row.test(doc);
    });
    expect(missing.map(errorCodeName)).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/^\|\s*(\d+)\s*\|/gm)].map((m) => Number(m[1]));
    expect(documented.sort((a, b) => a - b)).toEqual([...ALL_ERROR_CODES]);
  });
});

describe('error codes - names', () => {
  it('shortens proto names and maps unknown numbers safely', () => {
    expect(errorCodeName(ErrorCode.ERROR_CODE_INSUFFICIENT_CREDIT)).toBe('SWARM_INSUFFICIENT_CREDIT');
    expect(errorCodeName(999 as ErrorCode)).toBe('SWARM_UNKNOWN_ERROR');
  });
});

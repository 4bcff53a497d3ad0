import { authorizationHeaders, bearerToken, hashToken, isTokenShaped, newToken, TOKEN_PREFIX } from './agent-token';

const bytes = (fill: number) => (n: number) => new Uint8Array(n).fill(fill);

describe('agent tokens', () => {
  it('are swt_ and 43 base64url characters of 32 random bytes', () => {
    const token = newToken(bytes(0xfb));
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(token).toHaveLength(4 + 43);
    expect(isTokenShaped(token)).toBe(true);
    expect(token).not.toBe(newToken(bytes(1)));
  });

  it('refuses a short random source', () => {
    expect(() => newToken(() => new Uint8Array(16))).toThrow(/16 bytes/);
  });

  it('are stored as their sha256 only', () => {
    const token = newToken(bytes(7));
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).not.toContain(token.slice(4, 20));
  });

  it('are read from every Authorization header a request has, not only the first', () => {
    expect(authorizationHeaders(['Host', 'x', 'authorization', 'Bearer a'])).toBe('Bearer a');
    expect(authorizationHeaders(['Authorization', 'Bearer a', 'accept', '*/*', 'AUTHORIZATION', 'Bearer b'])).toEqual(['Bearer a', 'Bearer b']);
    expect(authorizationHeaders(['accept', '*/*'])).toBeUndefined();
  });

  it('come from `Authorization: Bearer swt_…` only', () => {
    const token = newToken(bytes(3));
    expect(bearerToken(`Bearer ${token}`)).toEqual({ token });
    expect(bearerToken(`bearer  ${token} `)).toEqual({ token });
    expect(bearerToken(undefined)).toEqual({ problem: expect.stringMatching(/missing Authorization/) });
    expect(bearerToken([`Bearer ${token}`, `Bearer ${token}`])).toEqual({ problem: expect.stringMatching(/more than one/) });
    expect(bearerToken(`Basic ${token}`)).toEqual({ problem: expect.stringMatching(/Bearer/) });
    expect(bearerToken('Bearer swt_short')).toEqual({ problem: expect.stringMatching(/not an agent token/) });
    const long = bearerToken(`Bearer ${'x'.repeat(5000)}`);
    expect(long).toEqual({ problem: expect.stringMatching(/longer than 256/) });
    expect(JSON.stringify(long)).not.toContain('xxxxxxxx');
  });
});

/**
 * Agents' bearer tokens: `swt_` + 32 random bytes in base64url, shown once at creation. The node
 * keeps only their SHA-256: a leaked agents file lets nobody act as an agent. 256 random bits make
 * a fast hash safe here (no password to guess), so a lookup costs one hash and one map read.
 */
import { createHash } from 'node:crypto';

export const TOKEN_PREFIX = 'swt_';
export const TOKEN_RANDOM_BYTES = 32;
/** base64url of 32 bytes, unpadded: 43 characters. */
const TOKEN_PATTERN = /^swt_[A-Za-z0-9_-]{43}$/;
/** An Authorization header longer than this is not ours; it is refused unread. */
const MAX_AUTHORIZATION_CHARS = 256;

export function newToken(randomBytes: (n: number) => Uint8Array): string {
  const bytes = randomBytes(TOKEN_RANDOM_BYTES);
  if (bytes.length !== TOKEN_RANDOM_BYTES) throw new Error(`token source gave ${bytes.length} bytes, not ${TOKEN_RANDOM_BYTES}`);
  return `${TOKEN_PREFIX}${Buffer.from(bytes).toString('base64url')}`;
}

/** Hex SHA-256 of the token text: what the agents file stores. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isTokenShaped(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/**
 * Every Authorization header of a request, from node's raw headers: `headers.authorization` keeps
 * only the first of several, so a request with two would pass as the first one's agent.
 */
export function authorizationHeaders(rawHeaders: readonly string[]): string | string[] | undefined {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'authorization') values.push(rawHeaders[i + 1]);
  return values.length > 1 ? values : values[0];
}

/**
 * The token of `Authorization: Bearer swt_…`, or why there is none (a message safe to send back:
 * it never quotes the header).
 */
export function bearerToken(header: string | string[] | undefined): { token: string } | { problem: string } {
  if (header === undefined || header === '') return { problem: 'missing Authorization header: send `Authorization: Bearer swt_…` with an agent token' };
  if (Array.isArray(header)) return { problem: 'more than one Authorization header' };
  if (header.length > MAX_AUTHORIZATION_CHARS) return { problem: `Authorization header longer than ${MAX_AUTHORIZATION_CHARS} characters` };
  const m = /^Bearer +(\S+)\s*$/i.exec(header);
  if (!m) return { problem: 'Authorization must be `Bearer <agent token>`' };
  const token = m[1];
  if (!isTokenShaped(token)) return { problem: 'not an agent token (expected swt_ followed by 43 base64url characters)' };
  return { token };
}

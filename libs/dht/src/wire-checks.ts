/**
 * Shape and size checks for everything a peer sends: requests before a handler acts, replies before
 * a lookup uses them. A bad message is an INVALID_ARGUMENT / PAYLOAD_TOO_LARGE SwarmError and
 * changes nothing.
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { isHexId } from './dht-id';
import type { FindNodeRequest, FindNodeResponse, FindValueRequest, FindValueResponse, PingRequest, PingResponse, StoreRequest, StoreResponse, WireContact } from './wire';

/** A skill name or other key; keys are short names, not data. */
export const MAX_KEY_CHARS = 256;
/** One provider record (a signed NodeRecord is well under 4 KiB). */
export const MAX_VALUE_BYTES = 16 * 1024;
export const MAX_ENDPOINT_CHARS = 256;
/**
 * A reply lists a node's k closest contacts (k = 20, dht-node.ts DEFAULT_BUCKET_SIZE, the same on
 * every node): more is a referrer crowding a lookup with contacts it chose.
 */
export const MAX_CONTACTS_PER_REPLY = 20;
/** Provider records one findValue reply may carry (the per-key limit of a provider store). */
export const MAX_VALUES_PER_REPLY = 256;
/**
 * Bytes of records a node puts in one findValue reply (a few hundred honest records; they are
 * about 500 bytes each). Records may be up to 8 KiB, so a full key could make a 100-byte request
 * cost 2 MB of replies; this bounds that to 64 KiB, and the records sent are a random selection
 * when they do not all fit (provider-store.ts valuesForReply).
 */
export const MAX_REPLY_VALUE_BYTES = 64 * 1024;
export const MAX_REFUSAL_CHARS = 512;
/** A page cursor names a provider (a node id, a payee id): short, as keys are. */
export const MAX_CURSOR_CHARS = 256;

function invalid(what: string): SwarmError {
  return new SwarmError(ErrorCode.ERROR_CODE_INVALID_ARGUMENT, `DHT message: ${what}`);
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function hexId(value: unknown, field: string): string {
  if (!isHexId(value)) throw invalid(`${field} is not a 40-character lower-case hex id`);
  return value;
}

export function checkKey(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_CHARS) throw invalid(`key must be 1..${MAX_KEY_CHARS} characters`);
  return value;
}

export function checkValue(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid('value is not bytes');
  if (value.byteLength > MAX_VALUE_BYTES) throw new SwarmError(ErrorCode.ERROR_CODE_PAYLOAD_TOO_LARGE, `DHT value of ${value.byteLength} bytes exceeds ${MAX_VALUE_BYTES}`);
  return value;
}

export function checkEndpoint(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ENDPOINT_CHARS) throw invalid(`endpoint must be 1..${MAX_ENDPOINT_CHARS} characters`);
  return value;
}

/** A network a store came from, as a transport names it (@swarm/gateway networkOf): short, no spaces. */
export const MAX_NETWORK_CHARS = 64;
const NETWORK_PATTERN = /^(unknown|[0-9a-f.:]+\/\d{1,3})$/;

/**
 * The network a relayed store came from. '' (a relay that does not say: an older gateway) is
 * 'unknown', one network for all such stores, so a relay that leaves it out does not lift the limit.
 */
export function checkNetwork(value: unknown): string {
  if (value === '') return 'unknown';
  if (typeof value !== 'string' || value.length > MAX_NETWORK_CHARS || !NETWORK_PATTERN.test(value)) {
    throw invalid(`network must be an address block such as 10.1.2.0/24 or 'unknown', at most ${MAX_NETWORK_CHARS} characters`);
  }
  return value;
}

function contacts(value: unknown): WireContact[] {
  if (!Array.isArray(value)) throw invalid('contacts is not a list');
  if (value.length > MAX_CONTACTS_PER_REPLY) throw invalid(`more than ${MAX_CONTACTS_PER_REPLY} contacts`);
  return value.map((c) => {
    const r = record(c, 'contact');
    return { id: hexId(r.id, 'contact id'), endpoint: checkEndpoint(r.endpoint) };
  });
}

export function checkPingRequest(value: unknown): PingRequest {
  return { id: hexId(record(value, 'ping').id, 'id') };
}

export function checkPingResponse(value: unknown): PingResponse {
  return { remoteId: hexId(record(value, 'ping reply').remoteId, 'remoteId') };
}

export function checkStoreRequest(value: unknown): StoreRequest {
  const r = record(value, 'store');
  return { id: hexId(r.id, 'id'), key: checkKey(r.key), value: checkValue(r.value) };
}

export function checkStoreResponse(value: unknown): StoreResponse {
  const r = record(value, 'store reply');
  if (typeof r.stored !== 'boolean') throw invalid('stored is not a boolean');
  const refusal = typeof r.refusal === 'string' ? r.refusal.slice(0, MAX_REFUSAL_CHARS) : '';
  return { stored: r.stored, refusal };
}

export function checkFindNodeRequest(value: unknown): FindNodeRequest {
  const r = record(value, 'findNode');
  return { id: hexId(r.id, 'id'), targetId: hexId(r.targetId, 'targetId') };
}

export function checkFindNodeResponse(value: unknown): FindNodeResponse {
  return { contacts: contacts(record(value, 'findNode reply').contacts) };
}

export function checkFindValueRequest(value: unknown): FindValueRequest {
  const r = record(value, 'findValue');
  if (r.paged !== undefined && typeof r.paged !== 'boolean') throw invalid('paged is not a boolean');
  return { id: hexId(r.id, 'id'), targetId: hexId(r.targetId, 'targetId'), key: checkKey(r.key), paged: r.paged === true, after: cursor(r.after, 'after') };
}

export function checkFindValueResponse(value: unknown): FindValueResponse {
  const r = record(value, 'findValue reply');
  if (!Array.isArray(r.values)) throw invalid('values is not a list');
  if (r.values.length > MAX_VALUES_PER_REPLY) throw invalid(`more than ${MAX_VALUES_PER_REPLY} values`);
  if (r.paged !== undefined && typeof r.paged !== 'boolean') throw invalid('paged is not a boolean');
  return { values: r.values.map(checkValue), contacts: contacts(r.contacts), moreAfter: cursor(r.moreAfter, 'moreAfter'), paged: r.paged === true };
}

/** A page cursor: absent is ''. */
function cursor(value: unknown, field: string): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > MAX_CURSOR_CHARS) throw invalid(`${field} must be a string of at most ${MAX_CURSOR_CHARS} characters`);
  return value;
}

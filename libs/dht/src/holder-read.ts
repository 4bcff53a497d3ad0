/**
 * One holder's records for a key, as a lookup reads them: one reply (a random selection past 64 KiB),
 * or, for a reader that needs every record (`complete`), every page of them in order of provider.
 * A holder whose first page is bad (over a reply's bytes, going on with no records) is a failed
 * contact. One whose read breaks off past its first page is cut off, whatever broke it: this
 * lookup's time (which slow nodes next to a key could use up: helper-157), a page going back or past
 * the records a key can hold (which a payer churning an honest holder's records can cause between
 * two pages: helper-159). It is not counted a failed contact, and the answer misses its records.
 * A holder from before pages answers one random selection (its reply not marked `paged`, naming no
 * next page): a whole answer when it is too small to have been cut, else its records are kept and
 * the answer says some may be left out (a swarm whose nodes upgrade one by one).
 */
import type { WallClock } from '@swarm/determinism';
import type { DhtTransport, FindValueResponse } from './wire';
import { checkFindValueResponse, MAX_REPLY_VALUE_BYTES, MAX_VALUE_BYTES, MAX_VALUES_PER_REPLY } from './wire-checks';

/** Pages a complete lookup reads of one holder: a key's 256 records at the largest each fit in these. */
export const MAX_PAGES_PER_HOLDER = Math.ceil((MAX_VALUES_PER_REPLY * MAX_VALUE_BYTES) / MAX_REPLY_VALUE_BYTES);
/**
 * How long a complete lookup goes on asking one holder for pages: a node answering each page just
 * inside the call timeout holds the lookup this long and one call more, not 64 calls (helper-155).
 */
export const PAGED_READ_MS = 3_000;
/**
 * How long a complete lookup reads pages at all: several such nodes, each read in turn, hold it this
 * long and one call more (helper-156: four stallers next to a key made every find outlast its caller's 10 s).
 */
export const COMPLETE_LOOKUP_MS = 5_000;

/** A read that broke off after its first page (this lookup's time, or anything else): its records are missing from the answer, which says so. */
export class ReadCutOff extends Error {}

/**
 * A reply of more bytes than this from a holder from before pages may have been cut: it drops the
 * records that do not fit in a random order, so the room it leaves is under one record's largest.
 */
export const WHOLE_UNPAGED_REPLY_BYTES = MAX_REPLY_VALUE_BYTES - MAX_VALUE_BYTES;

/** One holder's records as read: `leftOut` when they may not be all it holds (a holder from before pages, its reply full enough to have been cut). */
export interface HolderValues extends FindValueResponse {
  readonly leftOut?: boolean;
}

export interface HolderRead {
  readonly transport: DhtTransport;
  readonly selfHex: string;
  readonly targetHex: string;
  readonly key: string;
  readonly complete: boolean;
  readonly clock: WallClock;
  /** When the lookup stops reading pages (COMPLETE_LOOKUP_MS after it began). */
  readonly pagesUntilMs: number;
  /** Each page after the first (the lookup counts its messages). */
  readonly onPage: () => void;
}

/** The holder's records under `read.key`, with its first reply's contacts. */
export async function readHolderValues(endpoint: string, read: HolderRead): Promise<HolderValues> {
  const { transport, selfHex, targetHex, key, complete, clock } = read;
  // Not even a first page once the lookup's time for pages is out (helper-158: stallers chained through its slots).
  if (complete && clock.now() >= read.pagesUntilMs) throw new ReadCutOff("the lookup's time for pages ran out before this holder was asked");
  const until = Math.min(clock.now() + PAGED_READ_MS, read.pagesUntilMs);
  const ask = async (after: string) => {
    const page = checkFindValueResponse(await transport.findValue(endpoint, { id: selfHex, targetId: targetHex, key, ...(complete ? { paged: true, after } : {}) }));
    if (complete) checkPage(page, after);
    return page;
  };
  const first = await ask('');
  if (!complete) return first;
  // Unmarked and naming no next page: a node from before pages (one selection), or a last page. One
  // naming a next page pages (nodes from before the mark, helper-165), and is read on as any.
  if (first.paged !== true && (first.moreAfter ?? '') === '') return { ...first, leftOut: first.values.reduce((n, v) => n + v.byteLength, 0) > WHOLE_UNPAGED_REPLY_BYTES };
  const values = [...first.values];
  try {
    for (let after = first.moreAfter ?? '', pages = 1; after !== ''; pages++) {
      if (pages >= MAX_PAGES_PER_HOLDER) throw new Error(`a holder sent more than ${MAX_PAGES_PER_HOLDER} pages of one key`);
      if (clock.now() >= until) throw new ReadCutOff(`a holder's pages of one key were still coming when the lookup's time for them ran out`);
      read.onPage();
      const next = await ask(after);
      values.push(...next.values);
      if (values.length > MAX_VALUES_PER_REPLY) throw new Error(`a holder sent more than the ${MAX_VALUES_PER_REPLY} records a key holds`);
      after = next.moreAfter ?? '';
    }
  } catch (err) {
    // Past its first page, a holder whose read breaks off is cut off, whatever broke it: the answer
    // is short of its records either way (helper-159: a payer churned an honest holder's records
    // between two pages, past 256 read, and that holder dropped out of the count unsaid).
    if (err instanceof ReadCutOff) throw err;
    throw new ReadCutOff(`a holder's read broke off after its first page: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { values, contacts: first.contacts };
}

/**
 * A page of a complete read as an honest holder sends it: within a reply's bytes, going on after
 * the one asked for, and carrying records where more follow (a node paging on with none, or
 * backwards, stalls the lookup that waits for it: helper-155).
 */
function checkPage(page: FindValueResponse, after: string): void {
  const moreAfter = page.moreAfter ?? '';
  if (page.values.reduce((n, v) => n + v.byteLength, 0) > MAX_REPLY_VALUE_BYTES) throw new Error(`a holder's page carried over ${MAX_REPLY_VALUE_BYTES} bytes`);
  if (moreAfter !== '' && (moreAfter <= after || page.values.length === 0)) throw new Error('a holder paged back, or on with no records');
}

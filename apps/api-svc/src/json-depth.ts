/**
 * How deep a JSON body nests, known before it is parsed. V8's JSON.parse of 8 MB of `[[[[…]]]]`
 * holds the event loop about 1.8 s (and makes ~240 MB of garbage), against ~25 ms for a flat body of
 * that size: one agent sending such bodies slowed every other agent's calls to seconds. No body the
 * API takes nests deeper than a few levels (an MCP call's task inputs: about 7).
 */

/** Deepest nesting of arrays and objects a JSON body may have. */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether `text` nests arrays and objects deeper than `max` (brackets inside strings do not count); one pass, nothing allocated. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i < 0) return false;
    } else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth -= 1;
    }
  }
  return false;
}

/** The index of the quote that closes the string opened at `open`, or -1 (left for the parser to refuse). */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1); at >= 0; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

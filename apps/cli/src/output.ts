/**
 * Output rules for people and agents: `--json` prints exactly one JSON document on stdout;
 * otherwise readable tables. Progress and logs go to stderr.
 */
import { escapeControls } from './cli-error';
import Table from 'cli-table3';
import type { Ora } from 'ora';
import ora from 'ora';

/**
 * One compact line: tensors can hold millions of numbers, which indentation would put one per line.
 * Documents built by hand (`swarm up`) follow the proto3 JSON mapping too: bigint (uint64) becomes
 * a decimal string, bytes become base64.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('base64');
    }
    return v;
  });
}

/**
 * A response message in the proto3 JSON mapping, from its generated `toJSON`: lowerCamelCase
 * names, int64 as decimal strings, enums as names, bytes as base64. Every field is present
 * (proto3 JSON's "emit unpopulated" form, so scripts see the same fields every time): toJSON
 * writes zero scalars (ts-proto emitDefaultValues), this adds the empty lists it leaves out.
 * Unset message fields stay absent. docs/cli-json.schema.json describes each command's document.
 */
export function protoJson<T>(codec: { toJSON(message: T): unknown }, message: T): unknown {
  return withEmptyLists(message, codec.toJSON(message));
}

/** ts-proto message keys are the proto3 JSON names, so the message and its JSON walk together. */
function withEmptyLists(message: unknown, json: unknown): unknown {
  if (!isRecord(message) || !isRecord(json)) return json;
  for (const [key, value] of Object.entries(message)) {
    const field = json[key];
    if (!Array.isArray(value)) withEmptyLists(value, field);
    else if (field === undefined) json[key] = [];
    else if (Array.isArray(field)) value.forEach((item, i) => withEmptyLists(item, field[i]));
  }
  return json;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

let jsonPrinted = false;

export function printJson(value: unknown): void {
  jsonPrinted = true;
  process.stdout.write(`${toJson(value)}\n`);
}

/** Whether this run already printed its one JSON document (an error then adds none). */
export function printedJson(): boolean {
  return jsonPrinted;
}

/**
 * Node writes to a pipe asynchronously: `process.exit` right after a large write drops what the
 * reader has not taken yet, whole 64 KiB pipe buffers of it. The CLI exits once this resolves.
 */
export function flushOutput(): Promise<void> {
  return Promise.all([flushStream(process.stdout), flushStream(process.stderr)]).then(() => undefined);
}

function flushStream(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    // Writes complete in order: this callback runs once everything queued before it is written (or failed).
    stream.write('', () => resolve());
  });
}

/** Ways a write fails because the reader is gone (closed the pipe, or output already failed). */
const READER_GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

/**
 * A reader that stops early (`swarm … --json | head -c 20`) closes the pipe and our next write
 * fails with EPIPE. That is the reader's choice, not a failure of the command: output stops
 * quietly and the command keeps its exit status. Any other stdout failure (a full disk) goes to
 * `onFailure`; stderr failures are ignored, there is nowhere left to report them.
 */
export function guardOutput(onFailure: (err: NodeJS.ErrnoException) => void): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!READER_GONE.has(err.code ?? '')) onFailure(err);
  });
  process.stderr.on('error', () => undefined);
}

/** Colours only for a terminal; piped output stays plain text. */
const style = () => (process.stdout.isTTY ? {} : { style: { head: [], border: [] } });

/** Values wider than this wrap (word wrap): with the key column, a table stays within about 120 columns. */
export const TABLE_VALUE_WIDTH = 100;

/**
 * A table cell as the terminal gets it: control characters (escape sequences a peer's or an agent's
 * text could carry into a note, a name, an error) and invisible direction marks shown escaped, so
 * a table never moves the cursor, retitles the terminal or reorders what it shows. Newlines stay:
 * cells use them for lines.
 */
export function safeCell(text: string): string {
  return escapeControls(text, true);
}

/**
 * Long values (notes) wrap at about TABLE_VALUE_WIDTH, keeping the table inside a terminal's width;
 * shorter tables stay as wide as their cells. A word wider than the column (a path, an id) would be
 * cut by cli-table3: such a table is left unwrapped, so the word stays whole and can be copied,
 * unless the caller asks for `valueWidth`, which splits it over lines instead (results, whose ids
 * can be very long).
 */
export function printTable(rawRows: Array<[string, string]>, head?: [string, string], valueWidth?: number): void {
  const rows = rawRows.map(([k, v]): [string, string] => [safeCell(k), safeCell(v)]);
  const width = valueWidth ?? TABLE_VALUE_WIDTH;
  const long = rows.some(([, v]) => v.split('\n').some((line) => line.length > width - 2));
  const wide = long && rows.some(([, v]) => v.split(/\s+/).some((word) => word.length > width - 2));
  const wrap = long && !(wide && valueWidth === undefined) ? { colWidths: [Math.max(...rows.map(([k]) => k.length)) + 2, width], wordWrap: true, wrapOnWordBoundary: !wide } : {};
  const table = new Table({ ...style(), ...(head ? { head } : {}), ...wrap });
  for (const row of rows) table.push(row);
  process.stdout.write(`${table.toString()}\n`);
}

/** `colWidths` (with word wrap) keeps a table of long cells inside a terminal's width. */
export function printGrid(head: string[], rows: string[][], colWidths?: number[]): void {
  const table = new Table({ ...style(), head, ...(colWidths ? { colWidths, wordWrap: true, wrapOnWordBoundary: true } : {}) });
  for (const row of rows) table.push(row.map(safeCell));
  process.stdout.write(`${table.toString()}\n`);
}

/**
 * Prose for a terminal: wrapped on word boundaries at `width` columns, lines after the first
 * indented by `indent` (a word wider than a line stays whole on its own line).
 */
export function wrapText(text: string, width = TABLE_VALUE_WIDTH + 20, indent = '  '): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const start = lines.length === 0 ? '' : indent;
    if (line !== '' && (start + line).length + 1 + word.length > width) {
      lines.push(start + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push((lines.length === 0 ? '' : indent) + line);
  return lines.join('\n');
}

/**
 * A spinner on stderr that appears only if the work takes longer than `delayMs`, and only on a
 * terminal: a program reading stderr gets the error line alone, never "- running…" lines.
 */
export async function withProgress<T>(text: string, enabled: boolean, work: () => Promise<T>, delayMs = 1_000, terminal = process.stderr.isTTY === true): Promise<T> {
  if (!enabled || !terminal) return work();
  let spinner: Ora | undefined;
  const timer = setTimeout(() => {
    spinner = ora({ text, stream: process.stderr }).start();
  }, delayMs);
  try {
    const result = await work();
    spinner?.succeed();
    return result;
  } catch (err) {
    spinner?.fail();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(0)} ms`;
}

export function credits(n: bigint): string {
  return `${n} credit${n === 1n ? '' : 's'}`;
}

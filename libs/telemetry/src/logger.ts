import type { DestinationStream, Logger } from 'pino';
import pino from 'pino';

export type { Logger } from 'pino';

/**
 * Longest string logged from any field. Log fields often quote untrusted input (a skill name, a
 * peer's error message); a 4 MB name once made every request a 12 MB log line.
 */
export const MAX_LOG_STRING_CHARS = 1_024;
/** Items logged from one array; the rest are counted, not written. */
export const MAX_LOG_ARRAY_ITEMS = 32;
/** Nesting logged from a field; deeper values are replaced by a marker. */
export const MAX_LOG_DEPTH = 5;
/**
 * Longest line written. Fields are capped one by one; this catches what escapes them (child
 * bindings, many capped fields together): such a line is replaced by a short notice with its head.
 */
export const MAX_LOG_LINE_CHARS = 16 * 1024;
/**
 * Lines waiting for a slow stderr reader; beyond it new lines are dropped, so a reader that
 * cannot keep up costs lost lines, not unbounded memory (once: 1.8 GB of backlog).
 */
export const MAX_LOG_BUFFER_BYTES = 16 * 1024 * 1024;

export interface LoggerOptions {
  service: string;
  nodeId?: string;
  level?: string;
  /** Where JSON lines go; stderr by default so stdout stays free for program output. */
  destination?: DestinationStream;
}

/**
 * pino JSON lines; `service` and `nodeId` bound on every line, errors under `err`. Every string
 * logged is capped (`capForLog`) and so is every line, whoever wrote the call.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const base: Record<string, string> = { service: opts.service };
  if (opts.nodeId) base['nodeId'] = opts.nodeId;
  return pino(
    {
      level: opts.level ?? 'info',
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: {
        err: capError,
        msg: (msg: unknown) => (typeof msg === 'string' ? capForLog(msg) : msg),
      },
      // Runs before the serializers; `err` is left to its serializer above.
      formatters: { log: (obj) => capFields(obj, 0, 'err') as Record<string, unknown> },
      hooks: { streamWrite: capLine },
    },
    opts.destination ?? pino.destination({ fd: 2, sync: false, maxLength: MAX_LOG_BUFFER_BYTES }),
  );
}

/** A logger that drops everything (library defaults, quiet tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * `value` if short, else its head and its length. For untrusted strings bound or logged by hand
 * (e.g. a child logger's bindings, which pino writes as given).
 */
export function capForLog(value: string, max = MAX_LOG_STRING_CHARS): string {
  return value.length <= max ? value : `${value.slice(0, max)}…[${value.length} chars]`;
}

/** A copy of `value` with strings, arrays, binary data and nesting capped; the input is not changed. */
function capFields(value: unknown, depth: number, skipKey?: string): unknown {
  if (typeof value === 'string') return capForLog(value);
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} of ${value.byteLength} bytes]`;
  if (depth >= MAX_LOG_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_LOG_ARRAY_ITEMS).map((v) => capFields(v, depth + 1));
    return value.length > MAX_LOG_ARRAY_ITEMS ? [...items, `…[${value.length - MAX_LOG_ARRAY_ITEMS} more]`] : items;
  }
  // Errors, dates and other class instances keep their own JSON form (or their serializer's).
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === skipKey ? v : capFields(v, depth + 1);
  return out;
}

function capError(err: unknown): unknown {
  const serialized: unknown = pino.stdSerializers.err(err as Error);
  // pino's form of an error has its own prototype; its fields are own properties, so copy them.
  return serialized === err ? capFields(err, 0) : capFields({ ...(serialized as object) }, 0);
}

function capLine(line: string): string {
  if (line.length <= MAX_LOG_LINE_CHARS) return line;
  const level = /^\{"level":(\d+)/.exec(line)?.[1];
  return `${JSON.stringify({ level: level ? Number(level) : 50, msg: 'log line cut', chars: line.length, head: line.slice(0, MAX_LOG_STRING_CHARS) })}\n`;
}

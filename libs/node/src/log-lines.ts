/**
 * A service log's last lines as a person reads them in an error: each pino JSON line becomes
 * "level: message: error message" (the rest of its fields, timestamps and stacks, stay in the log
 * file), other lines stay as they are; the same line repeated (a service restarted and failing the
 * same way each time) is shown once.
 */

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** The most of one line an error quotes. */
const MAX_LINE_CHARS = 300;

function readable(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line.slice(0, MAX_LINE_CHARS);
  }
  if (typeof parsed !== 'object' || parsed === null) return line.slice(0, MAX_LINE_CHARS);
  const { level, msg, err } = parsed as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
  if (typeof msg !== 'string') return line.slice(0, MAX_LINE_CHARS);
  const name = typeof level === 'number' ? (LEVEL_NAMES[level] ?? 'log') : 'log';
  const why = typeof err?.message === 'string' && err.message !== '' ? `: ${err.message}` : '';
  return `${name}: ${msg}${why}`.slice(0, MAX_LINE_CHARS);
}

/** The last `count` distinct lines of `lines`, readable, oldest first. */
export function lastReadableLines(lines: readonly string[], count: number): string[] {
  const out: string[] = [];
  for (let i = lines.length - 1; i >= 0 && out.length < count; i--) {
    const line = lines[i]?.trim() ?? '';
    if (line === '') continue;
    const shown = readable(line);
    if (!out.includes(shown)) out.push(shown);
  }
  return out.reverse();
}

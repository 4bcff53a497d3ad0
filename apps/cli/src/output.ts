/**
 * Output rules for people and agents: `--json` prints exactly one JSON document on stdout;
 * otherwise readable tables. Progress and logs go to stderr.
 */
import Table from 'cli-table3';
import ora, { Ora } from 'ora';

/**
 * One compact line: tensors can hold millions of numbers, which indentation would put one per line.
 * bigint (proto uint64) becomes a decimal string, Buffers become base64.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
        return Buffer.from((v as { data: number[] }).data).toString('base64');
      }
      return v;
    },
  );
}

export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}

/** Colours only for a terminal; piped output stays plain text. */
const style = () => (process.stdout.isTTY ? {} : { style: { head: [], border: [] } });

export function printTable(rows: Array<[string, string]>, head?: [string, string]): void {
  const table = new Table({ ...style(), ...(head ? { head } : {}) });
  for (const row of rows) table.push(row);
  process.stdout.write(`${table.toString()}\n`);
}

export function printGrid(head: string[], rows: string[][]): void {
  const table = new Table({ ...style(), head });
  for (const row of rows) table.push(row);
  process.stdout.write(`${table.toString()}\n`);
}

/** A spinner on stderr that appears only if the work takes longer than `delayMs`. */
export async function withProgress<T>(text: string, enabled: boolean, work: () => Promise<T>, delayMs = 1_000): Promise<T> {
  if (!enabled) return work();
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

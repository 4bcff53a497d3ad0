/**
 * Reads `--input file.json`: { "inputs": [ { "name": "a", "shape": [2, 2], "data": [1, 2, 3, 4] } ] },
 * each input's values as numbers (`data`) or as base64 of little-endian f32 (`dataBase64`), as the
 * agent API's POST /v1/tasks takes them. A property it does not take is refused, as the API refuses
 * it, rather than ignored.
 */
import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Tensor } from '@swarm/contracts';
import { f32FromBase64 } from '@swarm/client';
import { toTensor } from '@swarm/contracts';
import { z } from 'zod';
import { CliError } from './cli-error';

const InputEntry = z
  .strictObject({
    name: z.string().min(1),
    shape: z.array(z.number().int().positive()).min(1),
    data: z.array(z.number().finite()).optional(),
    dataBase64: z.string().optional(),
  })
  .refine((t) => (t.data === undefined) !== (t.dataBase64 === undefined), 'give exactly one of data (numbers) and dataBase64 (little-endian f32, base64)');
const InputFile = z.strictObject({ inputs: z.array(InputEntry).min(1) });
type InputEntry = z.infer<typeof InputEntry>;

/** An input's values: its numbers, or its base64 decoded, checked against its shape's count before decoding. */
function valuesOf(t: InputEntry, at: number): Float32Array {
  if (t.data !== undefined) return Float32Array.from(t.data);
  const count = t.shape.reduce((n, d) => n * d, 1);
  // As the agent API decodes it (its alphabet and length checked before decoding).
  const decoded = f32FromBase64(t.dataBase64 ?? '', count);
  if ('notBase64' in decoded) throw new Error(`inputs.${at}.dataBase64 is not base64 of the ${Number.isSafeInteger(count) ? count : 'many'} f32 values its shape holds`);
  if ('bytes' in decoded) throw new Error(`inputs.${at}: shape needs ${count * 4} bytes of f32, dataBase64 holds ${decoded.bytes}`);
  const { values } = decoded;
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`inputs.${at}.dataBase64 holds ${values[bad]} at value ${bad}: inputs are finite numbers`);
  return values;
}

/** Zod's words for an issue, with any property name a file gave cut short (a file may name one of megabytes). */
function issueWords(issue: z.core.$ZodIssue): string {
  const where = issue.path.map((p) => String(p).slice(0, 40)).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const [key = ''] = issue.keys;
    return `${where}: has a property it does not take (${JSON.stringify(key.slice(0, 40))}${key.length > 40 ? '…' : ''}); an input has name, shape, and data or dataBase64`;
  }
  return `${where}: ${issue.message}`;
}

/**
 * A task holds at most 2,000,000 values (TASK_MAX_ELEMENTS); written as JSON with full float32
 * precision that is about 30 MB. Anything much larger cannot be a valid task, so it is refused
 * before being read into memory, or as soon as a read passes it.
 */
export const MAX_INPUT_FILE_BYTES = 128 * 1024 * 1024;

/** What a path that is not a regular file is, in words ('a FIFO (named pipe)'); undefined for a regular file. */
function notRegular(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

function checkRegular(path: string, st: Stats): void {
  // A directory keeps the words it always had (its read fails with EISDIR).
  if (st.isDirectory()) throw new CliError('SWARM_BAD_ARGS', `cannot read input file ${path}: EISDIR`);
  const what = notRegular(st);
  if (what) throw new CliError('SWARM_BAD_ARGS', `input file ${path} is ${what}, not a regular file: give a file that holds the JSON`);
}

function tooLarge(path: string, maxBytes: number): CliError {
  return new CliError('SWARM_BAD_ARGS', `input file ${path} is larger than ${maxBytes} bytes: a task's inputs fit in that much JSON`);
}

/** How much is read at a time: the limit is checked between reads. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The file's bytes, at most `maxBytes`. Only a regular file is read: opening a FIFO blocks until a
 * writer comes (in libuv's thread pool, where no signal ends it), and a device (/dev/zero) never
 * ends. Its stated size is not trusted either (a /proc file says 0, a file may grow): at most
 * `maxBytes` + 1 bytes are read.
 */
async function readBounded(path: string, maxBytes: number): Promise<Buffer> {
  const st = await stat(path);
  checkRegular(path, st);
  if (st.size > maxBytes) throw tooLarge(path, maxBytes);
  // O_NONBLOCK: had the path become a FIFO since the stat, the open still returns at once (fstat below refuses it).
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    checkRegular(path, await handle.stat());
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK_BYTES, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(path, maxBytes);
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

export async function readInputFile(path: string, maxBytes = MAX_INPUT_FILE_BYTES): Promise<Tensor[]> {
  let text: string;
  try {
    text = (await readBounded(path, maxBytes)).toString('utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError('SWARM_BAD_ARGS', `cannot read input file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    // A byte-order mark (as some editors save UTF-8) is no part of the JSON.
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    // The parser's message quotes the file's text: only where it stopped is said.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new CliError('SWARM_BAD_ARGS', `input file ${path} is not JSON${at === undefined ? '' : ` (it stops making sense at character ${at})`}`);
  }
  const parsed = InputFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError('SWARM_BAD_ARGS', `input file ${path}: ${issue ? issueWords(issue) : 'invalid'}; expected {"inputs":[{"name","shape","data" or "dataBase64"}]}`);
  }
  try {
    return parsed.data.inputs.map((t, i) => toTensor(t.name, t.shape, valuesOf(t, i)));
  } catch (err) {
    throw new CliError('SWARM_BAD_ARGS', `input file ${path}: ${(err as Error).message}`);
  }
}

/** Reads `--input file.json`: { "inputs": [ { "name": "a", "shape": [2, 2], "data": [1, 2, 3, 4] } ] }. */
import { readFile, stat } from 'node:fs/promises';
import type { Tensor } from '@swarm/contracts';
import { toTensor } from '@swarm/contracts';
import { z } from 'zod';
import { CliError } from './cli-error';

const InputFile = z.object({
  inputs: z
    .array(
      z.object({
        name: z.string().min(1),
        shape: z.array(z.number().int().positive()).min(1),
        data: z.array(z.number().finite()),
      }),
    )
    .min(1),
});

/**
 * A task holds at most 2,000,000 values (TASK_MAX_ELEMENTS); written as JSON with full float32
 * precision that is about 30 MB. Anything much larger cannot be a valid task, so it is refused
 * before being read into memory.
 */
export const MAX_INPUT_FILE_BYTES = 128 * 1024 * 1024;

export async function readInputFile(path: string): Promise<Tensor[]> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_INPUT_FILE_BYTES) {
      throw new CliError('SWARM_BAD_ARGS', `input file ${path} is ${size} bytes; a task's inputs fit in ${MAX_INPUT_FILE_BYTES} bytes of JSON`);
    }
    text = await readFile(path, 'utf8');
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
    throw new CliError(
      'SWARM_BAD_ARGS',
      `input file ${path}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}; expected {"inputs":[{"name","shape","data"}]}`,
    );
  }
  try {
    return parsed.data.inputs.map((t) => toTensor(t.name, t.shape, Float32Array.from(t.data)));
  } catch (err) {
    throw new CliError('SWARM_BAD_ARGS', `input file ${path}: ${(err as Error).message}`);
  }
}

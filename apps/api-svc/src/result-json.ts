/**
 * A result answer as JSON text, its outputs' values written a chunk at a time with the event loop
 * free between chunks. JSON numbers cost about a microsecond of the event loop per float, so a
 * 1M-float result built in one go held every other agent's calls for a second or more (a helper's
 * flood of tasks with large outputs: p90 1.6 s); built in chunks, no turn of the loop formats more
 * than FLOATS_PER_TURN of them (tens of ms), and the node answers others in between. The text is
 * what fastify would have written for the same object (the routes send it as it is).
 */
import type { SubmitTaskResponse } from '@swarm/contracts';
import type { TaskResult } from './http-schemas';
import { floatsOf, taskResultJson } from './task-input';

/** Floats formatted per turn of the event loop (about 30–60 ms on this machine's cores). */
export const FLOATS_PER_TURN = 32 * 1024;

/** Stands for output `i`'s values in the skeleton; no tensor name or other field can hold it (a NUL). */
const placeholder = (i: number) => `\u0000swarm-floats-${i}\u0000`;

/** The values of a float32 tensor as a JSON array, a chunk per turn of the event loop. */
async function floatsJson(values: Float32Array): Promise<string> {
  const parts: string[] = [];
  for (let from = 0; from < values.length; from += FLOATS_PER_TURN) {
    if (from > 0) await new Promise((resolve) => setImmediate(resolve));
    parts.push(JSON.stringify(Array.from(values.subarray(from, from + FLOATS_PER_TURN))).slice(1, -1));
  }
  return `[${parts.join(',')}]`;
}

/**
 * The JSON text of `wrap(result)`, `result` being `res` as the API's JSON (numbers): e.g. the result
 * itself (a sync answer) or a status carrying it.
 */
export async function resultAnswerText(res: SubmitTaskResponse, wrap: (result: TaskResult) => unknown = (result) => result): Promise<string> {
  // The fields as taskResultJson writes them, its outputs' values left out (formatted below).
  const result = taskResultJson({ ...res, outputs: res.outputs.map((t) => ({ ...t, data: new Uint8Array(0) })) }, 'json');
  const values = res.outputs.map(floatsOf);
  const skeleton = { ...result, outputs: result.outputs.map((o, i) => ({ ...o, data: placeholder(i) })) };
  let text = JSON.stringify(wrap(skeleton as unknown as TaskResult));
  for (let i = 0; i < values.length; i++) {
    const array = await floatsJson(values[i]);
    text = text.replace(JSON.stringify(placeholder(i)), () => array);
  }
  return text;
}

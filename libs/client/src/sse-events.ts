/**
 * Server-sent events (text/event-stream, WHATWG HTML §9.2) read from a fetch body: blocks separated
 * by a blank line, `event:` and `data:` fields, `:` comments (keep-alives) skipped. Only what the
 * agent API sends is needed; a block larger than the cap ends the stream with an error instead of
 * buffering without bound.
 */
import { AgentApiError } from './api-error';

export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/** api-svc's largest event is a `done` with the status JSON (results themselves are fetched by GET). */
export const MAX_EVENT_CHARS = 64 * 1024 * 1024;

function parseBlock(block: string): SseEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length > 0 || event !== 'message' ? { event, data: data.join('\n') } : undefined;
}

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let end = blockEnd(buffer); end; end = blockEnd(buffer)) {
        const ev = parseBlock(buffer.slice(0, end.at));
        buffer = buffer.slice(end.at + end.length);
        if (ev) yield ev;
      }
      if (buffer.length > MAX_EVENT_CHARS) throw new AgentApiError('SWARM_PAYLOAD_TOO_LARGE', `an event of the task's stream exceeds ${MAX_EVENT_CHARS} characters`, 0, false);
    }
    const last = parseBlock(buffer + decoder.decode());
    if (last) yield last;
  } finally {
    // Stops the download when the caller leaves early (a `done` event, an abort).
    await reader.cancel().catch(() => undefined);
  }
}

function blockEnd(buffer: string): { at: number; length: number } | undefined {
  const m = /\r?\n\r?\n|\r\r/.exec(buffer);
  return m ? { at: m.index, length: m[0].length } : undefined;
}

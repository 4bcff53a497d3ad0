import type { ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import { createEventStreams, MAX_STREAM_MS, POLL_MS } from './task-events';

/** A response recording what is written, whose client is there until `leave()` (or gone from the start). */
function fakeResponse(gone = false): { res: ServerResponse; written: string[]; leave: () => void } {
  const written: string[] = [];
  const res = Object.assign(new EventEmitter(), {
    socket: { destroyed: gone },
    writableEnded: false,
    writeHead: () => res,
    write: (text: string) => (written.push(text), true),
    end: () => void (res.writableEnded = true),
  });
  return { res: res as unknown as ServerResponse, written, leave: () => void res.emit('close') };
}

describe('task event streams - a client that leaves while the router is asked (helper-179)', () => {
  it('ends its stream, and frees its slot, when the client leaves, not when a slow poll answers', async () => {
    jest.useFakeTimers();
    try {
      const streams = createEventStreams();
      const { res, leave } = fakeResponse();
      const running = { taskId: 't', state: 'TASK_STATE_RUNNING' };
      let polls = 0;
      // The router never answers the poll.
      const ended = streams.stream(res, 't', { kind: 'router', first: running as never, poll: () => (polls++, new Promise<never>(() => undefined)) });
      await jest.advanceTimersByTimeAsync(POLL_MS);
      expect({ polls, open: streams.open() }).toEqual({ polls: 1, open: 1 });
      let done = false;
      void ended.then(() => (done = true));
      leave();
      await jest.advanceTimersByTimeAsync(0);
      expect({ done, open: streams.open() }).toEqual({ done: true, open: 0 });
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('task event streams - a client gone before the stream began (helper-178)', () => {
  it('ends at once instead of polling the router for its whole life, holding the agent a stream slot', async () => {
    jest.useFakeTimers();
    try {
      const streams = createEventStreams();
      const { res, written } = fakeResponse(true);
      let polls = 0;
      const running = { taskId: 't', state: 'TASK_STATE_RUNNING' };
      const ended = streams.stream(res, 't', { kind: 'router', first: running as never, poll: async () => (polls++, running as never) });
      await jest.advanceTimersByTimeAsync(10 * POLL_MS);
      let done = false;
      void ended.then(() => (done = true));
      await jest.advanceTimersByTimeAsync(0);
      expect({ done, polls, open: streams.open(), written }).toEqual({ done: true, polls: 0, open: 0, written: [] });
      expect(MAX_STREAM_MS).toBeGreaterThan(10 * POLL_MS);
    } finally {
      jest.useRealTimers();
    }
  });
});

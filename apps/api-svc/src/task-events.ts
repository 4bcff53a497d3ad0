/**
 * GET /v1/tasks/:id/events: a task's progress as server-sent events (text/event-stream):
 * `accepted`, `running`, then `done` (a verified result) or `failed` (refunded, rejected, unknown),
 * each with the task's status as JSON, and the stream ends. A task this API holds is followed as it
 * ends; one it does not (submitted before a restart), or one whose answer this API gave up waiting
 * for, is polled from the router, for MAX_STREAM_MS at most (then the stream ends with no last
 * event: GET the task). A client that goes away ends its stream, and stop() ends them all; the task
 * itself runs on either way.
 */
import type { ServerResponse } from 'node:http';
import { TASK_MAX_TIMEOUT_MS } from '@swarm/contracts';
import type { TaskJob } from './agent-tasks';
import type { TaskStatus } from './http-schemas';
import { isDone, isFinal, jobStatus, runningStatus } from './task-status';

/** Comment lines keep proxies and clients from closing an idle stream. */
export const KEEPALIVE_MS = 15_000;
/** How often a task this API does not hold is asked about. */
export const POLL_MS = 500;
/** How long the last event of a task this API holds waits for the router's word before it says its own. */
export const FINAL_STATUS_WAIT_MS = 2_000;
/** Longest a stream follows a task: its longest deadline and then some. */
export const MAX_STREAM_MS = TASK_MAX_TIMEOUT_MS + 30_000;

/**
 * A task this API holds (`final`: its status once the job ended, as GET answers it, without the
 * result; the job's own if that fails or is slow; `attach`: what goes out for it, the status with
 * the result as JSON text, charged to the agent, or with a note and `resultRetryAfterMs` past its
 * rate: result-reads.ts), or one it follows by asking the router.
 */
export type TaskSource =
  | { kind: 'job'; job: TaskJob; final(): Promise<TaskStatus>; attach(status: TaskStatus): Promise<TaskStatus | string> }
  | { kind: 'router'; first: TaskStatus; poll(): Promise<TaskStatus> };

export interface EventStreams {
  /** Writes the stream to `res` (headers already unsent); resolves when it ended. */
  stream(res: ServerResponse, taskId: string, source: TaskSource): Promise<void>;
  open(): number;
  /** Ends every open stream. */
  closeAll(): void;
}

export function createEventStreams(): EventStreams {
  const open = new Set<() => void>();

  async function stream(res: ServerResponse, taskId: string, source: TaskSource): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    // A client gone while the router was first asked closed the response before it was heard: the
    // stream would have polled its whole life for no one, holding the agent's slot (helper-178).
    let closed = res.socket === null || res.socket.destroyed;
    let wake: () => void = () => undefined;
    const end = () => {
      closed = true;
      wake();
    };
    open.add(end);
    res.on('close', end);
    const keepalive = setInterval(() => send(': keep-alive\n\n'), KEEPALIVE_MS);
    const until = Date.now() + MAX_STREAM_MS;
    function send(text: string): void {
      if (!closed && !res.writableEnded) res.write(text);
    }
    /** `data` as JSON, or JSON text already written (a status carrying a result: result-json.ts). */
    const event = (name: string, data: unknown) => send(`event: ${name}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    /** Resolves when `p` settles, the client leaves, or stop() ends the stream. */
    const waitFor = (p: Promise<unknown>) =>
      new Promise<void>((resolve) => {
        wake = resolve;
        void p.then(
          () => resolve(),
          () => resolve(),
        );
      });
    try {
      event('accepted', { taskId });
      let status: TaskStatus;
      /** What the last event sends: `status`, or its JSON text with the result attached. */
      let last: TaskStatus | string | undefined;
      if (source.kind === 'job') {
        event('running', { taskId });
        await waitFor(source.job.ended);
        status = jobStatus(source.job);
        if (!closed && isFinal(status) && source.job.answered) {
          const own = status;
          let timer: ReturnType<typeof setTimeout> | undefined;
          const waited = new Promise<TaskStatus>((r) => (timer = setTimeout(() => r(own), FINAL_STATUS_WAIT_MS)));
          // The router's word, or the router's answer as this API holds it when the router is slow.
          status = await Promise.race([source.final().catch(() => own), waited]);
          clearTimeout(timer);
        } else if (isFinal(status)) {
          // Ended here without the router's answer (this API's wait gave up): the router's word
          // alone, however slow, as for a task this API does not hold (helper-178, helper-179).
          status = runningStatus(taskId);
        }
      } else {
        status = source.first;
        if (!isFinal(status)) event('running', { taskId });
      }
      const poll = () => (source.kind === 'job' ? source.final() : source.poll());
      while (!closed && !isFinal(status) && Date.now() < until) {
        await waitFor(new Promise((r) => setTimeout(r, POLL_MS)));
        if (closed) break;
        // A client that leaves meanwhile ends the stream now, not when the router answers (up to 10 s: helper-179).
        const next = poll().catch(() => status);
        await waitFor(next);
        if (closed) break;
        status = await next;
      }
      // The result goes with whichever status won (a busy node's router may be late: this API's then).
      if (source.kind === 'job' && !closed && isFinal(status)) last = await source.attach(status);
      const done = isDone(status) || (source.kind === 'job' && source.job.state === 'done');
      if (!closed && isFinal(status)) event(done ? 'done' : 'failed', last ?? status);
    } finally {
      clearInterval(keepalive);
      open.delete(end);
      res.off('close', end);
      if (!res.writableEnded) res.end();
    }
  }

  return {
    stream,
    open: () => open.size,
    closeAll() {
      for (const end of [...open]) end();
    },
  };
}

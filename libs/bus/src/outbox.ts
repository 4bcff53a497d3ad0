/**
 * Outgoing messages of one connection, sent together. nats.js writes its buffer to the socket in
 * the microtask after the first message of a turn, so a reply and the events published a few
 * microtasks before it, or the replies of requests finishing in one event-loop turn, were one
 * socket write each (a syscall here, a read in nats-server: 14–22% of a service's busy time,
 * issue 12). Queued sends run back to back in `setImmediate`, after the I/O callbacks of this
 * turn: nats.js then writes them all at once. A service's requests go the same way, so at load
 * the requests of several tasks leave in one write too.
 */
export interface Outbox {
  /** Runs `send` with the others of this turn; a throw goes to `onError` (never to the caller). */
  send(send: () => void, onError: (err: unknown) => void): void;
  /** Runs every queued send now (before a drain or close). */
  flush(): void;
}

interface Queued {
  send: () => void;
  onError: (err: unknown) => void;
}

export function createOutbox(): Outbox {
  let queue: Queued[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = () => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const sending = queue;
    queue = [];
    for (const q of sending) {
      try {
        q.send();
      } catch (err) {
        q.onError(err);
      }
    }
  };
  return {
    send(send, onError) {
      queue.push({ send, onError });
      scheduled ??= setImmediate(flush);
    },
    flush,
  };
}

/**
 * Request/reply over one wildcard inbox subscription per connection and a table of pending
 * requests by token. nats.js's own `request`/`requestMany` work the same way, but each request
 * also makes a nuid, a timer promise and, once answered, a NatsError (a captured stack) only to
 * reject a promise already settled (RequestOne.cancel), and `requestMany` an async iterator: about
 * 10% of the router's CPU. Here a request is a random token, one Map entry and one timer.
 *
 * Tokens are random (96 bits), not a counter: every holder of a role's key may read that role's
 * inboxes (a shared client key), and any requester may name any inbox as a request's reply subject,
 * so one reply seen would tell an attacker the next subjects, where a task it submitted itself
 * would then be answered as another program's result. Once a request is acknowledged its subject
 * has been seen on the bus, so the server's "no responders" status is not taken from it after that.
 */
import { randomFillSync } from 'node:crypto';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from 'nats';
import { nuid } from 'nats';

/** 'aborted': the request's signal fired; the signal's reason is the error's `cause`. */
export type MuxFailure = 'timeout' | 'ack-timeout' | 'no-responders' | 'permission' | 'closed' | 'aborted';

/** Why a request got no answer; the bus client turns it into a SwarmError. */
export class MuxError extends Error {
  constructor(
    readonly failure: MuxFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MuxError';
  }
}

export interface MuxRequestOptions {
  readonly headers?: MsgHdrs;
  /** From the publish to the answer. */
  readonly timeoutMs: number;
  /**
   * The responder first sends an empty reply carrying this header (an acknowledgement), then the
   * answer; without the acknowledgement within `timeoutMs` the request fails with 'ack-timeout'.
   */
  readonly ack?: { readonly header: string; readonly timeoutMs: number };
  /** Aborting fails the request ('aborted', the signal's reason as `cause`). */
  readonly signal?: AbortSignal;
  /** Runs the publish, e.g. with the other messages of this turn (an Outbox); default: at once. */
  readonly send?: (publish: () => void, onError: (err: unknown) => void) => void;
}

export interface ReplyMux {
  /** The first reply that is not an acknowledgement; rejects with a MuxError, or what the publish threw. */
  request(subject: string, data: Uint8Array, opts: MuxRequestOptions): Promise<Msg>;
}

interface Pending {
  readonly subject: string;
  readonly resolve: (m: Msg) => void;
  readonly reject: (err: unknown) => void;
  /** The header of the acknowledgement still awaited (acked requests only); '' once it came. */
  ackHeader: string;
  /** The acknowledgement came. */
  acked: boolean;
}

const muxes = new WeakMap<NatsConnection, ReplyMux>();

/** A request timer firing this much after its time found the event loop stalled (see expire). */
export const STALLED_TIMER_MS = 50;

/** The connection's mux, made on first use; it lives as long as the connection. */
export function replyMuxOf(nc: NatsConnection): ReplyMux {
  let mux = muxes.get(nc);
  if (!mux) {
    mux = createReplyMux(nc);
    muxes.set(nc, mux);
  }
  return mux;
}

/** Random bytes of one token: 2^-96 per guess. */
const TOKEN_BYTES = 12;
/** Drawn TOKEN_POOL_TOKENS tokens at a time: one system call for many requests. */
const TOKEN_POOL_TOKENS = 256;
const tokenPool = Buffer.alloc(TOKEN_BYTES * TOKEN_POOL_TOKENS);
let tokenAt = tokenPool.length;

/** An unguessable reply token: base64url, so a NATS subject token ([A-Za-z0-9_-], no dots or wildcards). */
export function replyToken(): string {
  if (tokenAt === tokenPool.length) {
    randomFillSync(tokenPool);
    tokenAt = 0;
  }
  const token = tokenPool.toString('base64url', tokenAt, tokenAt + TOKEN_BYTES);
  tokenAt += TOKEN_BYTES;
  return token;
}

/** The connection's inbox prefix (a role's `_INBOX_<role>`, the only replies its permissions let it read; `_INBOX` on an open bus). */
export function connectionInboxPrefix(nc: NatsConnection): string {
  const options = (nc as { options?: { inboxPrefix?: string } }).options;
  return options?.inboxPrefix || '_INBOX';
}

function createReplyMux(nc: NatsConnection): ReplyMux {
  const prefix = `${connectionInboxPrefix(nc)}.${nuid.next()}.`;
  const pending = new Map<string, Pending>();
  let sub: Subscription | undefined;

  const settle = (token: string) => {
    const p = pending.get(token);
    pending.delete(token);
    return p;
  };
  const failAll = (failure: MuxFailure, message: string, subject?: string) => {
    for (const [token, p] of pending) {
      if (subject !== undefined && p.subject !== subject) continue;
      pending.delete(token);
      p.reject(new MuxError(failure, message));
    }
  };

  const start = () => {
    sub = nc.subscribe(`${prefix}*`, {
      callback: (err, m) => {
        if (err) {
          // The server refused the inbox subscription: no reply can arrive. The next request tries again.
          sub = undefined;
          failAll('permission', `cannot read replies under ${prefix}*: ${err.message}`);
          return;
        }
        const token = m.subject.slice(prefix.length);
        const p = pending.get(token);
        if (!p) return; // late, or answered twice
        const h = m.headers;
        // nats-server's "no responders" status: an empty message with code 503. Not after an
        // acknowledgement: a responder took the request, and its subject has been on the bus since.
        if (m.data.length === 0 && h?.code === 503) {
          if (p.acked) return;
          settle(token);
          p.reject(new MuxError('no-responders', `no responders on ${p.subject}`));
          return;
        }
        if (p.ackHeader !== '' && m.data.length === 0 && h?.has(p.ackHeader)) {
          p.ackHeader = '';
          p.acked = true;
          return;
        }
        settle(token);
        p.resolve(m);
      },
    });
    // A publish the server refused for permissions never gets a reply: fail it now, not at its timeout.
    void (async () => {
      for await (const s of nc.status()) {
        const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
        if (ctx?.operation === 'publish') failAll('permission', `permission denied to publish to ${ctx.subject}`, ctx.subject);
      }
    })().catch(() => undefined);
    void nc.closed().then(() => failAll('closed', 'the NATS connection closed'));
  };

  return {
    request(subject, data, opts) {
      if (nc.isClosed()) return Promise.reject(new MuxError('closed', 'the NATS connection is closed'));
      if (opts.signal?.aborted) return Promise.reject(aborted(subject, opts.signal));
      if (!sub) start();
      const token = replyToken();
      return new Promise<Msg>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = () => {
          if (settle(token) && opts.signal) finish(aborted(subject, opts.signal));
        };
        const finish = (err: unknown, m?: Msg) => {
          if (timer) clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          if (m) resolve(m);
          else reject(err);
        };
        const p: Pending = {
          subject,
          resolve: (m) => finish(undefined, m),
          reject: (err) => finish(err),
          ackHeader: opts.ack?.header ?? '',
          acked: false,
        };
        // `ms`: the limit the failure names (the ack's, or the whole request's).
        const arm = (failure: MuxFailure, ms: number, delay: number) => {
          const due = performance.now() + delay;
          timer = setTimeout(() => expire(failure, ms, due), delay);
        };
        const expire = (failure: MuxFailure, ms: number, due: number) => {
          if (failure === 'ack-timeout' && p.ackHeader === '') {
            // Acknowledged in time: the rest of the whole timeout is left for the answer.
            arm('timeout', opts.timeoutMs, Math.max(0, opts.timeoutMs - ms));
            return;
          }
          const fail = () => {
            if (settle(token)) finish(new MuxError(failure, `${subject} did not ${failure === 'ack-timeout' ? 'acknowledge' : 'answer'} within ${ms} ms`));
          };
          // A timer this late found the event loop stalled (GC, a long synchronous step), and timers
          // run before the loop reads its sockets: an answer that arrived meanwhile is read first.
          if (performance.now() - due > STALLED_TIMER_MS) setImmediate(fail);
          else fail();
        };
        pending.set(token, p);
        if (opts.ack) {
          const ackMs = Math.min(opts.ack.timeoutMs, opts.timeoutMs);
          arm(ackMs < opts.timeoutMs ? 'ack-timeout' : 'timeout', ackMs, ackMs);
        } else {
          arm('timeout', opts.timeoutMs, opts.timeoutMs);
        }
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        const publish = () => nc.publish(subject, data, { reply: `${prefix}${token}`, ...(opts.headers ? { headers: opts.headers } : {}) });
        const onError = (err: unknown) => {
          if (settle(token)) finish(err);
        };
        if (opts.send) opts.send(publish, onError);
        else {
          try {
            publish();
          } catch (err) {
            onError(err);
          }
        }
      });
    },
  };
}

const aborted = (subject: string, signal: AbortSignal) => new MuxError('aborted', `request on ${subject} aborted`, { cause: signal.reason });

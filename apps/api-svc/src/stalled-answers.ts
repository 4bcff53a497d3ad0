/**
 * Answers whose clients stop reading. A response that has sent part of a large answer and then
 * cannot send more (its client reads nothing, so the socket's buffers are full) holds the rest in
 * api-svc's memory for as long as the connection stays open: a helper grew api-svc from 143 MiB to
 * 2.6 GiB with 140 such GETs of one result, and 20 such MCP calls to 1.1 GiB. Every response is
 * watched while it is open: one holding at least STALLED_BYTES unsent whose unsent bytes have not
 * gone down for STALL_LIMIT_MS is destroyed (its connection closed), and its memory freed. A slow
 * reader keeps its answer as long as it makes progress; a response still being worked on (a task
 * running) holds nothing unsent and is never touched.
 */
import type { ServerResponse } from 'node:http';

/** Unsent bytes below this are left alone: small answers fit the socket's buffers anyway. */
export const STALLED_BYTES = 256 * 1024;
/** How long a response may hold that much without sending any of it. */
export const STALL_LIMIT_MS = 30_000;
/** How often responses are looked at. */
export const STALL_CHECK_MS = 5_000;

export interface StalledAnswers {
  /** Watches `res` until it closes. */
  watch(res: ServerResponse): void;
  /** Looks at every watched response now (it also runs every STALL_CHECK_MS by itself). */
  sweep(): void;
  /** Responses destroyed for stalling, since start (for health). */
  destroyed(): number;
  stop(): void;
}

export function watchStalledAnswers(now: () => number = () => performance.now()): StalledAnswers {
  /** Each open response: its unsent bytes at the last look, and since when they have not gone down. */
  const open = new Map<ServerResponse, { unsent: number; since: number }>();
  let destroyed = 0;
  const sweep = () => {
    const t = now();
    for (const [res, seen] of open) {
      const unsent = res.writableLength;
      if (unsent < STALLED_BYTES || unsent < seen.unsent) {
        seen.unsent = unsent;
        seen.since = t;
        continue;
      }
      seen.unsent = unsent;
      if (t - seen.since < STALL_LIMIT_MS) continue;
      open.delete(res);
      destroyed += 1;
      res.destroy();
    }
  };
  const timer = setInterval(sweep, STALL_CHECK_MS);
  timer.unref();
  return {
    sweep,
    watch(res) {
      open.set(res, { unsent: 0, since: now() });
      res.once('close', () => open.delete(res));
    },
    destroyed: () => destroyed,
    stop: () => clearInterval(timer),
  };
}

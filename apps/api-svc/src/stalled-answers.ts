/**
 * Answers whose clients stop reading. A response that has sent part of a large answer and then
 * cannot send more (its client reads nothing, so the socket's buffers are full) holds the rest in
 * api-svc's memory for as long as the connection stays open: a helper grew api-svc from 143 MiB to
 * 2.6 GiB with 140 such GETs of one result, and 20 such MCP calls to 1.1 GiB. Every response is
 * watched while it is open: from the moment it holds at least `stalledBytes` unsent, it has
 * `stallLimitMs`, or the time its unsent bytes take at `minBytesPerSecond` if longer, to send them
 * (to finish, or hold less); past that it is destroyed (its connection closed) and its memory freed.
 * So a client must read a large answer at 256 KiB/s (2 Mbit/s) on average; a response still being
 * worked on (a task running) holds nothing unsent and is never touched.
 *
 * Why a rate, not "no progress for a while": Node sends an answer written whole (a 20 MB JSON
 * answer is one write) without any progress the process can see until all of it is written, so a
 * helper's honest reader at 400 KiB/s looked stalled and was cut off at 17.5 of 19.3 MiB.
 */
import type { ServerResponse } from 'node:http';

export interface StallLimits {
  /** Unsent bytes below this are left alone: small answers fit the socket's buffers anyway. */
  readonly stalledBytes: number;
  /** The least time a response holding that much has to send it. */
  readonly stallLimitMs: number;
  /** The slowest average rate a client may read a large answer at. */
  readonly minBytesPerSecond: number;
  /** How often responses are looked at. */
  readonly checkMs: number;
}

export const DEFAULT_STALL_LIMITS: StallLimits = Object.freeze({ stalledBytes: 256 * 1024, stallLimitMs: 30_000, minBytesPerSecond: 256 * 1024, checkMs: 5_000 });

export interface StalledAnswers {
  /** Watches `res` until it closes. */
  watch(res: ServerResponse): void;
  /** Looks at every watched response now (it also runs every `checkMs` by itself). */
  sweep(): void;
  /** Responses destroyed for stalling, since start (for health). */
  destroyed(): number;
  stop(): void;
}

/** The bytes the socket's handle still has to write (libuv's queue), when Node exposes them. */
function handleQueue(res: ServerResponse): number {
  const handle = (res.socket as unknown as { _handle?: { writeQueueSize?: unknown } } | null)?._handle;
  return typeof handle?.writeQueueSize === 'number' ? handle.writeQueueSize : 0;
}

export function watchStalledAnswers(now: () => number = () => performance.now(), limits: StallLimits = DEFAULT_STALL_LIMITS): StalledAnswers {
  /** Each open response, once it holds `stalledBytes` unsent: by when it must have sent them. */
  const open = new Map<ServerResponse, { deadline?: number }>();
  let destroyed = 0;
  const sweep = () => {
    const t = now();
    for (const [res, seen] of open) {
      const unsent = Math.max(res.writableLength, handleQueue(res));
      if (unsent < limits.stalledBytes) {
        seen.deadline = undefined;
        continue;
      }
      if (seen.deadline === undefined) {
        seen.deadline = t + Math.max(limits.stallLimitMs, (unsent / limits.minBytesPerSecond) * 1000);
        continue;
      }
      if (t < seen.deadline) continue;
      open.delete(res);
      destroyed += 1;
      res.destroy();
    }
  };
  const timer = setInterval(sweep, limits.checkMs);
  timer.unref();
  return {
    watch(res) {
      open.set(res, {});
      res.once('close', () => open.delete(res));
    },
    sweep,
    destroyed: () => destroyed,
    stop: () => clearInterval(timer),
  };
}

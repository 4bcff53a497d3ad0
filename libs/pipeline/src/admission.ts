/**
 * Bounded intake: at most `maxInFlight` tasks and `maxInFlightBytes` of request payload are worked
 * on at once; one more is refused at once with OVERLOADED (retryable, with a retry-after hint)
 * before anything is decoded further, reserved or dispatched. Refusing, not queueing: a client
 * that gets a fast, typed "come back later" can back off, while one whose request waits unseen in
 * a queue only times out (and its bytes stay in memory meanwhile).
 */
import { ErrorCode, SwarmError } from '@swarm/contracts';
import type { Random } from '@swarm/determinism';

export interface AdmissionLimits {
  readonly maxInFlight: number;
  /** Payload bytes of the admitted requests together (see `submitBytes`). */
  readonly maxInFlightBytes: number;
}

/** One admitted task's slot; `release` exactly once, with how long the task took. */
export interface AdmissionTicket {
  release(durationMs: number): void;
}

export interface AdmissionStats {
  readonly inFlight: number;
  readonly inFlightBytes: number;
  readonly admitted: number;
  readonly refused: number;
}

export interface Admission {
  /** A slot for a request of `bytes`, or throws SwarmError OVERLOADED with `retryAfterMs`. */
  admit(bytes: number): AdmissionTicket;
  /** A hint for a caller turned away for lack of capacity further down (e.g. busy executors). */
  retryAfterMs(): number;
  stats(): AdmissionStats;
}

/** The hint before any task has finished: about one small task through a 2-core node. */
export const INITIAL_TASK_MS_ESTIMATE = 1_000;
export const MIN_RETRY_AFTER_MS = 100;
export const MAX_RETRY_AFTER_MS = 30_000;
/** Weight of the newest duration in the moving average (about the last 10 tasks count). */
const EWMA_WEIGHT = 0.1;

export function createAdmission(limits: AdmissionLimits, random: Random): Admission {
  let inFlight = 0;
  let inFlightBytes = 0;
  let admitted = 0;
  let refused = 0;
  let taskMs = INITIAL_TASK_MS_ESTIMATE;

  // One to two average task times: by then the tasks in flight now have most likely finished, and
  // the spread keeps a crowd refused together from coming back together.
  const retryAfterMs = () => Math.round(clamp(taskMs * (1 + random()), MIN_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS));

  return {
    admit(bytes) {
      const full = inFlight >= limits.maxInFlight ? `${inFlight} tasks in flight (limit ${limits.maxInFlight})` : undefined;
      const heavy = inFlightBytes + bytes > limits.maxInFlightBytes ? `${inFlightBytes} request bytes in flight + ${bytes} (limit ${limits.maxInFlightBytes})` : undefined;
      if (full || heavy) {
        refused += 1;
        const after = retryAfterMs();
        throw new SwarmError(ErrorCode.ERROR_CODE_OVERLOADED, `router-svc is at capacity: ${full ?? heavy}; retry after ${after} ms`, undefined, {
          retryAfterMs: after,
        });
      }
      inFlight += 1;
      inFlightBytes += bytes;
      admitted += 1;
      let released = false;
      return {
        release(durationMs) {
          if (released) return;
          released = true;
          inFlight -= 1;
          inFlightBytes -= bytes;
          if (Number.isFinite(durationMs) && durationMs >= 0) taskMs += EWMA_WEIGHT * (durationMs - taskMs);
        },
      };
    },
    retryAfterMs,
    stats: () => ({ inFlight, inFlightBytes, admitted, refused }),
  };
}

/**
 * Bytes a submit holds in memory for as long as its task runs: its tensors' data (views into the
 * received message) plus its strings and a fixed allowance for framing. Measured from the decoded
 * request, so the count is exact for what dominates (tensor data) and needs no re-encoding.
 */
export function submitBytes(req: { skill: string; inputs: ReadonlyArray<{ name: string; shape: readonly number[]; data: Uint8Array }> }): number {
  let bytes = FRAMING_BYTES + req.skill.length;
  for (const t of req.inputs) bytes += t.data.byteLength + t.name.length + t.shape.length * VARINT_MAX_BYTES + FRAMING_BYTES;
  return bytes;
}

const FRAMING_BYTES = 16;
const VARINT_MAX_BYTES = 5;

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

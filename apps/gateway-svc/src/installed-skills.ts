/**
 * Which skills this node's executors run, as the gateway's policy for peers' tasks needs it: asked
 * over the bus (ExecutorSkills) and kept a few seconds, so a burst of peer tasks costs one question.
 * Concurrent askers share one request.
 */
import type { BusClient } from '@swarm/bus';
import { ErrorCode, ExecutorSkills, isSwarmError, SwarmError } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';
import type { TraceContext } from '@swarm/telemetry';

/** A newly installed (or removed) skill is seen by peers' tasks within this long. */
export const SKILLS_CACHE_MS = 3_000;
/** An executor answers from its event loop at once; a longer silence means none is running. */
export const SKILLS_TIMEOUT_MS = 1_000;

export interface InstalledSkills {
  /** Whether this node's executors run `skill`; UNAVAILABLE when no executor answers. */
  has(skill: string, trace?: TraceContext): Promise<boolean>;
}

export function createInstalledSkills(bus: BusClient, stopwatch: Stopwatch): InstalledSkills {
  let known: { at: number; names: ReadonlySet<string> } | undefined;
  let asking: Promise<ReadonlySet<string>> | undefined;

  async function ask(trace: TraceContext | undefined): Promise<ReadonlySet<string>> {
    try {
      const r = await bus.request(ExecutorSkills, {}, { timeoutMs: SKILLS_TIMEOUT_MS, trace });
      const names = new Set(r.skills.map((s) => s.name));
      known = { at: stopwatch.now(), names };
      return names;
    } catch (err) {
      if (isSwarmError(err) && err.retryable) {
        throw new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, `no executor on this node answered within ${SKILLS_TIMEOUT_MS} ms`, true, { cause: err });
      }
      throw err;
    }
  }

  return {
    async has(skill, trace) {
      if (known && stopwatch.now() - known.at < SKILLS_CACHE_MS) return known.names.has(skill);
      // Shared by concurrent askers, in the first one's trace.
      asking ??= ask(trace).finally(() => {
        asking = undefined;
      });
      return (await asking).has(skill);
    },
  };
}

/**
 * What this node's executors run, as they last said. A skills probe costs a bus round trip and
 * waits on executors that may be busy with kernels: a recent answer is reused, concurrent askers
 * share one probe, and when a probe times out (executors loaded, or stopped) the last answer still
 * stands for a while. Loaded executors are not absent: dropping the node's own provider then sent
 * tasks away (or failed them) while the executors would have taken them a moment later, where the
 * executors' own acknowledgement timeout and OVERLOADED answers are the right signals. "No
 * executor at all" (no responders: an immediate answer) is never reused: executors that start a
 * moment later are seen at once.
 */
import type { ListSkillsResponse } from '@swarm/contracts';
import type { Stopwatch } from '@swarm/determinism';

/** An answer this young is reused without asking. */
export const LOCAL_SKILLS_FRESH_MS = 1_000;
/** A failed probe falls back to an answer at most this old. */
export const LOCAL_SKILLS_STALE_MS = 60_000;

export interface LocalSkills {
  /** The executors' skills: fresh, probed now, or (when the probe fails) the last answer within the stale limit. */
  get(): Promise<ListSkillsResponse>;
  /** Records an answer obtained elsewhere (the publisher's own probes). */
  record(answer: ListSkillsResponse): void;
}

export function createLocalSkills(probe: () => Promise<ListSkillsResponse>, stopwatch: Stopwatch): LocalSkills {
  let last: { readonly answer: ListSkillsResponse; readonly atMs: number } | undefined;
  let inFlight: Promise<ListSkillsResponse> | undefined;
  const record = (answer: ListSkillsResponse) => {
    last = { answer, atMs: stopwatch.now() };
  };
  /** The last answer when it named skills and is at most `limitMs` old. */
  const usable = (limitMs: number, strict: boolean) => {
    if (last === undefined || last.answer.skills.length === 0) return undefined;
    const age = stopwatch.now() - last.atMs;
    return (strict ? age < limitMs : age <= limitMs) ? last.answer : undefined;
  };

  async function probeOnce(): Promise<ListSkillsResponse> {
    try {
      const answer = await probe();
      record(answer);
      return answer;
    } catch (err) {
      const stale = usable(LOCAL_SKILLS_STALE_MS, false);
      if (stale) return stale;
      throw err;
    }
  }

  return {
    get() {
      const fresh = usable(LOCAL_SKILLS_FRESH_MS, true);
      if (fresh) return Promise.resolve(fresh);
      inFlight ??= probeOnce().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    record,
  };
}

import type { ListSkillsResponse } from '@swarm/contracts';
import { ErrorCode, SwarmError } from '@swarm/contracts';
import { virtualTime } from '@swarm/determinism';
import { createLocalSkills, LOCAL_SKILLS_FRESH_MS, LOCAL_SKILLS_STALE_MS } from './local-skills';

const answer = (...names: string[]): ListSkillsResponse => ({ skills: names.map((name) => ({ name }) as ListSkillsResponse['skills'][number]), backend: 'cpu' });
const timeout = () => new SwarmError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'executors did not answer the skills probe within 1000 ms');

describe('registry-svc - the executors skills, as they last said', () => {
  it('reuses a fresh answer, shares one probe among concurrent askers, and probes again once it is old', async () => {
    const time = virtualTime();
    const probe = jest.fn(async () => answer('matmul'));
    const skills = createLocalSkills(probe, time.stopwatch);
    await Promise.all([skills.get(), skills.get(), skills.get()]);
    expect(probe).toHaveBeenCalledTimes(1);
    await time.advance(LOCAL_SKILLS_FRESH_MS - 1);
    await skills.get();
    expect(probe).toHaveBeenCalledTimes(1);
    await time.advance(1);
    await skills.get();
    expect(probe).toHaveBeenCalledTimes(2);
  });

  it('answers with the last answer when a probe fails within the stale limit, and fails after it', async () => {
    const time = virtualTime();
    let fail = false;
    const skills = createLocalSkills(async () => {
      if (fail) throw timeout();
      return answer('vecadd');
    }, time.stopwatch);
    await skills.get();
    fail = true;
    await time.advance(LOCAL_SKILLS_STALE_MS);
    await expect(skills.get()).resolves.toEqual(answer('vecadd'));
    await time.advance(1);
    await expect(skills.get()).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
  });

  it('fails with the probe error when it never had an answer, and takes answers recorded elsewhere', async () => {
    const time = virtualTime();
    const skills = createLocalSkills(async () => {
      throw timeout();
    }, time.stopwatch);
    await expect(skills.get()).rejects.toThrow('did not answer');
    skills.record(answer('mlp'));
    await expect(skills.get()).resolves.toEqual(answer('mlp'));
  });

  it('never reuses an answer without skills: executors that start later are seen at once', async () => {
    const time = virtualTime();
    let running = false;
    const probe = jest.fn(async () => (running ? answer('vecadd') : answer()));
    const skills = createLocalSkills(probe, time.stopwatch);
    await expect(skills.get()).resolves.toEqual(answer());
    running = true;
    await expect(skills.get()).resolves.toEqual(answer('vecadd'));
    expect(probe).toHaveBeenCalledTimes(2);
  });

  it('does not fall back past a later answer that said no executor runs', async () => {
    const time = virtualTime();
    let mode: 'up' | 'gone' | 'stuck' = 'up';
    const skills = createLocalSkills(async () => {
      if (mode === 'stuck') throw timeout();
      return mode === 'up' ? answer('vecadd') : answer();
    }, time.stopwatch);
    await skills.get();
    mode = 'gone';
    await time.advance(LOCAL_SKILLS_FRESH_MS);
    await expect(skills.get()).resolves.toEqual(answer());
    mode = 'stuck';
    await expect(skills.get()).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
  });
});

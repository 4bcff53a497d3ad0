import { ErrorCode } from '@swarm/contracts';
import { CliError } from '../cli-error';
import { prepareTask } from './submit';

describe('submit - what is checked before anything is sent', () => {
  it('names an unknown skill before asking for --size or --input', async () => {
    await expect(prepareTask({ skill: 'nope' })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNKNOWN_SKILL, message: expect.stringMatching(/known skills: .*matmul/) });
  });

  it('asks for exactly one of --size and --input for a known skill', async () => {
    await expect(prepareTask({ skill: 'vecadd' })).rejects.toThrow(CliError);
    await expect(prepareTask({ skill: 'vecadd', size: 8, input: 'x.json' })).rejects.toMatchObject({ code: 'SWARM_BAD_ARGS', message: expect.stringMatching(/exactly one of/) });
  });
});

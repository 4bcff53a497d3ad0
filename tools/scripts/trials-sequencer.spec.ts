import { readdirSync } from 'node:fs';
import { join } from 'node:path';

interface Test {
  readonly path: string;
}
interface SequencerApi {
  new (options: unknown): { sort(tests: readonly Test[]): Test[] };
}
// Plain JavaScript (jest loads it by path), so typed here by hand.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: no types to import
const TrialsSequencer = require('./trials-sequencer') as SequencerApi;

const SKILLS = join(__dirname, '../../libs/skills/src');

describe('the trial suites’ order (trials-sequencer.js)', () => {
  const trials = readdirSync(SKILLS)
    .filter((f) => f.endsWith('.trials.spec.ts'))
    .map((f) => ({ path: join(SKILLS, f) }));
  const sorted = new TrialsSequencer({ contexts: [], globalConfig: {} }).sort(trials).map((t) => t.path.slice(SKILLS.length + 1));

  it('starts the heaviest first, so the two workers finish together', () => {
    expect(sorted.slice(0, 3)).toEqual(['soundness-matmul-limit.trials.spec.ts', 'completeness-matmul.trials.spec.ts', 'soundness-matmul.trials.spec.ts']);
    expect(sorted).toHaveLength(trials.length);
  });

  it('knows the weight of every trial suite there is (a new one needs its CPU seconds listed)', () => {
    // An unlisted suite sorts last; the listed lightest is soundness-mlp.
    expect(sorted.at(-1)).toBe('soundness-mlp.trials.spec.ts');
  });
});

'use strict';
/**
 * Orders the trial suites heaviest first, so that the two workers `npm test` gives them finish
 * together: left to itself, jest orders a fresh clone's suites by file size (it has no timings yet),
 * and a heavy suite started last keeps one worker busy alone at the end. Weights are each suite's CPU
 * seconds alone on the 2-core CI box (2026-12-05); a suite not listed goes last.
 */
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const WEIGHTS = {
  'soundness-matmul-limit.trials.spec.ts': 30.6,
  'completeness-matmul.trials.spec.ts': 19.9,
  'soundness-matmul.trials.spec.ts': 19.9,
  'soundness-mlp-limit.trials.spec.ts': 15.6,
  'kernel-verification.trials.spec.ts': 12.5,
  'completeness-matmul-limit.trials.spec.ts': 9.2,
  'completeness.trials.spec.ts': 8.9,
  'soundness-vecadd.trials.spec.ts': 6.0,
  'soundness-mlp.trials.spec.ts': 5.0,
};

const weight = (test) => WEIGHTS[path.basename(test.path)] ?? -1;

class TrialsSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => weight(b) - weight(a));
  }
}

module.exports = TrialsSequencer;

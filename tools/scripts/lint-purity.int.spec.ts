import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

interface LintMessage {
  ruleId: string | null;
  line: number;
  message: string;
}
interface PurityApi {
  pureProjectRoots: () => string[];
}
// Plain JavaScript (eslint.config.mjs loads it before anything is compiled), so typed here by hand.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: no types to import
const { pureProjectRoots } = require('./lint-purity') as PurityApi;

const REPO = join(__dirname, '../..');
const LEDGER_RULES = 'libs/credit/src/ledger-rules.ts';
const PIPELINE = 'libs/pipeline/src/run-task.ts';

/** Lints each `code` as if it were the file at `filePath` (repo-relative), with the repo's ESLint config. */
function lintAll(fixtures: Array<{ filePath: string; code: string }>): LintMessage[][] {
  const out = execFileSync(process.execPath, [join(__dirname, 'lint-fixtures.mjs')], { cwd: REPO, input: JSON.stringify(fixtures), encoding: 'utf8' });
  return (JSON.parse(out) as Array<{ messages: LintMessage[] }>).map((r) => r.messages);
}

const rulesOf = (messages: LintMessage[]) => messages.map((m) => m.ruleId);

/** The four violations the old regex check let through (issue 11), each at home in a pure library. */
const VIOLATIONS = [
  {
    what: 'randomUUID() in the pipeline',
    file: PIPELINE,
    code: "import { randomUUID } from 'node:crypto';\nexport const taskId = (): string => randomUUID();\n",
    rules: ['@typescript-eslint/no-restricted-imports'],
  },
  { what: 'new Date() in the pipeline', file: PIPELINE, code: 'export const startedAt = (): string => new Date().toISOString();\n', rules: ['no-restricted-globals'] },
  {
    what: 'performance.now() in the pipeline',
    file: PIPELINE,
    code: 'export const elapsedMs = (start: number): number => performance.now() - start;\n',
    rules: ['no-restricted-globals'],
  },
  {
    what: 'Date.now() + Math.random() in the ledger rules',
    file: LEDGER_RULES,
    code: 'export const escrowId = (): string => `e-${Date.now() + Math.random()}`;\n',
    rules: ['no-restricted-globals', 'no-restricted-properties'],
  },
];

/** The rest of the rule, one case each: [what, code, the rule that reports it]. */
const OTHER_VIOLATIONS = [
  ['an I/O module', "import { readFile } from 'node:fs/promises';\nexport const load = (p: string) => readFile(p);\n", '@typescript-eslint/no-restricted-imports'],
  ['an I/O module without the node: prefix', "import { connect } from 'net';\nexport const open = () => connect(4222);\n", '@typescript-eslint/no-restricted-imports'],
  ['the bus', "import { connect } from 'nats';\nexport const open = () => connect();\n", '@typescript-eslint/no-restricted-imports'],
  ['the store', "import { Level } from 'level';\nexport const open = (p: string) => new Level(p);\n", '@typescript-eslint/no-restricted-imports'],
  ['a namespace import of crypto', "import * as crypto from 'node:crypto';\nexport const h = () => crypto.createHash('sha256');\n", '@typescript-eslint/no-restricted-imports'],
  ['the global crypto', 'export const id = (): string => crypto.randomUUID();\n', 'no-restricted-globals'],
  ['a timer', 'export const later = (f: () => void) => setTimeout(f, 10);\n', 'no-restricted-globals'],
  ['a microtask', 'export const soon = (f: () => void) => queueMicrotask(f);\n', 'no-restricted-globals'],
  ['the environment', "export const home = (): string | undefined => process.env['HOME'];\n", 'no-restricted-globals'],
  ['process.exit', 'export const die = (): never => process.exit(1);\n', 'no-restricted-globals'],
  ['the clock through globalThis', 'export const now = (): number => globalThis.Date.now();\n', 'no-restricted-properties'],
  ['logging', 'export const note = (s: string): void => console.warn(s);\n', 'no-restricted-globals'],
  ['a dynamic import', "export const load = () => import('node:fs');\n", 'no-restricted-syntax'],
  ['require', "export const fs: unknown = require('node:fs');\n", 'no-restricted-syntax'],
] as const;

const ALLOWED_CODE = [
  "import { createHash } from 'node:crypto';",
  "export const digest = (s: string): string => createHash('sha256').update(s).digest('hex');",
  'export const day = (d: Date): number => d.getUTCDate();',
  'export const run = (process: (n: number) => number): number => process(1);',
  '',
].join('\n');

const baseName = (file: string) => file.split('/').pop() ?? '';
/** Where each piece of code is placed: as is in its pure library, then where the rules do not apply. */
const placements = (file: string) => ({
  adapter: `libs/credit-level/src/${baseName(file)}`,
  test: file.replace(/\.ts$/, '.spec.ts'),
  determinism: `libs/determinism/src/${baseName(file)}`,
});

const FIXTURES = [
  ...VIOLATIONS.flatMap(({ file, code }) => [file, ...Object.values(placements(file))].map((filePath) => ({ filePath, code }))),
  ...OTHER_VIOLATIONS.map(([, code]) => ({ filePath: LEDGER_RULES, code })),
  { filePath: LEDGER_RULES, code: ALLOWED_CODE },
];

describe('lint purity - pure core by Nx tag', () => {
  let reports: LintMessage[][];
  /** What the rules reported for `code` placed at `filePath` (one of FIXTURES). */
  const lintAs = (filePath: string, code: string): LintMessage[] => {
    const i = FIXTURES.findIndex((f) => f.filePath === filePath && f.code === code);
    if (i < 0) throw new Error(`not a fixture: ${filePath}`);
    return reports[i];
  };

  // One ESLint start for every fixture: starting it is most of the cost.
  beforeAll(() => {
    reports = lintAll(FIXTURES);
  }, 60_000);

  it('applies to the type:core projects read from package.json, except @swarm/determinism', () => {
    const roots = pureProjectRoots();
    expect(roots).toEqual(expect.arrayContaining(['libs/credit', 'libs/pipeline', 'libs/skills', 'libs/config']));
    expect(roots).not.toContain('libs/determinism');
    expect(roots).not.toContain('libs/credit-level');
    expect(roots).not.toContain('libs/bus');
  });

  it.each(VIOLATIONS)('reports $what', ({ file, code, rules }) => {
    expect(rulesOf(lintAs(file, code)).sort()).toEqual([...rules].sort());
  });

  it.each(VIOLATIONS)('leaves $what alone in an adapter, in a test and in libs/determinism', ({ file, code }) => {
    const { adapter, test, determinism } = placements(file);
    expect(lintAs(adapter, code)).toEqual([]);
    expect(lintAs(test, code)).toEqual([]);
    expect(lintAs(determinism, code)).toEqual([]);
  });

  it.each(OTHER_VIOLATIONS)('reports %s in pure code', (_what, code, rule) => {
    expect(rulesOf(lintAs(LEDGER_RULES, code))).toContain(rule);
  });

  it('allows what pure code needs: hashing, and Date or process as mere names', () => {
    expect(lintAs(LEDGER_RULES, ALLOWED_CODE)).toEqual([]);
  });
});

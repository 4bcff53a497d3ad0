#!/usr/bin/env node
// Lints sources that are not on disk as if they lay at the given paths, with this repo's
// eslint.config.mjs: `[{ filePath, code }]` as JSON on stdin, `[{ filePath, messages }]` on stdout.
// Type-aware rules are off (such files belong to no tsconfig); rules chosen by path, such as the
// purity rules of the type:core projects, apply as configured. lint-purity.int.spec.ts runs it in a
// child process because jest's module sandbox cannot load ESLint's ES-module config.
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { text } from 'node:stream/consumers';

const fixtures = JSON.parse(await text(process.stdin));
if (!Array.isArray(fixtures) || !fixtures.every((f) => typeof f?.filePath === 'string' && typeof f?.code === 'string')) {
  process.stderr.write('error SWARM_BAD_ARGS: expected [{ "filePath": string, "code": string }] on stdin\n');
  process.exit(2);
}
const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname, overrideConfig: [tseslint.configs.disableTypeChecked] });
const results = [];
for (const { filePath, code } of fixtures) {
  const [result] = await eslint.lintText(code, { filePath });
  results.push({ filePath, messages: result.messages.map(({ ruleId, line, column, message }) => ({ ruleId, line, column, message })) });
}
process.stdout.write(`${JSON.stringify(results)}\n`);

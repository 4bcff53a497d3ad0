#!/usr/bin/env node
// Regenerates libs/contracts/src/gen from proto/ with buf + ts-proto (both from node_modules, offline).
// Every mode first runs `buf lint` (proto/buf.yaml: STANDARD plus comments on every message, enum,
// service and rpc).
// `--check` (npm run proto:check, part of npm test) generates into a temp dir and fails when the
// committed code differs, so CI catches hand edits and forgotten regenerations; then it runs
// `buf breaking` against proto/breaking-baseline.json, the contracts of the last release.
// `--baseline` (npm run proto:baseline) rewrites that baseline from proto/ as it is now: run it when
// cutting a release, after which a change that breaks that release's wire or generated code fails.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const protoDir = path.join(root, 'proto');
const committed = path.join(root, 'libs/contracts/src/gen');
const buf = path.join(root, 'node_modules/.bin/buf');
const plugin = path.join(root, 'node_modules/.bin/protoc-gen-ts_proto');
const baseline = path.join(protoDir, 'breaking-baseline.json');
const check = process.argv.includes('--check');

function generate(outDir) {
  fs.rmSync(outDir, { recursive: true, force: true });
  const template = JSON.stringify({
    version: 'v2',
    plugins: [{ local: plugin, out: outDir, opt: readOptions() }],
  });
  execFileSync(buf, ['generate', '--template', template], { cwd: protoDir, stdio: 'inherit' });
}

function readOptions() {
  // buf.gen.yaml is the documented source of the options; keep one list.
  const text = fs.readFileSync(path.join(protoDir, 'buf.gen.yaml'), 'utf8');
  return [...text.matchAll(/^\s+- (\w+=\S+)$/gm)].map((m) => m[1]);
}

function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

/**
 * A buf image without source info (comments and positions do not affect compatibility), indented
 * so that moving the baseline shows as a readable diff.
 */
function writeBaseline() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-proto-'));
  try {
    const image = path.join(tmp, 'image.json');
    execFileSync(buf, ['build', '--exclude-source-info', '-o', image], { cwd: protoDir, stdio: 'inherit' });
    fs.writeFileSync(baseline, `${JSON.stringify(JSON.parse(fs.readFileSync(image, 'utf8')), null, 1)}\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`proto: wrote ${path.relative(root, baseline)}; commit it with the release`);
}

function checkBreaking() {
  try {
    execFileSync(buf, ['breaking', '--against', baseline], { cwd: protoDir, stdio: 'inherit' });
  } catch {
    console.error(`error SWARM_PROTO_BREAKING: proto/ breaks the last release's contracts (${path.relative(root, baseline)}), see above`);
    console.error('keep field numbers, names and types; add new fields and messages instead (or move the baseline at a major release)');
    process.exit(1);
  }
  console.log(`proto: no breaking change against ${path.relative(root, baseline)}`);
}

execFileSync(buf, ['lint'], { cwd: protoDir, stdio: 'inherit' });
if (process.argv.includes('--baseline')) {
  writeBaseline();
  process.exit(0);
}
if (!check) {
  generate(committed);
  console.log(`generated ${listFiles(committed).length} files into ${path.relative(root, committed)}`);
  process.exit(0);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-proto-'));
try {
  generate(tmp);
  const want = listFiles(tmp);
  const have = listFiles(committed);
  const stale = [...new Set([...want, ...have])].filter((f) => {
    const a = path.join(tmp, f);
    const b = path.join(committed, f);
    return !fs.existsSync(a) || !fs.existsSync(b) || !fs.readFileSync(a).equals(fs.readFileSync(b));
  });
  if (stale.length > 0) {
    console.error(`error SWARM_PROTO_STALE: generated code differs from proto/ in: ${stale.join(', ')}`);
    console.error('run `npm run proto:gen` and commit the result (never edit src/gen by hand)');
    process.exit(1);
  }
  console.log(`proto: ${want.length} generated files match proto/`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
checkBreaking();

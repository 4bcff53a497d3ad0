// Nx targets for every workspace project, inferred from its package.json (no per-project config,
// so a new package gets them at once): build, typecheck, lint and test, each cached with the inputs
// that decide its result. `nx run-many -t build` / `nx affected -t test` then work offline.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { OUT_DIR } = require('./workspace-projects');

const SCRIPTS = '{workspaceRoot}/tools/scripts';

/** Every compiled file's require paths depend on where all packages live (see build.js). */
function manifests(workspaceRoot) {
  const { workspaces = [] } = JSON.parse(fs.readFileSync(path.join(workspaceRoot, 'package.json'), 'utf8'));
  return ['{workspaceRoot}/package.json', ...workspaces.map((glob) => `{workspaceRoot}/${glob}/package.json`)];
}

function targets(workspaceRoot) {
  return {
    build: {
      command: 'node tools/scripts/build.js --project {projectRoot}',
      cache: true,
      dependsOn: ['^build'],
      inputs: [
        'production',
        ...manifests(workspaceRoot),
        '{workspaceRoot}/.swcrc',
        `${SCRIPTS}/build.js`,
        `${SCRIPTS}/build-freshness.js`,
        `${SCRIPTS}/workspace-projects.js`,
        { externalDependencies: ['@swc/core'] },
      ],
      outputs: [`{projectRoot}/${OUT_DIR}`],
    },
    typecheck: {
      command: 'node tools/scripts/typecheck.js {projectRoot}',
      cache: true,
      inputs: ['default', '^production', '{workspaceRoot}/tsconfig.base.json', `${SCRIPTS}/typecheck.js`, { externalDependencies: ['typescript'] }],
      outputs: [],
    },
    lint: {
      command: 'eslint --max-warnings=0 {projectRoot}',
      cache: true,
      // Type-aware rules read the types of the packages it imports; the purity rules follow the
      // nx.tags in every package.json.
      inputs: [
        'default',
        '^production',
        ...manifests(workspaceRoot),
        '{workspaceRoot}/eslint.config.mjs',
        '{workspaceRoot}/tsconfig.json',
        '{workspaceRoot}/tsconfig.base.json',
        `${SCRIPTS}/lint-purity.js`,
        `${SCRIPTS}/lint-fingerprints.js`,
        `${SCRIPTS}/workspace-projects.js`,
        { externalDependencies: ['eslint', '@eslint/js', 'typescript-eslint', 'globals', 'typescript'] },
      ],
      outputs: [],
    },
    test: {
      // The trailing slash keeps libs/credit from also running libs/credit-level's tests.
      command: 'jest {projectRoot}/ --passWithNoTests',
      cache: true,
      // Tests that spawn services or `swarm` run the compiled apps this project depends on.
      dependsOn: ['^build'],
      inputs: [
        'default',
        '^production',
        '{workspaceRoot}/jest.config.js',
        '{workspaceRoot}/.swcrc',
        `${SCRIPTS}/jest-global-setup.js`,
        { externalDependencies: ['jest', '@swc/jest', 'nats'] },
      ],
      outputs: [],
    },
  };
}

const createNodes = [
  '{libs,apps,tools}/*/package.json',
  (files, _options, context) => files.map((file) => [file, { projects: { [path.dirname(file)]: { targets: targets(context.workspaceRoot) } } }]),
];

module.exports = { name: 'swarm-targets', createNodes, createNodesV2: createNodes };

#!/usr/bin/env node
// Packs what the backend bench (tools/bench/src/backend-bench.ts) needs to run on a machine with a GPU
// and no network: this Node binary, the compiled libraries, only the npm packages their code loads
// (the `webgpu` package's Dawn build for linux-x64 alone) and the Vulkan loader's Debian package.
// Everything lands in .gpu-check/ (git-ignored, well under 64 MiB); on the GPU machine, from the
// repository root, `bash .gpu-check/run.sh [--quick] [--only webgpu,webasm]` unpacks it and runs.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ensureCompiled } = require('../../bin/ensure-compiled');

const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, '.gpu-check');
/** What the bench's main thread and its kernel workers load from node_modules (read off require.cache). */
const ROOTS = ['gpu.js', 'webgpu', 'piscina', 'pino', '@bufbuild/protobuf', '@opentelemetry/api'];
/** gpu.js's optional headless-gl is never loaded by the webgpu, webasm or cpu backends. */
const SKIP = new Set(['gl']);
/** The Vulkan loader, and the glvnd libraries the NVIDIA ICD (libGLX_nvidia.so.0) links against. */
const DEBS = ['libvulkan1', 'libglvnd0', 'libglx0', 'libgl1', 'libegl1', 'libopengl0', 'libgles2'];
/** X11 client libraries the ICD may also link against: unpacked aside (/tmp/xlibs), not over the system. */
const SIDE_DEBS = ['libx11-6', 'libxext6', 'libxcb1', 'libxau6', 'libxdmcp6'];
const RUN_SH = `#!/bin/bash
# Made by tools/scripts/pack-gpu-check.js; run from the repository root on the GPU machine.
set -euo pipefail
here=.gpu-check
for f in "$here"/debs/*.deb; do dpkg -x "$f" /; done
ldconfig
for f in "$here"/side-debs/*.deb; do dpkg -x "$f" /tmp/xlibs; done
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/tmp/xlibs/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The NVIDIA driver's Vulkan ICD where the device image keeps it (see the device tool's README).
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; break; fi
done
xz -dc "$here/node.xz" > /tmp/node && chmod +x /tmp/node
rm -rf node_modules && tar -xJf "$here/node_modules.tar.xz"
(cd "$here/dist" && find . -type d -name dist -prune | while read -r d; do mkdir -p "../../$(dirname "$d")" && rm -rf "../../$d" && cp -a "$d" "../../$d"; done)
/tmp/node --version
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
# What the ICD's library still lacks, if anything.
icd_lib=$(sed -n 's/.*"library_path": *"\\([^"]*\\)".*/\\1/p' "\${VK_DRIVER_FILES:-/dev/null}" | head -1)
echo "Vulkan ICD: \${VK_DRIVER_FILES:-none} -> \${icd_lib:-?}"
for d in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64; do
  if [ -n "$icd_lib" ] && [ -f "$d/$icd_lib" ]; then echo "  $d/$icd_lib"; ldd "$d/$icd_lib" | grep 'not found' || true; fi
done
# Which adapter Dawn finds, if any, before gpu.js is asked to use it.
/tmp/node --input-type=module -e "import { create, globals } from './node_modules/webgpu/index.js';
Object.assign(globalThis, globals);
const a = await create([]).requestAdapter();
const i = a?.info;
console.log('WebGPU adapter:', i ? [i.vendor, i.architecture, i.device, i.description].join(' / ') : 'none');
process.exit(0);" || true
exec /tmp/node tools/bench/dist/backend-bench.js "$@"
`;

/** Node's lookup, by hand: `require.resolve('x/package.json')` fails where x's exports omit it. */
function packageDir(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (dir === path.dirname(dir)) throw new Error(`${name} is not installed`);
  }
}

/** Each package in ROOTS and everything it depends on, as directories under node_modules. */
function closure() {
  const seen = new Map();
  const visit = (name, from) => {
    if (SKIP.has(name)) return;
    let dir;
    try {
      dir = packageDir(name, from);
    } catch {
      return; // an optional dependency this machine does not have
    }
    if (seen.has(dir)) return;
    seen.set(dir, name);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep, dir);
  };
  for (const name of ROOTS) visit(name, ROOT);
  return [...seen.keys()];
}

function copyPackage(dir) {
  const rel = path.relative(ROOT, dir);
  const target = path.join(OUT, rel);
  fs.cpSync(dir, target, {
    recursive: true,
    dereference: true,
    // webgpu ships Dawn for five platforms (130 MB); the GPU machine is linux-x64.
    filter: (src) => !/[\\/]webgpu[\\/]dist[\\/](?!linux-x64)[^\\/]+$/.test(src),
  });
}

function main() {
  ensureCompiled();
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(path.join(OUT, 'debs'), { recursive: true });
  for (const dir of closure()) copyPackage(dir);
  // Compressed: Dawn alone is 21 MB, and the working tree travels in at most 64 MiB.
  execFileSync('tar', ['-cJf', 'node_modules.tar.xz', 'node_modules'], { cwd: OUT, env: { ...process.env, XZ_OPT: '-T0 -6' } });
  fs.rmSync(path.join(OUT, 'node_modules'), { recursive: true });
  for (const group of ['libs', 'tools']) {
    for (const project of fs.readdirSync(path.join(ROOT, group))) {
      const dist = path.join(ROOT, group, project, 'dist');
      if (fs.existsSync(dist)) fs.cpSync(dist, path.join(OUT, 'dist', group, project, 'dist'), { recursive: true });
    }
  }
  execFileSync('sh', ['-c', `xz -T0 -6 -c "${process.execPath}" > "${path.join(OUT, 'node.xz')}"`]);
  // The Vulkan loader Dawn opens; the driver's ICD is on the GPU machine already, but without glvnd the
  // loader finds it and still reports "no drivers".
  const lists = fs.mkdtempSync('/tmp/gpu-check-apt-');
  const apt = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', `-oDir::State::Lists=${lists}`];
  fs.mkdirSync(path.join(lists, 'partial'));
  execFileSync('apt-get', [...apt, 'update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', [...apt, 'download', '-qq', ...DEBS], { cwd: path.join(OUT, 'debs'), stdio: 'inherit' });
  fs.mkdirSync(path.join(OUT, 'side-debs'));
  execFileSync('apt-get', [...apt, 'download', '-qq', ...SIDE_DEBS], { cwd: path.join(OUT, 'side-debs'), stdio: 'inherit' });
  fs.rmSync(lists, { recursive: true, force: true });
  fs.writeFileSync(path.join(OUT, 'run.sh'), RUN_SH, { mode: 0o755 });
  const size = execFileSync('du', ['-sh', OUT], { encoding: 'utf8' }).trim();
  process.stdout.write(`packed ${size}; on the GPU machine: bash .gpu-check/run.sh [--quick] [--only webgpu,webasm,cpu]\n`);
}

main();

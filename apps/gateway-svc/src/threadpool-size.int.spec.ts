/**
 * threadpool-size.ts raises libuv's thread pool before gateway-svc starts it: five calls stuck in
 * the pool (here opens of FIFOs no one writes, as a lookup stuck in the system resolver would be)
 * leave a file read its thread. The child runs the built module, as the service does.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { tempDir } from '@swarm/testing';

const BUILT = join(__dirname, '../dist/threadpool-size.js');

function withoutPoolSize(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['UV_THREADPOOL_SIZE'];
  return env;
}

async function fileReadWithFiveStuck(dir: string, preload: string[]): Promise<string> {
  const fifos = [1, 2, 3, 4, 5].map((i) => join(dir, `f${i}`));
  execFileSync('mkfifo', fifos);
  await writeFile(join(dir, 'plain'), 'x');
  const script = `const fs = require('node:fs/promises');
    for (const f of ${JSON.stringify(fifos)}) fs.open(f, 'r').catch(() => {});
    const t = setTimeout(() => console.log('stuck'), 1000);
    fs.readFile(${JSON.stringify(join(dir, 'plain'))}).then(() => { clearTimeout(t); console.log('read'); });`;
  const child = spawn(process.execPath, [...preload, '-e', script], { env: withoutPoolSize(), stdio: ['ignore', 'pipe', 'inherit'] });
  const said = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  // Let the stuck opens go (a writer each, one after another), so the child can end. From a shell:
  // opened here, each writer took a thread of this process's own pool, which lookups left stuck by
  // specs before it in this jest worker could hold (CI: the test hung its 20 s).
  await promisify(execFile)('sh', ['-c', 'for f in "$@"; do : > "$f"; done', 'sh', ...fifos]);
  await new Promise((resolve) => child.once('exit', resolve));
  return said;
}

describe('gateway-svc - libuv thread pool size', () => {
  it('reads a file with five pool calls stuck, where the default pool of 4 could not', async () => {
    const [a, b] = await Promise.all([tempDir('swarm-pool-'), tempDir('swarm-pool-')]);
    try {
      expect({ default: await fileReadWithFiveStuck(a.path, []), raised: await fileReadWithFiveStuck(b.path, ['-r', BUILT]) }).toEqual({ default: 'stuck', raised: 'read' });
    } finally {
      await Promise.all([a.remove(), b.remove()]);
    }
  }, 20_000);
});

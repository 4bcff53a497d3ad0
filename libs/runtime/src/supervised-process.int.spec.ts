import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_BAD_CONFIG } from './exit-codes';
import type { ExitInfo } from './supervised-process';
import { RESTART_DELAY_MS, startSupervised } from './supervised-process';

/** A child that writes `lines` numbered JSON lines of about `width` characters, then exits 0. */
function writer(lines: number, width: number): string[] {
  return ['-e', `for (let i = 0; i < ${lines}; i++) process.stdout.write(JSON.stringify({ i, pad: 'p'.repeat(${width}) }) + '\\n');`];
}

describe('supervised process - log file', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-supervised-'));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  const run = async (logFile: string, args: string[], logMaxBytes?: number, niceness?: number) => {
    let exited!: () => void;
    const done = new Promise<void>((resolve) => (exited = resolve));
    const p = startSupervised({ name: 'writer', command: process.execPath, args, env: {}, logFile, logMaxBytes, niceness, maxRestarts: 0, onExit: () => exited() });
    await done;
    await p.stop(1_000);
  };

  it('appends to the log of an earlier run instead of truncating it', async () => {
    const logFile = join(dir, 'svc.log');
    await writeFile(logFile, '{"msg":"from the run before"}\n');
    await run(logFile, writer(3, 10));
    const lines = (await readFile(logFile, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('{"msg":"from the run before"}');
    expect(lines.slice(1).map((l) => JSON.parse(l) as { msg?: string; i?: number })).toEqual([
      expect.objectContaining({ msg: 'supervisor: started', service: 'writer' }),
      { i: 0, pad: 'p'.repeat(10) },
      { i: 1, pad: 'p'.repeat(10) },
      { i: 2, pad: 'p'.repeat(10) },
    ]);
  });

  it('rotates at the size cap into one .1 file, keeping lines whole and the newest lines in the log', async () => {
    const logFile = join(dir, 'svc.log');
    const cap = 64 * 1024;
    // ~1 MB written through a 64 KiB cap: many rotations, at most two files left.
    await run(logFile, writer(5_000, 200), cap);
    const current = await readFile(logFile, 'utf8');
    const older = await readFile(`${logFile}.1`, 'utf8');
    // One pipe chunk (64 KiB) may cross the cap before the cut.
    expect((await stat(logFile)).size).toBeLessThanOrEqual(2 * cap);
    expect((await stat(`${logFile}.1`)).size).toBeLessThanOrEqual(2 * cap);
    // Every line parses (none torn); the supervisor's own marker lines carry no `i`.
    const parse = (text: string) =>
      text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { i?: number })
        .filter((l): l is { i: number } => l.i !== undefined);
    const newer = parse(current);
    const old = parse(older);
    expect(newer.at(-1)?.i).toBe(4_999);
    // Consecutive: nothing lost or torn between the two files.
    const all = [...old, ...newer].map((l) => l.i);
    expect(all).toEqual(Array.from({ length: all.length }, (_, k) => 5_000 - all.length + k));
  });

  it('runs a service at the niceness asked for', async () => {
    const logFile = join(dir, 'svc.log');
    await run(logFile, ['-e', "setTimeout(() => console.log(JSON.stringify({ niceness: require('node:os').getPriority() })), 200)"], undefined, 10);
    const lines = (await readFile(logFile, 'utf8')).trim().split('\n');
    expect(JSON.parse(lines.at(-1) as string)).toEqual({ niceness: 10 });
  });
});

describe('supervised process - restarts', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-supervised-'));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('never gives up on a crash loop: it keeps restarting, backing off', async () => {
    const exits: ExitInfo[] = [];
    let fourth!: () => void;
    const done = new Promise<void>((resolve) => (fourth = resolve));
    const p = startSupervised({
      name: 'crasher',
      command: process.execPath,
      args: ['-e', 'process.exit(1)'],
      env: {},
      logFile: join(dir, 'crasher.log'),
      maxRestarts: 1,
      onExit: (e) => {
        exits.push(e);
        if (exits.length === 4) fourth();
      },
    });
    await done;
    await p.stop(1_000);
    expect(exits.map((e) => [e.restarting, e.crashLoop, e.delayMs])).toEqual([
      [true, false, RESTART_DELAY_MS],
      [true, true, RESTART_DELAY_MS * 2],
      [true, true, RESTART_DELAY_MS * 4],
      [true, true, RESTART_DELAY_MS * 8],
    ]);
    expect(p.restarts()).toBe(4);
  });

  it('does not restart a configuration error (exit 78): restarting cannot fix it', async () => {
    let exit!: (e: ExitInfo) => void;
    const exited = new Promise<ExitInfo>((resolve) => (exit = resolve));
    const p = startSupervised({
      name: 'misconfigured',
      command: process.execPath,
      args: ['-e', `process.exit(${EXIT_BAD_CONFIG})`],
      env: {},
      logFile: join(dir, 'bad.log'),
      onExit: (e) => exit(e),
    });
    expect(await exited).toMatchObject({ code: EXIT_BAD_CONFIG, restarting: false });
    await p.stop(1_000);
    expect(p.restarts()).toBe(0);
  });
});

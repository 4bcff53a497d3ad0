import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { virtualTime } from '@swarm/determinism';
import type { AttemptReport } from '@swarm/scoring';
import { createTrustBook } from '@swarm/scoring';
import { silentLogger } from '@swarm/telemetry';
import type { TempDir } from '@swarm/testing';
import { tempDir, waitFor } from '@swarm/testing';
import { loadTrust, MAX_TRUST_FILE_BYTES, startTrustSaver, TRUST_FILE, TRUST_SAVE_MS } from './trust-file';

const A = 'a'.repeat(64);
const WALL = 1_700_000_000_000;
const DAY = 86_400_000;
const ok = (nodeId: string): AttemptReport => ({ taskId: 't', skill: 'vecadd', candidate: { nodeId, local: false }, outcome: 'ok', ms: 1, errorCode: undefined });

describe('router - trust kept across restarts', () => {
  let dir: TempDir;
  let path: string;
  beforeEach(async () => {
    dir = await tempDir('swarm-trust-file-');
    path = join(dir.path, TRUST_FILE);
  });
  afterEach(() => dir.remove());

  it('writes the book only when attempts changed it, at its interval and at stop; a new book reads it back, decayed by the time between', async () => {
    const time = virtualTime(WALL);
    const book = createTrustBook();
    const saver = startTrustSaver({ book, path, stopwatch: time.stopwatch, clock: time.clock, scheduler: time.scheduler, log: silentLogger() });
    await time.advance(TRUST_SAVE_MS);
    // Nothing learnt yet: nothing written (the next timer is set once the empty save has settled).
    await new Promise((resolve) => setImmediate(resolve));
    await expect(readdir(dir.path)).resolves.toEqual([]);
    for (let i = 0; i < 5; i++) book.record(ok(A), time.stopwatch.now());
    saver.changed();
    await time.advance(TRUST_SAVE_MS);
    // The write itself is real file I/O, not virtual time.
    const first = JSON.parse(await waitFor(() => readFile(path, 'utf8'), { what: 'the first trust file' })) as { version: number; nodes: unknown[] };
    expect(first).toEqual({
      version: 1,
      nodes: [{ nodeId: A, trust: book.trustOf(A, time.stopwatch.now()), verified: 5, rejected: 0, unprovenFailures: 0, atMs: time.clock.now() }],
    });
    book.record(ok(A), time.stopwatch.now());
    saver.changed();
    await saver.stop();
    // No temporary file left behind.
    expect(await readdir(join(dir.path, 'router'))).toEqual(['trust.json']);

    const later = virtualTime(time.clock.now() + DAY);
    const next = createTrustBook();
    expect(await loadTrust(next, path, later, silentLogger())).toEqual({ restored: 1, skipped: 0 });
    expect(next.trustOf(A, later.stopwatch.now())).toBeCloseTo(book.trustOf(A, time.stopwatch.now()) * 0.95, 12);
    expect(next.list(0, 1)[0]).toMatchObject({ verified: 6 });
  });

  it('starts everyone at zero without a file, and sets aside a file that is not JSON, of another version, or too big', async () => {
    const time = virtualTime(WALL);
    expect(await loadTrust(createTrustBook(), path, time, silentLogger())).toEqual({ restored: 0, skipped: 0 });
    await mkdir(join(dir.path, 'router'), { recursive: true });
    for (const content of [
      '{"version":1,"nodes":',
      JSON.stringify({ version: 2, nodes: [] }),
      'null',
      JSON.stringify({ version: 1, nodes: {} }),
      ' '.repeat(MAX_TRUST_FILE_BYTES + 1),
    ]) {
      await writeFile(path, content);
      const book = createTrustBook();
      expect(await loadTrust(book, path, time, silentLogger())).toEqual({ restored: 0, skipped: 0 });
      expect(book.size()).toEqual({ trusted: 0, untrusted: 0 });
      expect((await readdir(join(dir.path, 'router'))).sort()).toEqual(['trust.json.unreadable']);
      expect(await readFile(`${path}.unreadable`, 'utf8')).toBe(content);
    }
  });

  it('restores the entries that hold and skips the others', async () => {
    const time = virtualTime(WALL);
    await mkdir(join(dir.path, 'router'), { recursive: true });
    const good = { nodeId: A, trust: 0.4, verified: 2, rejected: 1, atMs: WALL };
    await writeFile(path, JSON.stringify({ version: 1, nodes: [good, { ...good, nodeId: 'x' }, { ...good, nodeId: 'b'.repeat(64), trust: -1 }, 7] }));
    const book = createTrustBook();
    expect(await loadTrust(book, path, time, silentLogger())).toEqual({ restored: 1, skipped: 3 });
    expect(book.trustOf(A, 0)).toBe(0.4);
  });
});

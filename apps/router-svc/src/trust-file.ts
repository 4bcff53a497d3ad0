/**
 * The router's trust in other nodes, kept across restarts: `<data-dir>/router/trust.json`, written
 * every TRUST_SAVE_MS while attempts changed it and once more at stop, read back at start
 * (TrustBook.snapshot / restore: each τ decays by the wall time the router was down). A write is a
 * new temporary file, synced, renamed over the old one (@swarm/runtime kept-file.ts), so a crash
 * leaves the last whole file. The file is the
 * router's own; still, what is read from it is checked entry by entry, and a file that is too big,
 * not JSON or of another version is set aside (logged) and the router starts everyone at zero, as a
 * new router does: trust is learned again, never trusted blindly.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Scheduler, Stopwatch, WallClock } from '@swarm/determinism';
import { setFileAside, startKeptFile } from '@swarm/runtime';
import type { TrustBook, TrustSnapshotEntry } from '@swarm/scoring';
import type { Logger } from '@swarm/telemetry';

/** Under the node's data dir, beside the kept proofs. */
export const TRUST_FILE = join('router', 'trust.json');
export const TRUST_SAVE_MS = 30_000;
/** The book holds at most 10,000 nodes of ~140 bytes each; room to spare, and a bound on what is read. */
export const MAX_TRUST_FILE_BYTES = 4 * 1024 * 1024;
const VERSION = 1;

interface TrustFile {
  readonly version: number;
  readonly nodes: readonly TrustSnapshotEntry[];
}

/** Restores the kept trust into `book`; answers the counts (0 and 0 when there was no file). */
export async function loadTrust(
  book: Pick<TrustBook, 'restore'>,
  path: string,
  time: { readonly stopwatch: Stopwatch; readonly clock: WallClock },
  log: Logger,
): Promise<{ restored: number; skipped: number }> {
  let text: string;
  try {
    const size = (await stat(path)).size;
    if (size > MAX_TRUST_FILE_BYTES) return setAside(path, `${size} bytes, over the ${MAX_TRUST_FILE_BYTES} a trust file may have`, log);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err, path }, 'the kept trust file could not be read; every node starts at zero trust');
    return { restored: 0, skipped: 0 };
  }
  let file: Partial<TrustFile>;
  try {
    file = JSON.parse(text) as Partial<TrustFile>;
  } catch {
    return setAside(path, 'not JSON', log);
  }
  if (typeof file !== 'object' || file === null || file.version !== VERSION || !Array.isArray(file.nodes)) {
    return setAside(path, `not a version ${VERSION} trust file`, log);
  }
  return book.restore(file.nodes, time.stopwatch.now(), time.clock.now());
}

/** Sets an unreadable file aside and starts from zero. */
async function setAside(path: string, why: string, log: Logger): Promise<{ restored: number; skipped: number }> {
  await setFileAside(path, why, log, 'the kept trust file could not be read; it was set aside and every node starts at zero trust');
  return { restored: 0, skipped: 0 };
}

export interface TrustSaver {
  /** An attempt changed the book: the next save writes it. */
  changed(): void;
  /** Writes the book now when it changed since the last write; no more timed writes after. */
  stop(): Promise<void>;
}

export interface TrustSaverDeps {
  readonly book: Pick<TrustBook, 'snapshot'>;
  readonly path: string;
  readonly stopwatch: Stopwatch;
  readonly clock: WallClock;
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  readonly log: Logger;
  /** Default TRUST_SAVE_MS. */
  readonly intervalMs?: number;
}

export function startTrustSaver(deps: TrustSaverDeps): TrustSaver {
  let changes = 0;
  const file = startKeptFile({
    path: deps.path,
    version: () => changes,
    encode: () => new TextEncoder().encode(JSON.stringify({ version: VERSION, nodes: deps.book.snapshot(deps.stopwatch.now(), deps.clock.now()) } satisfies TrustFile)),
    scheduler: deps.scheduler,
    intervalMs: deps.intervalMs ?? TRUST_SAVE_MS,
    log: deps.log,
    failed: 'could not keep the trust in other nodes; will try again',
  });
  return {
    changed() {
      changes += 1;
    },
    stop: () => file.stop(),
  };
}

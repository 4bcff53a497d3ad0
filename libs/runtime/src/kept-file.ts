/**
 * A file a service keeps its state in across restarts (the router's trust, credit-svc's payers'
 * chains): written whole (replaceFile: a new temporary file, synced, renamed over the last) every
 * `intervalMs` while the state changed (its `version` moved since the last write) and once more at
 * stop, or at once when asked. A write that fails is logged and tried again at the next; losing one
 * costs only what changed since the last. A file the service cannot use is set aside (setFileAside).
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CancelTimer, Scheduler } from '@swarm/determinism';
import { replaceFile } from '@swarm/identity';
import type { Logger } from '@swarm/telemetry';

export interface KeptFile {
  /** Writes now when the state changed since the last write (not left to the next timed write). */
  saveNow(): Promise<void>;
  /** Writes once more when the state changed since the last write; no more timed writes after. */
  stop(): Promise<void>;
}

export interface KeptFileDeps {
  readonly path: string;
  /** Moves whenever the state changes; what it is at start is taken as written already. */
  readonly version: () => number;
  /** The file's bytes for the state now: taken at once, as the state goes on changing. */
  readonly encode: () => Uint8Array;
  readonly scheduler: Pick<Scheduler, 'setTimer'>;
  readonly intervalMs: number;
  readonly log: Logger;
  /** The warning a failed write logs. */
  readonly failed: string;
}

export function startKeptFile(deps: KeptFileDeps): KeptFile {
  // What the file holds already: the state it was read from.
  let saved: number | undefined = deps.version();
  let stopped = false;
  let timer: CancelTimer | undefined;
  let writing: Promise<void> = Promise.resolve();

  const save = (): Promise<void> => {
    const now = deps.version();
    if (now === saved) return writing;
    saved = now;
    const bytes = deps.encode();
    writing = writing
      .then(async () => {
        await mkdir(dirname(deps.path), { recursive: true });
        await replaceFile(deps.path, bytes);
      })
      .catch((err: unknown) => {
        // Tried again at the next write.
        saved = undefined;
        deps.log.warn({ err, path: deps.path }, deps.failed);
      });
    return writing;
  };
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    void save().then(() => {
      if (!stopped) timer = deps.scheduler.setTimer(deps.intervalMs, tick);
    });
  };
  timer = deps.scheduler.setTimer(deps.intervalMs, tick);
  return {
    saveNow: () => (stopped ? writing : save()),
    async stop() {
      stopped = true;
      timer?.();
      timer = undefined;
      await writing;
      await save();
    },
  };
}

/** Moves a file the service cannot use to `<path>.unreadable` (kept for a look, never read again) and logs why, and what follows. */
export async function setFileAside(path: string, why: string, log: Logger, consequence: string): Promise<void> {
  const aside = `${path}.unreadable`;
  await rename(path, aside).catch((err: unknown) => log.warn({ err, path }, 'could not set an unreadable kept file aside'));
  log.warn({ path, aside, why }, consequence);
}

/** What reading a kept file found: its bytes, no file, a file that cannot be used (and why), or one that could not be read. */
export type KeptFileRead = { readonly bytes: Uint8Array } | { readonly none: true } | { readonly unusable: string } | { readonly failed: unknown };

/**
 * Reads a kept file whole, changing nothing (a service may read before it holds its store's lock:
 * another process may own the folder). Opened without following a link, and read only when it is a
 * plain file (a FIFO would hang the start) of at most `maxBytes`; else `unusable`, for the caller to
 * set aside (setFileAside) once the folder is its own.
 */
export async function readKeptFile(path: string, maxBytes: number): Promise<KeptFileRead> {
  try {
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const info = await file.stat();
      if (!info.isFile()) return { unusable: 'it is no plain file' };
      if (info.size > maxBytes) return { unusable: `${info.size} bytes, over the ${maxBytes} it may have` };
      return { bytes: await file.readFile() };
    } finally {
      await file.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { none: true };
    if (code === 'ELOOP') return { unusable: 'it is a symbolic link' };
    return { failed: err };
  }
}

/** Temporary files (`<file>.<pid>.tmp`, replaceFile) of writes a crash of another process cut short: nothing reads them. */
export async function removeTemporaries(path: string, log: Logger): Promise<void> {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'))) {
    await rm(join(dirname(path), name), { force: true }).catch((err: unknown) => log.warn({ err, name }, 'could not remove a temporary file a crash left'));
  }
}

/**
 * A file a service keeps its state in across restarts (the router's trust, credit-svc's payers'
 * chains): written whole (replaceFile: a new temporary file, synced, renamed over the last) every
 * `intervalMs` while the state changed (its `version` moved since the last write) and once more at
 * stop, or at once when asked. A write that fails is logged and tried again at the next; losing one
 * costs only what changed since the last. A file the service cannot use is set aside (setFileAside).
 */
import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
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
